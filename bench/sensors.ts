/**
 * Host sensors against Debian's auditd, in one run, on the same workloads:
 *
 * 1. an exec storm (N runs of /bin/true, one after another) and a file-write storm
 *    (N x create/write/close/unlink in one directory), timed with no tracer, with the
 *    Ironpost agent running [sensors] (exec + file + network, derived permissions), and
 *    with auditd running an equivalent rule set (`-S execve` and `-w DIR -p wa`);
 * 2. CPU time of the tracer over each storm (/proc/<pid>/stat utime + stime), events
 *    delivered and lost (Ironpost: /metrics; auditd: records in audit.log, `auditctl -s`);
 * 3. exec-to-event latency at a paced rate: spawn time (CLOCK_REALTIME in the spawner)
 *    to the time the event reaches a reader (Ironpost: `GET /events`; auditd: tailing
 *    audit.log), p50/p99.
 *
 * Run (root): deno task bench:sensors [--execs 20000] [--files 20000] [--rate 2000] [--secs 2]
 * Targets: overhead at most half of auditd's on both storms without throttling the
 * workload; no lost exec event at the paced rate; latency p99 no worse than auditd's.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { agentPermissions, controlRequest, controlStream } from "../mod/daemon/mod.ts";
import { loadConfig } from "../mod/config/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    execs: { type: "string", default: "20000" },
    files: { type: "string", default: "20000" },
    rate: { type: "string", default: "2000" },
    secs: { type: "string", default: "2" },
  },
});
const clamp = (v: string | undefined, lo: number, hi: number) =>
  Math.min(hi, Math.max(lo, Number(v)));
const EXECS = clamp(values.execs, 100, 100_000);
const FILES = clamp(values.files, 100, 1_000_000);
const RATE = clamp(values.rate, 10, 20_000);
const SECS = clamp(values.secs, 0.5, 30);

if (Deno.uid() !== 0) {
  console.error("bench:sensors needs root (BPF programs and auditd)");
  Deno.exit(1);
}

const STORM = fileURLToPath(new URL("./sensors/storm.py", import.meta.url));
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const dir = await Deno.makeTempDir({ prefix: "ironpost-bench-sensors-" });
const work = `${dir}/work`;
await Deno.mkdir(work);
const dec = new TextDecoder();

async function cmd(argv: string[], check = true): Promise<string> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (check && !out.success) {
    throw new Error(`${argv.join(" ")} failed: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** utime + stime of a process in ms (clock ticks are 100 Hz on Linux). */
function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

interface StormResult {
  execWall: number;
  fileWall: number;
  execCpu?: number;
  fileCpu?: number;
  execEvents?: number;
  fileEvents?: number;
  lost?: number;
}

