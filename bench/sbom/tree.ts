/**
 * The benchmark's tree, laid out as a Debian 12 root: the osv-scanner lockfile fixtures under
 * `lockfiles/`, a real host's dpkg status at `var/lib/dpkg/status` with a bookworm
 * `os-release` and `debian_version` (the status comes from a Debian 12 machine), and a web
 * app under `var/www/html` (where web servers and cdxgen's rootfs mode look) installed from
 * the npm registry with `npm install` (install scripts off), so its `node_modules` and
 * `package-lock.json` are real.
 */

/** The app's direct dependencies, pinned: with their own, about 470 packages. */
export const APP_PACKAGES = [
  "express@4.19.2",
  "lodash@4.17.20",
  "axios@1.6.0",
  "webpack@5.90.0",
  "eslint@8.57.0",
  "jest@29.7.0",
];

const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** Runs a command to completion, failing with its output. */
export async function run(
  argv: string[],
  opts: { cwd?: string; timeoutMs: number; env?: Record<string, string> },
): Promise<string> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs),
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(
      `${argv.join(" ")} failed (${out.code}):\n${dec.decode(out.stderr).slice(-2000)}`,
    );
  }
  return dec.decode(out.stdout);
}

/** Lays the tree out under `root`; returns the number of packages npm installed. */
export async function buildTree(
  root: string,
  data: string,
  npmTimeoutMs: number,
): Promise<{ npmPackages: number }> {
  await copyTree(`${data}/lockfiles/osv-scanner/fixtures`, `${root}/lockfiles`);
  await Deno.mkdir(`${root}/var/lib/dpkg`, { recursive: true });
  await Deno.copyFile(`${data}/installed/host-bookworm/status`, `${root}/var/lib/dpkg/status`);
  await Deno.mkdir(`${root}/etc`, { recursive: true });
  await Deno.writeTextFile(`${root}/etc/os-release`, OS_RELEASE);
  // trivy (cdxgen's OS scanner) recognises Debian by this file, not by os-release.
  await Deno.writeTextFile(`${root}/etc/debian_version`, "12.11\n");
  const app = `${root}/var/www/html`;
  await Deno.mkdir(app, { recursive: true });
  await Deno.writeTextFile(
    `${app}/package.json`,
    JSON.stringify({ name: "bench-web-app", version: "1.0.0", private: true }, null, 2),
  );
  await run(
    ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", ...APP_PACKAGES],
    { cwd: app, timeoutMs: npmTimeoutMs },
  );
  const lock = JSON.parse(await Deno.readTextFile(`${app}/package-lock.json`)) as {
    packages: Record<string, unknown>;
  };
  return { npmPackages: Object.keys(lock.packages).filter((k) => k !== "").length };
}

/** Installs cdxgen `version` from the npm registry into `dir`; returns its executable. */
export async function installCdxgen(
  dir: string,
  version: string,
  timeoutMs: number,
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/package.json`, '{"name":"cdxgen-bench","private":true}');
  await run(
    [
      "npm",
      "install",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      `@cyclonedx/cdxgen@${version}`,
    ],
    { cwd: dir, timeoutMs },
  );
  return `${dir}/node_modules/.bin/cdxgen`;
}
