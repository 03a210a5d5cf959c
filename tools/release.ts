/**
 * `deno task release`: write the release archives `install.sh` downloads.
 *
 * Usage: deno task release [--target x86_64-unknown-linux-gnu] [--target aarch64-unknown-linux-gnu]
 *          [--binary PATH] [--out-dir dist] [--version 0.1.0] [--unit config/ironpost.service]
 *          [--config config/ironpost.toml] [--profile NAME]
 *
 * For each target it writes `<out-dir>/ironpost-<version>-<target>.tar.gz` holding
 *
 *   ironpost                the executable (0755)
 *   ironpost.service        the systemd unit, from `config/ironpost.service` (when it exists)
 *   ironpost.toml           the default config, from `config/ironpost.toml`
 *   LICENSE                 the project's licence (when the repository has one)
 *   THIRD_PARTY_LICENSES    the npm packages in the binary, their versions and licences
 *
 * and then `<out-dir>/SHA256SUMS` (`sha256sum` format) over every `ironpost-<version>-*.tar.gz`
 * in `<out-dir>` (both targets when they were built one after the other). The archives are reproducible: names sorted, mtime SOURCE_DATE_EPOCH (else 0),
 * owner and group root (numeric), modes 0755 for the executable and 0644 for the rest, ustar
 * format, gzip without a name or timestamp.
 *
 * The executable comes from `deno task compile --target <target>` (which honours DENORT_BIN:
 * `deno compile` downloads its runtime otherwise), or from `--binary PATH`, a prebuilt
 * executable (one target only). Without `--target` the release is built for both targets, or,
 * with `--binary`, for this machine's architecture.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

export const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;
export type Target = typeof TARGETS[number];

const ROOT = fileURLToPath(new URL("../", import.meta.url));

class ReleaseError extends Error {}

function fail(message: string): never {
  throw new ReleaseError(message);
}

function hostTarget(): Target {
  return Deno.build.arch === "aarch64" ? "aarch64-unknown-linux-gnu" : "x86_64-unknown-linux-gnu";
}

async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: opts.cwd, stdin: "null" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    fail(`${cmd} ${args.join(" ")} exited with ${out.code}${err ? `: ${err}` : ""}`);
  }
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where Deno keeps the npm packages it downloaded (DENO_DIR, else the XDG cache). */
function npmCacheDir(): string | undefined {
  const denoDir = Deno.env.get("DENO_DIR") ??
    (Deno.env.get("XDG_CACHE_HOME")
      ? `${Deno.env.get("XDG_CACHE_HOME")}/deno`
      : Deno.env.get("HOME")
      ? `${Deno.env.get("HOME")}/.cache/deno`
      : undefined);
  return denoDir ? `${denoDir}/npm/registry.npmjs.org` : undefined;
}

interface NpmPackage {
  name: string;
  version: string;
  direct: boolean;
}

/** `name@version` → [name, version], scoped names included; lock keys may carry `_peer@x`. */
function splitSpec(spec: string): [string, string] {
  const at = spec.indexOf("@", 1);
  return [spec.slice(0, at), spec.slice(at + 1).split("_")[0]];
}

/**
 * The npm packages of deno.json's imports, with what they pull in according to deno.lock
 * (when the lock has them), sorted by name.
 */
async function npmPackages(): Promise<NpmPackage[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    imports?: Record<string, string>;
  };
  const direct = Object.values(denoJson.imports ?? {})
    .filter((s) => s.startsWith("npm:"))
    .map((s) => splitSpec(s.slice("npm:".length)));
  const found = new Map<string, NpmPackage>();
  for (const [name, version] of direct) {
    found.set(`${name}@${version}`, { name, version, direct: true });
  }
  const lockText = await readTextIfExists(`${ROOT}deno.lock`);
  if (lockText) {
    const lock = JSON.parse(lockText) as {
      npm?: Record<string, { dependencies?: string[] }>;
    };
    const entries = new Map<string, { deps: string[] }>();
    for (const [key, value] of Object.entries(lock.npm ?? {})) {
      const [name, version] = splitSpec(key);
      entries.set(`${name}@${version}`, { deps: value.dependencies ?? [] });
    }
    const resolve = (dep: string): string | undefined => {
      // Dependencies are listed by name (one version in the lock) or as `alias@npm:name@ver`
      // / `name@ver` when several versions exist.
      const plain = dep.includes("@npm:") ? dep.slice(dep.indexOf("@npm:") + 5) : dep;
      if (plain.indexOf("@", 1) > 0) {
        const [name, version] = splitSpec(plain);
        return entries.has(`${name}@${version}`) ? `${name}@${version}` : undefined;
      }
      const matches = [...entries.keys()].filter((k) => splitSpec(k)[0] === plain);
      return matches.length === 1 ? matches[0] : undefined;
    };
    const queue = [...found.keys()];
    while (queue.length > 0) {
      const key = queue.shift()!;
      for (const dep of entries.get(key)?.deps ?? []) {
        const resolved = resolve(dep);
        if (!resolved || found.has(resolved)) continue;
        const [name, version] = splitSpec(resolved);
        found.set(resolved, { name, version, direct: false });
        queue.push(resolved);
      }
    }
  }
  return [...found.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1
  );
}