async function storms(tracerPid?: number, counts?: () => Promise<[number, number, number]>) {
  const r: StormResult = { execWall: 0, fileWall: 0 };
  const before = counts ? await counts() : undefined;
  let cpu0 = tracerPid ? cpuMs(tracerPid) : 0;
  r.execWall = Number(await cmd(["python3", STORM, "exec", String(EXECS)]));
  await new Promise((res) => setTimeout(res, 1500)); // let the tracer catch up
  if (tracerPid) {
    const c = cpuMs(tracerPid);
    r.execCpu = c - cpu0;
    cpu0 = c;
  }
  const mid = counts ? await counts() : undefined;
  r.fileWall = Number(await cmd(["python3", STORM, "files", work, String(FILES)]));
  await new Promise((res) => setTimeout(res, 1500));
  if (tracerPid) r.fileCpu = cpuMs(tracerPid) - cpu0;
  if (counts && before && mid) {
    const after = await counts();
    r.execEvents = mid[0] - before[0];
    r.fileEvents = after[1] - mid[1];
    r.lost = after[2] - before[2];
  }
  return r;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Spawn /bin/true at RATE/s; returns pid → spawn time (ms, epoch) and the achieved rate. */
async function paced(): Promise<{ spawned: Map<number, number>; achieved: string }> {
  const out = await cmd(["python3", STORM, "paced", String(RATE), String(SECS)]);
  const spawned = new Map<number, number>();
  let achieved = "";
  for (const line of out.split("\n")) {
    if (line.startsWith("#")) {
      achieved = line.slice(2);
      continue;
    }
    const [pid, ns] = line.split(" ");
    if (ns) spawned.set(Number(pid), Number(BigInt(ns) / 1000n) / 1000);
  }
  return { spawned, achieved };
}

const nowMs = () => performance.timeOrigin + performance.now();

// ---- 1. no tracer ----------------------------------------------------------------------
console.log(`exec storm: ${EXECS} x /bin/true; file storm: ${FILES} x create/write/unlink`);
const base = await storms();
console.log(`baseline: exec ${base.execWall.toFixed(2)} s, files ${base.fileWall.toFixed(2)} s`);

// ---- 2. Ironpost --------------------------------------------------------------------
const config = `${dir}/ironpost.toml`;
await Deno.writeTextFile(
  config,
  `[general]\nstate_dir = "${dir}/state"\npid_file = "${dir}/run/ironpost.pid"\n` +
    `control_socket = "${dir}/run/ironpost.sock"\nlog_level = "warn"\n` +
    `[channels]\nhost_capacity = 100000\n[sensors]\nenabled = true\n`,
);
const loaded = await loadConfig({ path: config });
const socket = loaded.config.general.control_socket;
const agent = new Deno.Command(Deno.execPath(), {
  args: ["run", ...agentPermissions(loaded, Deno.execPath()), MAIN, "run", "--config", config],
  stdout: "null",
  stderr: "inherit",
}).spawn();
async function metric(name: string, label = ""): Promise<number> {
  const text = (await controlRequest(socket, "GET", "/metrics")).body;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && line.includes(label)) sum += Number(line.split(" ").pop());
  }
  return sum;
}
let ours: StormResult;
const ourLatency: number[] = [];
let ourPaced = { spawned: new Map<number, number>(), achieved: "" };
let ourLostPaced = 0;
try {
  const deadline = Date.now() + 20_000;
  while (true) {
    try {
      if ((await controlRequest(socket, "GET", "/health", 1000)).status === 200) break;
    } catch { /* starting */ }
    if (Date.now() > deadline) throw new Error("agent not healthy in 20 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  ours = await storms(agent.pid, async () => [
    await metric("ironpost_sensor_records_emitted_total", 'type="exec"'),
    await metric("ironpost_sensor_records_emitted_total", 'type="file"'),
    await metric("ironpost_sensor_records_lost_total"),
  ]);
  // latency: follow /events while the paced run spawns
  const seen = new Map<number, number>();
  const stop = new AbortController();
  const reader = controlStream(socket, "/events?kind=process", (line) => {
    const t = nowMs();
    const m = /"action":"exec","pid":(\d+)/.exec(line);
    if (m) seen.set(Number(m[1]), t);
  }, stop.signal);
  await new Promise((r) => setTimeout(r, 500));
  const lost0 = await metric("ironpost_sensor_records_lost_total", 'type="exec"');
  ourPaced = await paced();
  await new Promise((r) => setTimeout(r, 1500));
  ourLostPaced = await metric("ironpost_sensor_records_lost_total", 'type="exec"') - lost0;
  stop.abort();
  await reader;
  for (const [pid, t0] of ourPaced.spawned) {
    const t1 = seen.get(pid);
    if (t1 !== undefined) ourLatency.push(t1 - t0);
  }
} finally {
  agent.kill("SIGTERM");
  await agent.status;
}

