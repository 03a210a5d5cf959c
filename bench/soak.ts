/**
 * Soak: the real agent (`deno run` with the flags its config derives, never -A) under a
 * steady, bounded load for `--minutes` (default 30), its memory and open files sampled.
 *
 * The agent runs the host sensors, the log pipeline (the shipped `rules/`) and the container
 * guard (the shipped `config/policies/`, dry run). Load, all on loopback and bounded:
 * - an auth log file the pipeline tails, appended every 100 ms at `--rate` lines/s (default
 *   500) of sshd "Failed password" lines from a fixed set of 198.18.x.y sources (so
 *   correlation state has a steady size and brute-force alerts keep coming);
 * - UDP syslog (RFC 3164) to the agent's socket on 127.0.0.1 at `--udp-rate` datagrams/s
 *   (default 100), from 198.18.200.x sources;
 * - `--exec-rate` short processes a second on the host (default 5) for the sensors.
 *
 * Every `--interval` seconds (default 10) it samples the agent's RSS (VmRSS of
 * /proc/PID/status), its open file descriptors (entries of /proc/PID/fd) and the lines and
 * alerts it reports in /metrics; it prints a progress line a minute, a table at 1, 5, 10,
 * 20 and 30 minutes (those within the run, and the end), and whether RSS and FDs are flat
 * after warm-up: the least-squares slope over the last two thirds of the run, projected over
 * that span, under max(4 MB, 3 % of the mean RSS) and under two FDs. SIGINT or SIGTERM ends
 * the run early with what was sampled. Root (the sensors); not part of CI.
 *
 *   deno task bench:soak [--minutes 30] [--rate 500] [--udp-rate 100] [--exec-rate 5]
 *                        [--interval 10]
 */
import dgram from "node:dgram";
import { parseArgs } from "node:util";
import { controlRequest } from "../mod/daemon/mod.ts";
import { agentFlags, MAIN, ROOT, waitHealthy } from "../tests/helpers/agent.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "30" },
    rate: { type: "string", default: "500" },
    "udp-rate": { type: "string", default: "100" },
    "exec-rate": { type: "string", default: "5" },
    interval: { type: "string", default: "10" },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const udpRate = Number(values["udp-rate"]);
const execRate = Number(values["exec-rate"]);
const intervalSecs = Number(values.interval);
if (
  !(minutes > 0 && minutes <= 24 * 60) || !(rate >= 0 && rate <= 100_000) ||
  !(udpRate >= 0 && udpRate <= 100_000) || !(execRate >= 0 && execRate <= 100) ||
  !(intervalSecs >= 1 && intervalSecs <= 600)
) {
  console.error(
    "usage: soak.ts [--minutes 1..1440] [--rate 0..100000] [--udp-rate 0..100000] " +
      "[--exec-rate 0..100] [--interval 1..600]",
  );
  Deno.exit(2);
}
if (Deno.uid() !== 0) {
  console.error("soak.ts runs the host sensors: run it as root");
  Deno.exit(2);
}

