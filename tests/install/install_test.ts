/**
 * `deno task release` and `install.sh` end to end: a release directory made by
 * `tools/release.ts` (run with the task's own permission flags) around a stand-in executable,
 * served by `Deno.serve` on loopback, installed by `sh install.sh` into a temporary root.
 * systemctl is a stand-in that logs its arguments; the installer's systemd check points at a
 * directory the test controls, so the host's systemd is never touched.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";
import { docker, dockerOk, ensureDocker, removeContainers } from "../helpers/docker.ts";
import { exec } from "../helpers/netns.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const INSTALL_SH = `${ROOT}install.sh`;
const TARGET = Deno.build.arch === "aarch64"
  ? "aarch64-unknown-linux-gnu"
  : "x86_64-unknown-linux-gnu";
const VERSION = (JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as { version: string })
  .version;
const ARCHIVE = `ironpost-${VERSION}-${TARGET}.tar.gz`;
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const NOBODY = 65534;
/** Debian 12 minbase with wget (no curl), built by mmdebstrap and `docker import`ed once. */
const DEBIAN_IMAGE = "ironpost-test/debian-install:bookworm";

async function ensureDebianImage(): Promise<void> {
  if ((await docker(["image", "inspect", DEBIAN_IMAGE])).code === 0) return;
  const dir = await Deno.makeTempDir({ prefix: "ironpost-debian-" });
  try {
    const tar = `${dir}/rootfs.tar`;
    const m = await exec([
      "mmdebstrap",
      "--quiet",
      "--variant=minbase",
      "--include=wget,ca-certificates",
      "--format=tar",
      "bookworm",
      tar,
    ], { timeoutMs: 300_000 });
    if (m.code !== 0) throw new Error(`mmdebstrap failed (${m.code}): ${m.stderr.trim()}`);
    await dockerOk(["import", "--change", 'CMD ["/bin/bash"]', tar, DEBIAN_IMAGE], 180_000);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const dec = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], opts: {
  env?: Record<string, string>;
  stdin?: Uint8Array;
  cwd?: string;
} = {}): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.env !== undefined,
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Every path under `dir` with its type, mode and content: equal snapshots = nothing changed. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      const st = await Deno.lstat(p);
      const mode = (st.mode! & 0o7777).toString(8);
      if (e.isDirectory) {
        out.push(`d ${mode} ${p}`);
        await walk(p);
      } else if (e.isFile) {
        out.push(`f ${mode} ${p} ${dec.decode(await Deno.readFile(p))}`);
      } else {
        out.push(`l ${p} ${await Deno.readLink(p)}`);
      }
    }
  };
  if (await exists(dir)) await walk(dir);
  return out.sort();
}

/** The one error line of a failed run: the last stderr line, and the only `error:` line. */
function errorLine(r: Run): string {
  const lines = r.stderr.trimEnd().split("\n");
  const errors = lines.filter((l) => l.includes("error:"));
  assertEquals(errors.length, 1, `one error line expected:\n${r.stderr}`);
  assertEquals(lines.at(-1), errors[0], `the error line comes last:\n${r.stderr}`);
  assertMatch(errors[0], /^install\.sh: error: /);
  return errors[0];
}

/** The release task's permission flags from deno.json, writing to `outDir` instead of dist/. */
function releaseFlags(outDir: string): string[] {
  const task = (JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  }).tasks.release;
  const words = task.split(/\s+/);
  assertEquals(words.slice(0, 2), ["deno", "run"]);
  assertEquals(words.at(-1), "tools/release.ts");
  const flags = words.slice(2, -1);
  assert(!flags.includes("--allow-all") && !flags.includes("-A"), "least permissions");
  assert(flags.includes("--allow-write=dist"), `release writes only dist/: ${task}`);
  return flags.map((f) => f === "--allow-write=dist" ? `--allow-write=${outDir}` : f);
}

async function release(outDir: string, args: string[], epoch = "1700000000"): Promise<Run> {
  const r = await run(Deno.execPath(), [
    "run",
    ...releaseFlags(outDir),
    `${ROOT}tools/release.ts`,
    "--out-dir",
    outDir,
    ...args,
  ], {
    cwd: ROOT,
    env: {
      PATH: Deno.env.get("PATH") ?? SYSTEM_PATH,
      HOME: Deno.env.get("HOME") ?? "/root",
      SOURCE_DATE_EPOCH: epoch,
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    },
  });
  return r;
}