/** THIRD_PARTY_LICENSES: each package's name, version, licence and licence text when cached. */
async function thirdPartyLicenses(): Promise<{ text: string; unknown: number; count: number }> {
  const cache = npmCacheDir();
  const packages = await npmPackages();
  const parts = [
    "Third-party software in the Ironpost executable",
    "",
    "The npm packages Ironpost imports (deno.json) and the packages they depend on (deno.lock),",
    'with the licence each declares. "see package" means the package\'s metadata was not in',
    "the Deno cache when this file was generated; its licence is in the package itself.",
    "",
  ];
  let unknown = 0;
  const texts: string[] = [];
  for (const pkg of packages) {
    let license = "see package";
    let licenseText: string | undefined;
    if (cache) {
      const dir = `${cache}/${pkg.name}/${pkg.version}`;
      try {
        const meta = JSON.parse(await Deno.readTextFile(`${dir}/package.json`)) as {
          license?: string | { type?: string };
          licenses?: { type?: string }[];
        };
        const declared = typeof meta.license === "string"
          ? meta.license
          : meta.license?.type ?? meta.licenses?.map((l) => l.type).filter(Boolean).join(" OR ");
        if (declared) license = declared;
        for await (const entry of Deno.readDir(dir)) {
          if (entry.isFile && /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(entry.name)) {
            licenseText = await Deno.readTextFile(`${dir}/${entry.name}`);
            break;
          }
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound || err instanceof SyntaxError)) throw err;
      }
    }
    if (license === "see package") unknown++;
    parts.push(`${pkg.name}@${pkg.version}  ${license}${pkg.direct ? "" : "  (dependency)"}`);
    if (licenseText) {
      texts.push(
        "",
        "-".repeat(78),
        `${pkg.name}@${pkg.version}`,
        "-".repeat(78),
        "",
        licenseText.trimEnd(),
      );
    }
  }
  return { text: [...parts, ...texts].join("\n") + "\n", unknown, count: packages.length };
}

