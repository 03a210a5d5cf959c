/**
 * Docker for tests: a real dockerd (Debian's docker.io) and a test image imported from a
 * busybox-static rootfs, since no image registry is reachable here.
 *
 * `ensureDocker()` starts dockerd when its socket does not answer (as root; the daemon is
 * left running for later tests, as `.ci/run` would have started it), `ensureBusyboxImage()`
 * imports `ironpost-test/busybox:1` when it is absent, and `runContainer` /
 * `removeContainers` run and clean up containers; `stopDockerd` / `startDockerd` (and
 * `restartDockerd`, both in one) stop the running daemon and start it again with the
 * arguments it was started with, for the fault tests. Every command is an argv array run with a
 * timeout (see `exec` in netns.ts). Gate tests with
 * `requirePart("docker", await ensureDocker())`.
 */
import { exec } from "./netns.ts";

export const DOCKER_SOCKET = "/var/run/docker.sock";
export const BUSYBOX_IMAGE = "ironpost-test/busybox:1";
export const DOCKERD_LOG = "/tmp/ironpost-dockerd.log";

const DOCKERD_PATHS = ["/usr/sbin/dockerd", "/usr/bin/dockerd", "/usr/local/bin/dockerd"];
// Debian's client first: it matches the daemon's API version.
const DOCKER_CLI_PATHS = ["/usr/bin/docker", "/usr/local/bin/docker"];
const BUSYBOX_PATHS = ["/bin/busybox", "/usr/bin/busybox"];
/** Applets linked in the test rootfs (busybox-static provides all of them). */
const APPLETS = [
  "sh",
  "ash",
  "cat",
  "echo",
  "rm",
  "sleep",
  "wget",
  "nc",
  "ls",
  "mkdir",
  "touch",
  "id",
  "ps",
  "true",
  "false",
  "env",
  "chmod",
  "chown",
  "cp",
  "mv",
  "ln",
  "grep",
  "head",
  "tail",
  "printf",
  "kill",
  "hostname",
  "whoami",
  "test",
  "[",
  "sed",
  "wc",
  "date",
  "uname",
  "top",
];