Deno.test("deno task release and install.sh", async (t) => {
  if (!requireRoot()) return;
  const tmp = await Deno.makeTempDir({ prefix: "ironpost-install-" });
  const requests: string[] = [];
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    // The stand-in executable and, while config/ironpost.service is not written yet, a unit.
    const standin = `${tmp}/standin`;
    await Deno.writeTextFile(standin, `#!/bin/sh\necho "ironpost ${VERSION}"\n`, { mode: 0o755 });
    const unitArgs: string[] = [];
    if (!await exists(`${ROOT}config/ironpost.service`)) {
      const unit = `${tmp}/ironpost.service`;
      await Deno.writeTextFile(
        unit,
        "[Unit]\nDescription=Ironpost (test unit)\n[Service]\n" +
          "ExecStart=/usr/local/bin/ironpost run --config /etc/ironpost/ironpost.toml\n" +
          "[Install]\nWantedBy=multi-user.target\n",
      );
      unitArgs.push("--unit", unit);
    }
    const srv = `${tmp}/srv`;
    const good = `${srv}/good/v${VERSION}`;

    await t.step("release writes the archive and SHA256SUMS, reproducibly", async () => {
      const r = await release(good, ["--binary", standin, ...unitArgs]);
      assertEquals(r.code, 0, r.stderr);
      const sums = await Deno.readTextFile(`${good}/SHA256SUMS`);
      assertMatch(sums, new RegExp(`^[0-9a-f]{64}  ${ARCHIVE.replaceAll(".", "\\.")}\n$`));
      const check = await run("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: good });
      assertEquals(check.code, 0, check.stdout + check.stderr);

      const list = await run("tar", ["--list", "--verbose", "--numeric-owner", "-zf", ARCHIVE], {
        cwd: good,
      });
      assertEquals(list.code, 0, list.stderr);
      const rows = list.stdout.trim().split("\n").map((l) => l.split(/\s+/));
      const names = rows.map((r) => r.at(-1));
      const expected = ["THIRD_PARTY_LICENSES", "ironpost", "ironpost.service", "ironpost.toml"];
      if (await exists(`${ROOT}LICENSE`)) expected.unshift("LICENSE");
      assertEquals(names, expected, "sorted names");
      for (const row of rows) {
        assertEquals(
          row[0],
          row.at(-1) === "ironpost" ? "-rwxr-xr-x" : "-rw-r--r--",
          row.join(" "),
        );
        assertEquals(row[1], "0/0", "owner root");
        assertEquals(row[3], "2023-11-14", "mtime SOURCE_DATE_EPOCH");
      }
      const third = await run("tar", ["-xzOf", ARCHIVE, "THIRD_PARTY_LICENSES"], { cwd: good });
      for (const spec of ["smol-toml@1.9.1", "dockerode@5.0.1", "yaml@2.9.1"]) {
        assert(third.stdout.includes(`\n${spec}  `), `${spec} in THIRD_PARTY_LICENSES`);
      }
      const config = await run("tar", ["-xzOf", ARCHIVE, "ironpost.toml"], { cwd: good });
      assertEquals(config.stdout, await Deno.readTextFile(`${ROOT}config/ironpost.toml`));

      // The same inputs give the same bytes.
      const again = `${tmp}/again`;
      const r2 = await release(again, ["--binary", standin, ...unitArgs]);
      assertEquals(r2.code, 0, r2.stderr);
      assertEquals(
        await Deno.readTextFile(`${again}/SHA256SUMS`),
        sums,
        "reproducible archive",
      );
      const bad = await release(again, ["--binary", standin, "--target", "mips-unknown-linux-gnu"]);
      assertEquals(bad.code, 1);
      assertMatch(bad.stderr, /release: error: unknown target mips-unknown-linux-gnu/);
    });

    // The served tree: good/{v<version>,latest} and bad/latest with a corrupted SHA256SUMS.
    await Deno.mkdir(`${srv}/good/latest`, { recursive: true });
    await Deno.mkdir(`${srv}/bad/latest`, { recursive: true });
    for (const f of ["SHA256SUMS", ARCHIVE]) {
      await Deno.copyFile(`${good}/${f}`, `${srv}/good/latest/${f}`);
      await Deno.copyFile(`${good}/${f}`, `${srv}/bad/latest/${f}`);
    }
    const sums = await Deno.readTextFile(`${good}/SHA256SUMS`);
    await Deno.writeTextFile(
      `${srv}/bad/latest/SHA256SUMS`,
      sums.replace(/^./, (c) => c === "0" ? "1" : "0"),
    );
    server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      if (path.split("/").includes("..")) return new Response("no", { status: 400 });
      try {
        return new Response(await Deno.readFile(`${srv}${path}`));
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
    const base = `http://127.0.0.1:${server.addr.port}`;

    // Stand-in systemctl that logs its arguments.
    const fakeBin = `${tmp}/fakebin`;
    const systemctlLog = `${tmp}/systemctl.log`;
    await Deno.mkdir(fakeBin);
    await Deno.writeTextFile(
      `${fakeBin}/systemctl`,
      `#!/bin/sh\necho "$*" >>${systemctlLog}\n`,
      { mode: 0o755 },
    );
    const systemdRun = `${tmp}/run-systemd-system`; // exists only in the systemd step
    const tmpDir = `${tmp}/tmpdir`; // install.sh's TMPDIR: empty after every run
    await Deno.mkdir(tmpDir);

    const layout = (root: string) => ({
      root,
      bin: `${root}/usr/local/bin/ironpost`,
      etc: `${root}/etc/ironpost`,
      unit: `${root}/etc/systemd/system/ironpost.service`,
      state: `${root}/var/lib/ironpost`,
    });
    const envFor = (root: string, extra: Record<string, string> = {}) => ({
      PATH: `${fakeBin}:${SYSTEM_PATH}`,
      HOME: `${root}/home`,
      IRONPOST_BASE_URL: `${base}/good`,
      IRONPOST_PREFIX: `${root}/usr/local/bin`,
      IRONPOST_ETC: `${root}/etc/ironpost`,
      IRONPOST_SYSTEMD_DIR: `${root}/etc/systemd/system`,
      IRONPOST_STATE: `${root}/var/lib/ironpost`,
      IRONPOST_SYSTEMD_RUN: systemdRun,
      TMPDIR: tmpDir,
      ...extra,
    });
    const install = (root: string, args: string[] = [], extra: Record<string, string> = {}) =>
      run("sh", [INSTALL_SH, ...args], { env: envFor(root, extra) });

    const main = layout(`${tmp}/root`);
    await Deno.mkdir(main.root);

    await t.step("fresh install: binary runs, config in a 0750 directory, unit", async () => {
      const r = await install(main.root);
      assertEquals(r.code, 0, r.stdout + r.stderr);
      const ran = await run(main.bin, ["version"]);
      assertEquals(ran.stdout.trim(), `ironpost ${VERSION}`);
      assertEquals((await Deno.stat(main.bin)).mode! & 0o777, 0o755);
      assertEquals((await Deno.stat(main.etc)).mode! & 0o777, 0o750);
      assertEquals(
        await Deno.readTextFile(`${main.etc}/ironpost.toml`),
        await Deno.readTextFile(`${ROOT}config/ironpost.toml`),
      );
      const unit = await Deno.readTextFile(main.unit);
      assert(unit.includes(main.bin), "the unit names the installed binary");
      const rest = unit.replaceAll(main.bin, "").replaceAll(main.etc, "");
      assert(
        !/\/usr\/local\/bin\/ironpost|\/etc\/ironpost/.test(rest),
        `default paths left:\n${unit}`,
      );
      assertMatch(r.stdout, /checksum verified/);
      assertMatch(r.stdout, /install ironpost .* to /);
      assertMatch(r.stdout, /write the default config/);
      assertMatch(r.stdout, /systemd is not running here/);
      assertMatch(r.stdout, /systemctl daemon-reload && systemctl enable --now ironpost\.service/);
      assert(!await exists(systemctlLog), "systemctl not run without systemd");
      assert(requests.includes(`/good/latest/${ARCHIVE}`), requests.join(" "));
      assertEquals([...Deno.readDirSync(tmpDir)], [], "the mktemp directory is removed");
    });

    await t.step("re-install: config untouched, idempotent", async () => {
      await Deno.writeTextFile(`${main.etc}/ironpost.toml`, "# marker: mine\n", { append: true });
      const before = await snapshot(main.root);
      const r = await install(main.root, [], { IRONPOST_VERSION: VERSION });
      assertEquals(r.code, 0, r.stdout + r.stderr);
      assertMatch(r.stdout, /kept the existing config/);
      assertMatch(r.stdout, /already ironpost/);
      assert(requests.includes(`/good/v${VERSION}/${ARCHIVE}`), "IRONPOST_VERSION path");
      assertEquals(await snapshot(main.root), before);
      assert((await Deno.readTextFile(`${main.etc}/ironpost.toml`)).includes("# marker: mine"));
    });

    await t.step("checksum mismatch: non-zero exit, nothing installed", async () => {
      const root = `${tmp}/badsum`;
      await Deno.mkdir(root);
      const r = await install(root, [], { IRONPOST_BASE_URL: `${base}/bad` });
      assertEquals(r.code, 1);
      assertMatch(errorLine(r), /checksum mismatch .* nothing was installed/);
      assertEquals(await snapshot(root), []);
      assertEquals([...Deno.readDirSync(tmpDir)], [], "the mktemp directory is removed");
    });

    await t.step("a missing release: non-zero exit, one error line", async () => {
      const root = `${tmp}/norelease`;
      await Deno.mkdir(root);
      const r = await install(root, [], { IRONPOST_VERSION: "9.9.9" });
      assertEquals(r.code, 1);
      assertMatch(errorLine(r), /download failed: .*\/v9\.9\.9\/SHA256SUMS/);
      assertEquals(await snapshot(root), []);
    });

    await t.step("unknown architecture and OS: clear error, nothing downloaded", async () => {
      const root = `${tmp}/mips`;
      const fakeUname = `${tmp}/fakeuname`;
      await Deno.mkdir(root);
      await Deno.mkdir(fakeUname);
      const count = requests.length;
      for (
        const [os, arch, expected] of [
          ["Linux", "mips", /unsupported architecture: mips/],
          ["Darwin", "arm64", /unsupported operating system: Darwin \(Ironpost runs on Linux/],
        ] as const
      ) {
        await Deno.writeTextFile(
          `${fakeUname}/uname`,
          `#!/bin/sh\ncase "$1" in -m) echo ${arch} ;; *) echo ${os} ;; esac\n`,
          { mode: 0o755 },
        );
        const r = await install(root, [], { PATH: `${fakeUname}:${fakeBin}:${SYSTEM_PATH}` });
        assertEquals(r.code, 1);
        assertMatch(errorLine(r), expected);
      }
      assertEquals(requests.length, count);
      assertEquals(await snapshot(root), []);
    });

    await t.step("no root: installs into ~/.local/bin and says so", async () => {
      const home = await Deno.makeTempDir({ prefix: "ironpost-nobody-" });
      try {
        await Deno.chown(home, NOBODY, NOBODY);
        const r = await run("setpriv", [
          `--reuid=${NOBODY}`,
          `--regid=${NOBODY}`,
          "--clear-groups",
          "sh",
          INSTALL_SH,
        ], {
          env: {
            PATH: `${fakeBin}:${SYSTEM_PATH}`,
            HOME: home,
            IRONPOST_BASE_URL: `${base}/good`,
            IRONPOST_SYSTEMD_RUN: systemdRun,
          },
        });
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assertMatch(
          r.stdout,
          new RegExp(`not running as root: installing for this user into ${home}/\\.local/bin`),
        );
        assertMatch(r.stdout, new RegExp(`note: ${home}/\\.local/bin is not in your PATH`));
        assertMatch(r.stdout, /not root: no systemd unit installed/);
        const bin = `${home}/.local/bin/ironpost`;
        assertEquals((await run(bin, ["version"])).stdout.trim(), `ironpost ${VERSION}`);
        assertEquals((await Deno.stat(bin)).uid, NOBODY);
        assertEquals((await Deno.stat(`${home}/.config/ironpost`)).mode! & 0o777, 0o750);
        assert(await exists(`${home}/.config/ironpost/ironpost.toml`));
      } finally {
        await Deno.remove(home, { recursive: true });
      }
    });

    await t.step("--dry-run: prints every step, changes nothing", async () => {
      const root = `${tmp}/dry`;
      await Deno.mkdir(root);
      const fresh = await install(root, ["--dry-run"]);
      assertEquals(fresh.code, 0, fresh.stdout + fresh.stderr);
      for (
        const step of [
          /would install ironpost/,
          /would create .*\/etc\/ironpost \(mode 0750\)/,
          /would write the default config/,
          /would install the unit/,
          /dry run: nothing was changed/,
        ]
      ) {
        assertMatch(fresh.stdout, step);
      }
      assertEquals(await snapshot(root), []);

      const before = await snapshot(main.root);
      for (
        const args of [["--dry-run"], ["--uninstall", "--dry-run"], [
          "--dry-run",
          "--uninstall",
          "--purge",
        ]]
      ) {
        const r = await install(main.root, args);
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assertMatch(r.stdout, /dry run: nothing was changed/);
        assertEquals(await snapshot(main.root), before, args.join(" "));
      }
      const purge = await install(main.root, ["--uninstall", "--purge", "--dry-run"]);
      assertMatch(purge.stdout, /would remove config directory/);
    });

    await t.step("a truncated script runs nothing", async () => {
      const root = `${tmp}/truncated`;
      await Deno.mkdir(root);
      const script = await Deno.readFile(INSTALL_SH);
      const text = dec.decode(script);
      const count = requests.length;
      // Half the bytes, and every line boundary: none may print, fetch or create anything.
      const cuts = [Math.floor(script.length / 2)];
      for (
        let i = text.indexOf("\n");
        i >= 0 && i < script.length - 1;
        i = text.indexOf("\n", i + 1)
      ) {
        cuts.push(i + 1);
      }
      for (const cut of cuts) {
        const r = await run("sh", [], { env: envFor(root), stdin: script.subarray(0, cut) });
        assert(!r.stdout.includes("install.sh:"), `cut at ${cut} printed: ${r.stdout}`);
        assert(!r.stderr.includes("install.sh:"), `cut at ${cut} printed: ${r.stderr}`);
      }
      assertEquals(requests.length, count, "no download");
      assertEquals(await snapshot(root), []);
      // The whole script piped to sh works (`curl … | sh`).
      const whole = await run("sh", [], { env: envFor(root), stdin: script });
      assertEquals(whole.code, 0, whole.stderr);
      assert(await exists(layout(root).bin));
    });

    await t.step("with systemd: daemon-reload, enable --now; uninstall disables", async () => {
      const root = `${tmp}/systemd`;
      await Deno.mkdir(root);
      await Deno.mkdir(systemdRun);
      try {
        const r = await install(root);
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assertEquals(
          (await Deno.readTextFile(systemctlLog)).trim().split("\n"),
          ["daemon-reload", "enable --now ironpost.service", "try-restart ironpost.service"],
        );
        await Deno.remove(systemctlLog);
        const again = await install(root);
        assertEquals(again.code, 0, again.stderr);
        assertEquals(
          (await Deno.readTextFile(systemctlLog)).trim(),
          "enable --now ironpost.service",
        );
        await Deno.remove(systemctlLog);
        const u = await install(root, ["--uninstall"]);
        assertEquals(u.code, 0, u.stderr);
        assertEquals(
          (await Deno.readTextFile(systemctlLog)).trim().split("\n"),
          ["disable --now ironpost.service", "daemon-reload"],
        );
        assert(!await exists(layout(root).unit));
      } finally {
        await Deno.remove(systemdRun, { recursive: true });
        await Deno.remove(systemctlLog).catch(() => {});
      }
    });

    await t.step("wget instead of curl", async () => {
      const root = `${tmp}/wget`;
      await Deno.mkdir(root);
      if (!requirePart("wget", (await run("sh", ["-c", "command -v wget"])).code === 0)) return;
      // A PATH with every tool of /usr/bin and /bin except curl.
      const noCurl = `${tmp}/nocurl`;
      await Deno.mkdir(noCurl);
      for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
        for await (const e of Deno.readDir(dir)) {
          if (e.name === "curl" || await exists(`${noCurl}/${e.name}`)) continue;
          await Deno.symlink(`${dir}/${e.name}`, `${noCurl}/${e.name}`);
        }
      }
      const r = await install(root, [], { PATH: `${fakeBin}:${noCurl}` });
      assertEquals(r.code, 0, r.stdout + r.stderr);
      assertMatch(r.stdout, /with wget/);
      assertEquals((await run(layout(root).bin, [])).stdout.trim(), `ironpost ${VERSION}`);
      const bad = await install(`${tmp}/wget-bad`, [], {
        PATH: `${fakeBin}:${noCurl}`,
        IRONPOST_BASE_URL: `${base}/bad`,
      });
      assertEquals(bad.code, 1);
      assertMatch(errorLine(bad), /checksum mismatch/);
      const missing = await install(`${tmp}/wget-missing`, [], {
        PATH: `${fakeBin}:${noCurl}`,
        IRONPOST_VERSION: "9.9.9",
      });
      assertEquals(missing.code, 1);
      assertMatch(errorLine(missing), /download failed: .*9\.9\.9.* \(wget exit status 8\)/);
    });

    await t.step("--uninstall keeps config and data; --purge removes them", async () => {
      await Deno.mkdir(main.state, { recursive: true });
      await Deno.writeTextFile(`${main.state}/ironpost.db`, "data");
      const r = await install(main.root, ["--uninstall"]);
      assertEquals(r.code, 0, r.stdout + r.stderr);
      assert(!await exists(main.bin), "binary gone");
      assert(!await exists(main.unit), "unit gone");
      assert((await Deno.readTextFile(`${main.etc}/ironpost.toml`)).includes("# marker: mine"));
      assert(await exists(`${main.state}/ironpost.db`));
      assertMatch(r.stdout, /kept the config in/);
      assertMatch(r.stdout, /kept the data in/);
      const again = await install(main.root, ["--uninstall"]);
      assertEquals(again.code, 0, "uninstalling twice is fine");
      const purge = await install(main.root, ["--uninstall", "--purge"]);
      assertEquals(purge.code, 0, purge.stdout + purge.stderr);
      assert(!await exists(main.etc), "config gone");
      assert(!await exists(main.state), "data gone");
      const usage = await install(main.root, ["--purge"]);
      assertEquals(usage.code, 1);
      assertMatch(errorLine(usage), /--purge goes with --uninstall/);
    });

    await t.step("wget … | sh inside a Debian 12 container (mmdebstrap image)", async () => {
      const hasMmdebstrap = (await run("sh", ["-c", "command -v mmdebstrap"])).code === 0;
      if (!requirePart("mmdebstrap", hasMmdebstrap)) return;
      if (!requirePart("docker", await ensureDocker())) return;
      await ensureDebianImage();
      await Deno.copyFile(INSTALL_SH, `${srv}/install.sh`);
      const name = `ironpost-ct-install-${Deno.pid}`;
      // The host's network, so the container reaches the loopback server; as root, with the
      // default paths (no IRONPOST_PREFIX/ETC/…), no systemd running.
      const script = [
        "set -e",
        "! command -v curl",
        `wget -qO- ${base}/install.sh | IRONPOST_BASE_URL=${base}/good sh`,
        "ironpost version",
        "stat -c '%a %n' /usr/local/bin/ironpost /etc/ironpost /etc/ironpost/ironpost.toml",
        "test -f /etc/systemd/system/ironpost.service",
        `wget -qO- ${base}/install.sh | sh -s -- --uninstall`,
        "test ! -e /usr/local/bin/ironpost && test -f /etc/ironpost/ironpost.toml",
      ].join("\n");
      try {
        const r = await docker(
          ["run", "--rm", "--name", name, "--network", "host", DEBIAN_IMAGE, "sh", "-c", script],
          120_000,
        );
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assertMatch(r.stdout, /downloading .*\/SHA256SUMS with wget/);
        assertMatch(r.stdout, /checksum verified/);
        assertMatch(r.stdout, new RegExp(`installed: ironpost ${VERSION}`));
        assertMatch(r.stdout, /systemd is not running here/);
        assertMatch(r.stdout, /755 \/usr\/local\/bin\/ironpost\n750 \/etc\/ironpost\n640 /);
        assertMatch(r.stdout, /Ironpost is uninstalled/);
      } finally {
        await removeContainers([name]);
      }
    });

    await t.step("shellcheck install.sh is clean", async () => {
      const available = (await run("sh", ["-c", "command -v shellcheck"])).code === 0;
      if (!requirePart("shellcheck", available)) return;
      const r = await run("shellcheck", [INSTALL_SH]);
      assertEquals(r.code, 0, r.stdout + r.stderr);
    });
  } finally {
    await server?.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});