export interface ReleaseEntry {
  name: string;
  size: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string", multiple: true },
      binary: { type: "string" },
      "out-dir": { type: "string", default: `${ROOT}dist` },
      version: { type: "string" },
      unit: { type: "string", default: `${ROOT}config/ironpost.service` },
      config: { type: "string", default: `${ROOT}config/ironpost.toml` },
      profile: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task release [--target TRIPLE]... [--binary PATH] [--out-dir DIR] " +
        "[--version X.Y.Z] [--unit PATH] [--config PATH] [--profile NAME]",
    );
    return;
  }
  const targets = (values.target ?? (values.binary ? [hostTarget()] : [...TARGETS])) as Target[];
  for (const t of targets) {
    if (!TARGETS.includes(t)) fail(`unknown target ${t}; expected one of ${TARGETS.join(", ")}`);
  }
  if (values.binary && targets.length !== 1) fail("--binary builds one target: give one --target");
  const version = values.version ??
    (JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as { version?: string }).version;
  if (!version || !/^[0-9A-Za-z.+-]+$/.test(version)) fail(`bad version ${version}`);
  const epochText = Deno.env.get("SOURCE_DATE_EPOCH") ?? "0";
  if (!/^[0-9]+$/.test(epochText)) fail(`SOURCE_DATE_EPOCH must be seconds, got ${epochText}`);

  const outDir = values["out-dir"]!;
  await Deno.mkdir(outDir, { recursive: true });
  const config = await readTextIfExists(values.config!);
  if (config === undefined) fail(`no default config at ${values.config}`);
  const unit = await readTextIfExists(values.unit!);
  if (unit === undefined) {
    console.error(
      `release: warning: no systemd unit at ${values.unit}; the archives ship without ` +
        "ironpost.service (install.sh then only prints how to run the agent)",
    );
  }
  const license = await readTextIfExists(`${ROOT}LICENSE`);
  if (license === undefined) {
    console.error("release: warning: the repository has no LICENSE; the archives ship without");
  }
  const third = await thirdPartyLicenses();
  if (third.unknown > 0) {
    console.error(
      `release: warning: ${third.unknown} of ${third.count} npm packages are not in the Deno ` +
        'cache; THIRD_PARTY_LICENSES says "see package" for them',
    );
  }

  for (const target of targets) {
    const name = `ironpost-${version}-${target}`;
    const stage = `${outDir}/.${name}.stage`;
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    await Deno.mkdir(stage, { recursive: true });
    try {
      const binary = `${stage}/ironpost`;
      if (values.binary) {
        const info = await Deno.stat(values.binary).catch(() => undefined);
        if (!info?.isFile) fail(`--binary ${values.binary} is not a file`);
        await Deno.copyFile(values.binary, binary);
      } else {
        const compileArgs = ["task", "compile", "--target", target, "--output", binary];
        if (values.profile) compileArgs.push("--profile", values.profile);
        console.error(`release: deno ${compileArgs.join(" ")}`);
        const status = await new Deno.Command("deno", {
          args: compileArgs,
          cwd: ROOT,
          stdin: "null",
        }).spawn().status;
        if (!status.success) fail(`deno task compile for ${target} failed`);
      }
      const files: [string, string | undefined][] = [
        ["ironpost.toml", config],
        ["ironpost.service", unit],
        ["LICENSE", license],
        ["THIRD_PARTY_LICENSES", third.text],
      ];
      const names = ["ironpost"];
      for (const [file, text] of files) {
        if (text === undefined) continue;
        await Deno.writeTextFile(`${stage}/${file}`, text);
        names.push(file);
      }
      for (const file of names) {
        await Deno.chmod(`${stage}/${file}`, file === "ironpost" ? 0o755 : 0o644);
      }
      names.sort();

      const tarPath = `${outDir}/${name}.tar`;
      await Deno.remove(`${tarPath}.gz`).catch(() => {});
      await run("tar", [
        "--create",
        "--format=ustar",
        `--mtime=@${epochText}`,
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--no-recursion",
        "--file",
        tarPath,
        "--directory",
        stage,
        "--",
        ...names,
      ]);
      await run("gzip", ["--no-name", "--best", "--force", tarPath]);
      const sizes: ReleaseEntry[] = [];
      for (const file of names) {
        sizes.push({ name: file, size: (await Deno.stat(`${stage}/${file}`)).size });
      }
      const total = sizes.reduce((n, e) => n + e.size, 0);
      const archive = (await Deno.stat(`${tarPath}.gz`)).size;
      console.log(`${outDir}/${name}.tar.gz (${archive} bytes; contents ${total} bytes)`);
      for (const e of sizes) console.log(`  ${e.name.padEnd(22)} ${e.size}`);
    } finally {
      await Deno.remove(stage, { recursive: true }).catch(() => {});
    }
  }

  const archives: string[] = [];
  for await (const entry of Deno.readDir(outDir)) {
    const ours = entry.name.startsWith(`ironpost-${version}-`) && entry.name.endsWith(".tar.gz");
    if (entry.isFile && ours) archives.push(entry.name);
  }
  archives.sort();
  const lines = [];
  for (const a of archives) lines.push(`${await sha256(`${outDir}/${a}`)}  ${a}`);
  await Deno.writeTextFile(`${outDir}/SHA256SUMS`, lines.join("\n") + "\n");
  console.log(`${outDir}/SHA256SUMS (${archives.length} archives)`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof ReleaseError)) throw err;
    console.error(`release: error: ${err.message}`);
    Deno.exit(1);
  }
}