// ---- 3. auditd ----------------------------------------------------------------------
const auditLog = `${dir}/audit.log`;
const auditConf = `${dir}/auditd.conf`;
await Deno.writeTextFile(
  auditConf,
  `log_file = ${auditLog}\nlog_format = RAW\nflush = NONE\nfreq = 0\nnum_logs = 1\n` +
    `max_log_file = 4096\nmax_log_file_action = ROTATE\nspace_left = 10\n` +
    `space_left_action = IGNORE\nadmin_space_left = 5\nadmin_space_left_action = IGNORE\n` +
    `disk_full_action = IGNORE\ndisk_error_action = IGNORE\nwrite_logs = yes\n`,
);
let theirs: StormResult | undefined;
const theirLatency: number[] = [];
let theirPaced = { spawned: new Map<number, number>(), achieved: "" };
let auditNote = "";
const auditd = new Deno.Command("auditd", {
  args: ["-n", "-c", dir], // -n: no fork; -f would log to stderr, not the file
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  await new Promise((r) => setTimeout(r, 1500));
  await cmd(["auditctl", "-D"]);
  await cmd(["auditctl", "-b", "8192"]);
  await cmd(["auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-k", "ipb_exec"]);
  await cmd(["auditctl", "-w", work, "-p", "wa", "-k", "ipb_file"]);
  await cmd(["auditctl", "-e", "1"]);
  const lostNow = async () => Number(/lost (\d+)/.exec(await cmd(["auditctl", "-s"]))?.[1] ?? 0);
  const countKey = async (key: string) => {
    const text = await Deno.readTextFile(auditLog).catch(() => "");
    let n = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith("type=SYSCALL") && line.includes(`key="${key}"`)) n++;
    }
    return n;
  };
  theirs = await storms(auditd.pid, async () => [
    await countKey("ipb_exec"),
    await countKey("ipb_file"),
    await lostNow(),
  ]);
  // latency: tail audit.log for the paced pids
  const seen = new Map<number, number>();
  let offset = (await Deno.stat(auditLog)).size;
  let tailing = true;
  const tail = (async () => {
    const f = await Deno.open(auditLog);
    const buf = new Uint8Array(1 << 20);
    let rest = "";
    try {
      while (tailing) {
        await f.seek(offset, Deno.SeekMode.Start);
        const n = await f.read(buf);
        if (!n) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        const t = nowMs();
        offset += n;
        rest += dec.decode(buf.subarray(0, n));
        const lines = rest.split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) {
          if (!l.startsWith("type=SYSCALL") || !l.includes('key="ipb_exec"')) continue;
          const m = / pid=(\d+) /.exec(l);
          if (m && !seen.has(Number(m[1]))) seen.set(Number(m[1]), t);
        }
      }
    } finally {
      f.close();
    }
  })();
  theirPaced = await paced();
  await new Promise((r) => setTimeout(r, 1500));
  tailing = false;
  await tail;
  for (const [pid, t0] of theirPaced.spawned) {
    const t1 = seen.get(pid);
    if (t1 !== undefined) theirLatency.push(t1 - t0);
  }
} catch (err) {
  auditNote = `auditd run failed: ${err instanceof Error ? err.message : err}`;
} finally {
  await cmd(["auditctl", "-D"], false);
  await cmd(["auditctl", "-e", "0"], false);
  auditd.kill("SIGTERM");
  await auditd.status;
}

// ---- report -------------------------------------------------------------------------
const over = (t: number, b: number) => `${(((t - b) / b) * 100).toFixed(1)}%`;
const perExec = (t: number) => `${(((t - base.execWall) / EXECS) * 1e6).toFixed(0)} µs`;
const row = (name: string, r: StormResult | undefined) =>
  r
    ? `${name.padEnd(10)} ${r.execWall.toFixed(2).padStart(8)} ${
      over(r.execWall, base.execWall).padStart(8)
    } ${perExec(r.execWall).padStart(9)} ${r.fileWall.toFixed(2).padStart(8)} ${
      over(r.fileWall, base.fileWall).padStart(8)
    } ${String(r.execCpu ?? "-").padStart(8)} ${String(r.fileCpu ?? "-").padStart(8)} ${
      String(r.execEvents ?? "-").padStart(8)
    } ${String(r.fileEvents ?? "-").padStart(8)} ${String(r.lost ?? "-").padStart(6)}`
    : `${name.padEnd(10)} (not run) ${auditNote}`;
console.log(
  `\n${"tracer".padEnd(10)} ${"exec s".padStart(8)} ${"over".padStart(8)} ${
    "per exec".padStart(9)
  } ${"files s".padStart(8)} ${"over".padStart(8)} ${"cpu ex ms".padStart(8)} ${
    "cpu fi ms".padStart(8)
  } ${"exec ev".padStart(8)} ${"file ev".padStart(8)} ${"lost".padStart(6)}`,
);
console.log(row("none", base));
console.log(row("ironpost", ours!));
console.log(row("auditd", theirs));
if (theirs) {
  const ratio = (a: number, b: number) =>
    b - base.execWall === 0 ? "-" : ((a - base.execWall) / (b - base.execWall)).toFixed(2);
  const fratio = (a: number, b: number) =>
    b - base.fileWall === 0 ? "-" : ((a - base.fileWall) / (b - base.fileWall)).toFixed(2);
  console.log(
    `overhead ratio ironpost/auditd: exec ${ratio(ours!.execWall, theirs.execWall)}, files ${
      fratio(ours!.fileWall, theirs.fileWall)
    } (target <= 0.5)`,
  );
}
const lat = (name: string, xs: number[], p: { spawned: Map<number, number>; achieved: string }) => {
  xs.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(10)} paced ${p.achieved}: ${xs.length}/${p.spawned.size} seen, ` +
      `latency p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${
        (xs[xs.length - 1] ?? NaN).toFixed(2)
      } ms`,
  );
};
console.log(`\nexec-to-event latency at ${RATE}/s asked for ${SECS} s:`);
lat("ironpost", ourLatency, ourPaced);
console.log(`${"".padEnd(10)} exec records lost during the paced run: ${ourLostPaced}`);
if (theirs) lat("auditd", theirLatency, theirPaced);
await Deno.remove(dir, { recursive: true });