/** Distinct sources of the file's lines (a fixed set: steady correlation state). */
const FILE_SOURCES = 1024;
const UDP_SOURCES = 64;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function syslogStamp(d: Date): string {
  const p = (x: number) => String(x).padStart(2, "0");
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function failedPassword(ip: string, n: number): string {
  return `sshd[${1000 + (n % 30000)}]: Failed password for invalid user u${n % 97} from ${ip} ` +
    `port ${1024 + (n % 60000)} ssh2`;
}

/** A free UDP port on 127.0.0.1 (bound, read, released). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Sample {
  secs: number;
  rssKb: number;
  fds: number;
  lines: number;
  alerts: number;
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : NaN;
}

function fdCount(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** Sum of every sample of a metric family in the agent's /metrics. */
async function metricSums(socket: string, names: string[]): Promise<number[]> {
  const sums = names.map(() => 0);
  try {
    const r = await controlRequest(socket, "GET", "/metrics", 5000);
    for (const line of r.body.split("\n")) {
      if (line.startsWith("#")) continue;
      const i = names.findIndex((n) => line.startsWith(`${n} `) || line.startsWith(`${n}{`));
      if (i >= 0) sums[i] += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  } catch {
    return names.map(() => NaN);
  }
  return sums;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => (kb / 1024).toFixed(1);

const udpPort = await freeUdpPort();
const dir = await Deno.makeTempDir({ prefix: "ironpost-soak-" });
const authLog = `${dir}/auth.log`;
const socket = `${dir}/run/ironpost.sock`;
const config = `${dir}/ironpost.toml`;
await Deno.writeTextFile(authLog, "");
await Deno.writeTextFile(
  config,
  `[general]
state_dir = "${dir}/state"
pid_file = "${dir}/run/ironpost.pid"
control_socket = "${socket}"
log_level = "warn"
log_format = "json"
shutdown_timeout_secs = 10

[sensors]
enabled = true

[log_pipeline]
enabled = true
rules_dir = "${ROOT}rules"
file_paths = ["${authLog}"]
syslog_udp_addr = "127.0.0.1:${udpPort}"

[container]
enabled = true
policy_dir = "${ROOT}config/policies"
dry_run = true
`,
);

const agentLog = await Deno.open(`${dir}/agent.log`, { write: true, create: true });
const agent = new Deno.Command(Deno.execPath(), {
  args: ["run", ...(await agentFlags(config)), MAIN, "run", "--config", config],
  env: { NO_COLOR: "1" },
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
const logged = agent.stderr.pipeTo(agentLog.writable).catch(() => {});
let agentExit: Deno.CommandStatus | undefined;
agent.status.then((s) => agentExit = s);

let stopping = false;
const stop = () => stopping = true;
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

const samples: Sample[] = [];
const load: Promise<void>[] = [];
let fileLines = 0;
let udpSent = 0;
let execs = 0;
let udp: dgram.Socket | undefined;
let report = "";

try {
  if (!(await waitHealthy(socket, 60_000))) {
    throw new Error(`the agent did not become healthy; see ${dir}/agent.log`);
  }
  const t0 = Date.now();
  const endAt = t0 + minutes * 60_000;
  const running = () => !stopping && agentExit === undefined && Date.now() < endAt;
  console.log(
    `soak: agent pid ${agent.pid}, ${minutes} min; ${rate} lines/s to ${authLog}, ` +
      `${udpRate} datagrams/s to 127.0.0.1:${udpPort}, ${execRate} execs/s; ` +
      `sampling every ${intervalSecs} s`,
  );

  // The auth log: every 100 ms, rate/10 lines (the fraction carried over).
  load.push((async () => {
    let owed = 0;
    let tick = t0;
    while (running()) {
      owed += rate / 10;
      const n = Math.floor(owed);
      owed -= n;
      if (n > 0) {
        const stamp = syslogStamp(new Date());
        let text = "";
        for (let i = 0; i < n; i++) {
          const k = fileLines + i;
          const src = k % FILE_SOURCES;
          text += `${stamp} soakhost ${
            failedPassword(`198.18.${src >> 8}.${(src & 255) + 1}`, k)
          }\n`;
        }
        await Deno.writeTextFile(authLog, text, { append: true });
        fileLines += n;
      }
      tick += 100;
      await sleep(Math.max(0, tick - Date.now()));
    }
  })());

  // UDP syslog: every 100 ms, udpRate/10 datagrams.
  if (udpRate > 0) {
    const sock = dgram.createSocket("udp4");
    udp = sock;
    load.push((async () => {
      let owed = 0;
      let tick = t0;
      while (running()) {
        owed += udpRate / 10;
        const n = Math.floor(owed);
        owed -= n;
        const stamp = syslogStamp(new Date());
        for (let i = 0; i < n; i++) {
          const k = udpSent + i;
          const msg = `<38>${stamp} soakhost ${
            failedPassword(`198.18.200.${(k % UDP_SOURCES) + 1}`, k)
          }`;
          await new Promise<void>((resolve) =>
            sock.send(msg, udpPort, "127.0.0.1", () => resolve())
          );
        }
        udpSent += n;
        tick += 100;
        await sleep(Math.max(0, tick - Date.now()));
      }
    })());
  }

  // Short processes for the sensors: `execRate` a second, one at a time.
  if (execRate > 0) {
    load.push((async () => {
      let tick = t0;
      while (running()) {
        await new Deno.Command("/bin/true", { stdout: "null", stderr: "null" }).output();
        execs++;
        tick += 1000 / execRate;
        await sleep(Math.max(0, tick - Date.now()));
      }
    })());
  }

  // Samples every interval (and one at the end); a progress line every minute.
  let lastProgress = 0;
  let next = t0;
  for (;;) {
    const last = !running();
    const secs = (Date.now() - t0) / 1000;
    // RSS and FDs first: the /metrics request opens a connection of its own.
    let rss: number;
    let fds: number;
    try {
      rss = rssKb(agent.pid);
      fds = fdCount(agent.pid);
    } catch {
      break; // the agent is gone
    }
    const [lines, alerts] = await metricSums(socket, [
      "ironpost_log_lines_total",
      "ironpost_alerts_total",
    ]);
    const s: Sample = { secs, rssKb: rss, fds, lines, alerts };
    samples.push(s);
    if (secs - lastProgress >= 60 || samples.length === 1 || last) {
      lastProgress = secs;
      console.log(
        `  ${(secs / 60).toFixed(1).padStart(5)} min  RSS ${mb(s.rssKb).padStart(7)} MB  ` +
          `FDs ${String(s.fds).padStart(4)}  lines read ${s.lines} of ${fileLines + udpSent}  ` +
          `alerts ${s.alerts}`,
      );
    }
    if (last) break;
    next += intervalSecs * 1000;
    while (running() && Date.now() < next) await sleep(Math.min(500, next - Date.now()));
  }
  const lastSecs = samples.at(-1)?.secs ?? 0;

  // The table: the sample nearest each checkpoint minute within the run, and the last.
  const marks = [1, 5, 10, 20, 30, 60, 120, 240, 480, 960].filter((m) => m * 60 <= lastSecs + 5);
  const rows: Sample[] = [];
  for (const m of marks) {
    const near = samples.reduce((a, b) =>
      Math.abs(b.secs - m * 60) < Math.abs(a.secs - m * 60) ? b : a
    );
    if (!rows.includes(near)) rows.push(near);
  }
  const last = samples.at(-1);
  if (last && !rows.includes(last)) rows.push(last);
  const out: string[] = [];
  out.push("");
  out.push(
    `Soak: ${(lastSecs / 60).toFixed(1)} of ${minutes} min, agent pid ${agent.pid}` +
      (agentExit ? ` (EXITED with ${agentExit.code})` : ""),
  );
  out.push(
    `load: ${fileLines} file lines (${rate}/s), ${udpSent} UDP datagrams (${udpRate}/s), ` +
      `${execs} execs (${execRate}/s)`,
  );
  out.push("");
  out.push("minute    RSS (MB)   FDs   lines read       alerts");
  for (const r of rows) {
    out.push(
      `${(r.secs / 60).toFixed(1).padStart(6)}  ${mb(r.rssKb).padStart(10)}  ${
        String(r.fds).padStart(4)
      }  ${String(r.lines).padStart(11)}  ${String(r.alerts).padStart(11)}`,
    );
  }

  // Flat after warm-up: the slope over the last two thirds, projected over that span.
  const tail = samples.filter((s) => s.secs >= lastSecs / 3);
  if (tail.length >= 3) {
    const xs = tail.map((s) => s.secs / 60);
    const span = xs.at(-1)! - xs[0];
    const rssSlope = slope(xs, tail.map((s) => s.rssKb / 1024)); // MB/min
    const fdSlope = slope(xs, tail.map((s) => s.fds)); // FDs/min
    const meanRss = tail.reduce((a, s) => a + s.rssKb / 1024, 0) / tail.length;
    const rssLimit = Math.max(4, 0.03 * meanRss);
    const rssGrowth = rssSlope * span;
    const fdGrowth = fdSlope * span;
    const fdRange = Math.max(...tail.map((s) => s.fds)) - Math.min(...tail.map((s) => s.fds));
    out.push("");
    out.push(
      `after warm-up (${xs[0].toFixed(1)}-${xs.at(-1)!.toFixed(1)} min, ${tail.length} samples):`,
    );
    out.push(
      `  RSS slope ${rssSlope.toFixed(3)} MB/min (${rssGrowth.toFixed(1)} MB over the span; ` +
        `limit ${rssLimit.toFixed(1)} MB): ${rssGrowth <= rssLimit ? "FLAT" : "GROWING"}`,
    );
    out.push(
      `  FD slope ${fdSlope.toFixed(3)}/min (${fdGrowth.toFixed(1)} over the span, range ` +
        `${fdRange}; limit 2): ${fdGrowth < 2 ? "FLAT" : "GROWING"}`,
    );
  } else {
    out.push("", "too few samples for a slope");
  }
  report = out.join("\n");
} finally {
  stopping = true;
  await Promise.allSettled(load);
  udp?.close();
  if (agentExit === undefined) {
    try {
      agent.kill("SIGTERM");
    } catch { /* gone */ }
    const killer = setTimeout(() => {
      try {
        agent.kill("SIGKILL");
      } catch { /* gone */ }
    }, 20_000);
    await agent.status;
    clearTimeout(killer);
  }
  await logged;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  if (report) console.log(report);
  const status = await agent.status;
  console.log(`\nagent stopped (exit ${status.code})`);
  if (!report || status.code !== 0) {
    const text = await Deno.readTextFile(`${dir}/agent.log`).catch(() => "");
    console.log(
      `last lines of the agent's log:\n${text.trimEnd().split("\n").slice(-20).join("\n")}`,
    );
  }
  await Deno.remove(dir, { recursive: true });
}