function firstFile(paths: readonly string[]): string | undefined {
  for (const p of paths) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** Path of the docker CLI; throws when neither is installed. */
export function dockerCli(): string {
  const cli = firstFile(DOCKER_CLI_PATHS);
  if (!cli) throw new Error(`no docker CLI at ${DOCKER_CLI_PATHS.join(" or ")}`);
  return cli;
}

/** True when a Docker daemon answers `GET /_ping` on `socket` within `timeoutMs`. */
export async function pingDocker(socket = DOCKER_SOCKET, timeoutMs = 2000): Promise<boolean> {
  let conn: Deno.UnixConn | undefined;
  const timer = setTimeout(() => conn?.close(), timeoutMs);
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
    await conn.write(new TextEncoder().encode("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
    const buf = new Uint8Array(1024);
    let text = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return /^HTTP\/1\.[01] 200/.test(text) && text.endsWith("OK");
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed by the timer */ }
  }
}

let ensured: Promise<boolean> | undefined;

/**
 * A Docker daemon on /var/run/docker.sock: true when one answers, starting
 * `dockerd --host unix:///var/run/docker.sock` (log in /tmp/ironpost-dockerd.log) when none
 * does and this runs as root. A daemon that is still starting or shutting down (its PID
 * file names a live process) is waited for; when ours exits during start-up for another
 * reason (no iptables, no bridge support) it is tried once more with
 * `--iptables=false --bridge=none`. Gives up after 45 s.
 */
export function ensureDocker(): Promise<boolean> {
  ensured ??= startDocker();
  return ensured;
}

const DOCKERD_PID_FILE = "/var/run/docker.pid";
const FALLBACK_FLAGS = ["--iptables=false", "--bridge=none"];

/** True while the process named in dockerd's PID file is alive. */
function dockerdAlive(): boolean {
  try {
    const pid = Number(Deno.readTextFileSync(DOCKERD_PID_FILE).trim());
    return pid > 0 && Deno.statSync(`/proc/${pid}`).isDirectory;
  } catch {
    return false;
  }
}

async function startDocker(): Promise<boolean> {
  if (await pingDocker()) return true;
  const dockerd = firstFile(DOCKERD_PATHS);
  if (Deno.uid() !== 0 || !dockerd || !firstFile(DOCKER_CLI_PATHS)) return false;
  const deadline = Date.now() + 45_000;
  let fallback = false;
  while (Date.now() < deadline) {
    if (dockerdAlive()) {
      if (await pingDocker(DOCKER_SOCKET, 1000)) return true;
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const outcome = await spawnDockerd(dockerd, fallback ? FALLBACK_FLAGS : [], deadline);
    if (outcome === "ready" || await pingDocker()) return true;
    if (outcome === "timeout") break;
    // Exited. Lost a race with another daemon (it holds the PID file): wait for that one.
    if (dockerdAlive()) continue;
    if (fallback) break;
    fallback = true;
  }
  const log = await Deno.readTextFile(DOCKERD_LOG).catch(() => "");
  console.warn(
    `dockerd did not come up; last lines of ${DOCKERD_LOG}:\n` +
      log.trimEnd().split("\n").slice(-10).join("\n"),
  );
  return false;
}

async function spawnDockerd(
  dockerd: string,
  extra: string[],
  deadline: number,
): Promise<"ready" | "exited" | "timeout"> {
  return await spawnDetached([dockerd, "--host", `unix://${DOCKER_SOCKET}`, ...extra], deadline);
}

/** Start `argv` (a dockerd command line) detached and wait until the socket answers. */
async function spawnDetached(
  argv: string[],
  deadline: number,
): Promise<"ready" | "exited" | "timeout"> {
  // setsid: the daemon outlives this test process and its signals; the shell only
  // redirects output to the log and execs dockerd (argv, no interpolation).
  const child = new Deno.Command("setsid", {
    args: ["sh", "-c", 'exec "$@" >>"$IRONPOST_DOCKERD_LOG" 2>&1', "sh", ...argv],
    env: { IRONPOST_DOCKERD_LOG: DOCKERD_LOG },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  let exited = false;
  child.status.then(() => exited = true, () => exited = true);
  // Up to 30 s for this daemon to answer, within the overall deadline.
  const until = Math.min(deadline, Date.now() + 30_000);
  while (Date.now() < until) {
    if (await pingDocker(DOCKER_SOCKET, 1000)) return "ready";
    if (exited) return "exited";
    await new Promise((r) => setTimeout(r, 200));
  }
  return "timeout";
}

/** The running dockerd: its pid, the executable it runs and the arguments it was given. */
export interface DockerdProcess {
  pid: number;
  /** The executable (/proc/PID/exe), so a relative argv[0] such as `dockerd` is no matter. */
  exe: string;
  /** Its arguments after argv[0] (/proc/PID/cmdline). */
  args: string[];
}

/** True while `pid` is a live process (a zombie counts as gone). */
function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

/** The dockerd named in its PID file, when it is alive; its command line from /proc. */
export function runningDockerd(): DockerdProcess | undefined {
  let pid: number;
  try {
    pid = Number(Deno.readTextFileSync(DOCKERD_PID_FILE).trim());
  } catch {
    return undefined;
  }
  if (!(pid > 0) || !processAlive(pid)) return undefined;
  try {
    const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    if (argv.at(-1) === "") argv.pop();
    let exe = Deno.readLinkSync(`/proc/${pid}/exe`);
    // Replaced on disk since it started (an upgrade): the installed one.
    if (exe.endsWith(" (deleted)")) exe = firstFile(DOCKERD_PATHS) ?? exe.slice(0, -10);
    return { pid, exe, args: argv.slice(1) };
  } catch {
    return undefined;
  }
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stop the running dockerd with SIGTERM (it stops its containers and its own containerd)
 * and wait until it and its children are gone and the socket no longer answers. Returns
 * what it was, to start it again with `startDockerd`. Root only; throws when no dockerd is
 * running or it is still alive after `timeoutMs`.
 */
export async function stopDockerd(timeoutMs = 60_000): Promise<DockerdProcess> {
  const d = runningDockerd();
  if (!d) throw new Error(`no running dockerd (${DOCKERD_PID_FILE})`);
  let children: number[] = [];
  try {
    children = Deno.readTextFileSync(`/proc/${d.pid}/task/${d.pid}/children`).trim().split(/\s+/)
      .filter(Boolean).map(Number);
  } catch { /* none */ }
  Deno.kill(d.pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while ([d.pid, ...children].some(processAlive)) {
    if (Date.now() > deadline) {
      throw new Error(`dockerd ${d.pid} did not exit within ${timeoutMs} ms of SIGTERM`);
    }
    await sleepMs(100);
  }
  while (await pingDocker(DOCKER_SOCKET, 500)) {
    if (Date.now() > deadline) throw new Error(`${DOCKER_SOCKET} still answers`);
    await sleepMs(100);
  }
  return d;
}

/**
 * Start dockerd again exactly as `d` was started (same executable and arguments, detached,
 * output appended to /tmp/ironpost-dockerd.log) and wait until it answers `/_ping`. A no-op
 * when a dockerd already answers.
 */
export async function startDockerd(d: DockerdProcess, timeoutMs = 60_000): Promise<void> {
  if (await pingDocker()) return;
  const outcome = await spawnDetached([d.exe, ...d.args], Date.now() + timeoutMs);
  if (outcome === "ready" || await pingDocker()) return;
  const log = await Deno.readTextFile(DOCKERD_LOG).catch(() => "");
  throw new Error(
    `dockerd (${[d.exe, ...d.args].join(" ")}) did not come back (${outcome}); last lines of ` +
      `${DOCKERD_LOG}:\n${log.trimEnd().split("\n").slice(-10).join("\n")}`,
  );
}

/**
 * Stop the running dockerd and start it again with the same arguments, waiting until it
 * answers; `whileDown` runs in between (the socket not answering). Returns the new pid.
 */
export async function restartDockerd(
  whileDown: () => Promise<void> | void = () => {},
): Promise<number> {
  const d = await stopDockerd();
  try {
    await whileDown();
  } finally {
    await startDockerd(d);
  }
  const now = runningDockerd();
  if (!now) throw new Error("dockerd answers but its PID file names no live process");
  return now.pid;
}

/** Run the docker CLI with `args` (30 s timeout). */
export async function docker(
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await exec([dockerCli(), ...args], { timeoutMs });
}

/** Run the docker CLI and return its trimmed stdout; throws with stderr when it fails. */
export async function dockerOk(args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0) {
    throw new Error(`docker ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout.trim();
}

/**
 * The test image `ironpost-test/busybox:1`, imported with `docker import` from a rootfs of
 * the busybox-static binary (applet symlinks, /etc/passwd, /tmp) when it is absent.
 * Returns the image reference.
 */
export async function ensureBusyboxImage(): Promise<string> {
  if ((await docker(["image", "inspect", BUSYBOX_IMAGE])).code === 0) return BUSYBOX_IMAGE;
  const busybox = firstFile(BUSYBOX_PATHS);
  if (!busybox) throw new Error("busybox-static is not installed (no /bin/busybox)");
  const dir = await Deno.makeTempDir({ prefix: "ironpost-rootfs-" });
  try {
    const root = `${dir}/rootfs`;
    for (const d of ["bin", "etc", "tmp", "root", "proc", "sys", "dev", "usr/bin"]) {
      await Deno.mkdir(`${root}/${d}`, { recursive: true });
    }
    await Deno.chmod(`${root}/tmp`, 0o1777);
    await Deno.copyFile(busybox, `${root}/bin/busybox`);
    await Deno.chmod(`${root}/bin/busybox`, 0o755);
    for (const a of APPLETS) await Deno.symlink("busybox", `${root}/bin/${a}`);
    await Deno.writeTextFile(
      `${root}/etc/passwd`,
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    );
    await Deno.writeTextFile(`${root}/etc/group`, "root:x:0:\nnogroup:x:65534:\n");
    const tar = `${dir}/rootfs.tar`;
    const t = await exec([
      "tar",
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "-C",
      root,
      "-cf",
      tar,
      ".",
    ]);
    if (t.code !== 0) throw new Error(`tar failed: ${t.stderr.trim()}`);
    await dockerOk([
      "import",
      "--change",
      "ENV PATH=/bin:/usr/bin",
      "--change",
      'CMD ["/bin/sh"]',
      tar,
      BUSYBOX_IMAGE,
    ], 120_000);
    return BUSYBOX_IMAGE;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export interface RunContainerOptions {
  image?: string;
  labels?: Record<string, string>;
  /** More `docker run` flags, before the image. */
  flags?: string[];
}

/**
 * `docker run -d --name NAME [--label k=v…] [flags…] IMAGE ARGS…`; returns the container's
 * full id. Remove it with `removeContainers` (in a `finally`).
 */
export async function runContainer(
  name: string,
  args: string[],
  opts: RunContainerOptions = {},
): Promise<string> {
  const labels = Object.entries(opts.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  return await dockerOk([
    "run",
    "-d",
    "--name",
    name,
    ...labels,
    ...(opts.flags ?? []),
    opts.image ?? BUSYBOX_IMAGE,
    ...args,
  ], 60_000);
}

/** `docker rm -f` these containers; absent ones are fine. */
export async function removeContainers(names: Iterable<string>): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const r = await docker(["rm", "-f", ...list], 60_000);
  if (r.code !== 0 && !/No such container/i.test(r.stderr)) {
    throw new Error(`docker rm -f ${list.join(" ")} failed: ${r.stderr.trim()}`);
  }
}

/** Remove every container whose name starts with `prefix` (leftovers of an aborted run). */
export async function removeContainersByPrefix(prefix: string): Promise<void> {
  const out = await dockerOk(["ps", "-a", "--filter", `name=^${prefix}`, "--format", "{{.Names}}"]);
  await removeContainers(out.split("\n").filter((n) => n.startsWith(prefix)));
}

/** The host pid of a running container's main process (`docker inspect` State.Pid). */
export async function containerPid(name: string): Promise<number> {
  return Number(await dockerOk(["inspect", "-f", "{{.State.Pid}}", name]));
}

/** `docker network create NAME` (a user-defined bridge); remove it with `removeNetworks`. */
export async function createNetwork(name: string): Promise<string> {
  return await dockerOk(["network", "create", name]);
}

/** `docker network rm` these networks; absent ones are fine. */
export async function removeNetworks(names: Iterable<string>): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const r = await docker(["network", "rm", ...list], 60_000);
  if (r.code !== 0 && !/No such network|not found/i.test(r.stderr)) {
    throw new Error(`docker network rm ${list.join(" ")} failed: ${r.stderr.trim()}`);
  }
}

/** The fields of `docker inspect NAME` the tests look at. */
export interface InspectedByCli {
  Id: string;
  State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number };
  NetworkSettings: {
    Networks: Record<string, { Aliases: string[] | null; IPAddress: string }>;
  };
}

/** `docker inspect NAME`, parsed. */
export async function inspectContainer(name: string): Promise<InspectedByCli> {
  const [c] = JSON.parse(await dockerOk(["inspect", "--type", "container", name]));
  return c as InspectedByCli;
}
