/**
 * The container guard's benchmark (issue 13), as root:
 *
 * 1. Ban latency, CPU per line and detections against fail2ban 1.0.2 (Debian `fail2ban`,
 *    with `nftables`; this bench installs nothing and says what is missing). Both tail an
 *    sshd auth log file the bench writes (the same lines for both, stamped with the current
 *    time): fail2ban's `sshd` jail (maxretry 5, findtime 10m, its nftables action with drop;
 *    see bench/guard/fail2ban.ts) in the foreground inside a network namespace, and the real
 *    Ironpost agent (derived flags) with the shipped rules (`rules/`) and policies
 *    (`config/policies/`: block-ssh-brute-force, a block_ip decision) and XDP on a veth facing
 *    an attacker namespace.
 *    - (a) Detections: loghub's OpenSSH_2k.log replayed into the file (each line stamped now,
 *      so fail2ban's findtime applies to them as to live lines): the sources each bans.
 *    - (b) Ban latency: a failed login is the two lines sshd writes ("Failed password for
 *      nobody from A port P ssh2" and "Connection closed by authenticating user nobody A port
 *      P [preauth]"). A calibration source finds the line at which each tool bans (fail2ban:
 *      the 5th "Failed password"; Ironpost: whatever its shipped rule needs). Each trial, a
 *      fresh source address from 198.18.0.0/15 opens TCP connects to a listener every 2 ms
 *      (bench/guard/probe.py, from the attacker namespace); the lines before the threshold
 *      are written and left to settle (not banned yet), then the threshold line is written
 *      and the time to the first connect whose SYN is dropped (from then on every one is) is
 *      the ban latency. 20 trials each (`--trials`); p50, p99.
 *    - (c) CPU: 200,000 lines (`--lines`; loghub's lines cycled, stamped now) appended at
 *      full speed; user+sys of the tool's process from /proc/<pid>/stat until it goes idle:
 *      lines/s and CPU µs per line.
 * 2. The guard's own latency: (a) an AlertEvent (the shipped container_etc_write rule) into
 *    GuardModule in-process (real ContainerInventory, real Docker, the shipped policies,
 *    cooldown 0) to the pause action done (checked with Docker after each; unpaused between
 *    trials), 200 alerts (`--alerts`); (b) `docker exec` of an /etc write in a container to
 *    the container paused, through the real agent's sensors, rules and guard (cooldown 0,
 *    suppression 0), 30 trials by default (`--exec-trials`; each costs an exec, a pause
 *    and an unpause, about 1.5 s), from the CLI's start and from Docker's exec_start event.
 *
 * Run: deno task bench:guard [--trials 20] [--lines 200000] [--alerts 200]
 *      [--exec-trials 30] [--only f2b,ironpost,guard]
 * Everything is bounded in count and time; namespaces, links, containers and temp files are
 * removed at the end; only 198.18.0.0/15 addresses and loopback are used.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../mod/config/mod.ts";
import { ContainerInventory } from "../mod/containers/mod.ts";
import {
  type ActionEvent,
  type AlertEvent,
  Channel,
  type DecisionEvent,
  newEvent,
} from "../mod/core/mod.ts";
import { agentPermissions, builtSections, controlRequest } from "../mod/daemon/mod.ts";
import { GuardModule } from "../mod/guard/mod.ts";
import type { GuardConfig } from "../mod/guard/spec.ts";
import { SqliteStore } from "../mod/store/mod.ts";
import { type Fail2ban, fail2banMissing, startFail2ban } from "./guard/fail2ban.ts";
import {
  cpuTicks,
  createPair,
  type Pair,
  pct,
  run,
  sleep,
  startListener,
  startProbe,
  table,
  TICK_MS,
  waitFor,
  which,
} from "./guard/sys.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAIN = `${ROOT}main.ts`;
const RULES = `${ROOT}rules`;
const POLICIES = `${ROOT}config/policies`;
const LOGHUB = fileURLToPath(
  new URL("../../shared/data/logs/loghub/OpenSSH_2k.log", import.meta.url),
);
const ETC_RULE = "7d9f1b3d-5a8c-4e0f-9b4d-7b8c9d0e2a13"; // rules/container_etc_write.yml
const PORT = 2022;
const IMAGE = "ironpost-test/busybox:1";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    trials: { type: "string", default: "20" },
    lines: { type: "string", default: "200000" },
    alerts: { type: "string", default: "200" },
    "exec-trials": { type: "string", default: "30" },
    only: { type: "string", default: "f2b,ironpost,guard" },
  },
});
const int = (v: string | undefined, lo: number, hi: number, name: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    console.error(`--${name} must be an integer from ${lo} to ${hi}`);
    Deno.exit(2);
  }
  return n;
};
const TRIALS = int(values.trials, 1, 100, "trials");
const LINES = int(values.lines, 1000, 1_000_000, "lines");
const ALERTS = int(values.alerts, 1, 1000, "alerts");
const EXEC_TRIALS = int(values["exec-trials"], 1, 200, "exec-trials");
const ONLY = new Set(values.only!.split(","));

if (Deno.uid() !== 0) {
  console.error("bench:guard needs root (XDP, network namespaces, nftables, Docker)");
  Deno.exit(1);
}

// --- sshd lines ------------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** A syslog timestamp for now, in local time (as rsyslog writes it and both tools read it). */
function stamp(d = new Date()): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ` +
    d.toTimeString().slice(0, 8);
}

/** The two lines sshd writes for one failed password login from `ip`. */
function loginLines(ip: string, k: number): string[] {
  const port = 40000 + k;
  const pid = 20000 + k;
  return [
    `host sshd[${pid}]: Failed password for nobody from ${ip} port ${port} ssh2`,
    `host sshd[${pid}]: Connection closed by authenticating user nobody ${ip} port ${port} [preauth]`,
  ];
}

/** `n` lines of a brute force from `ip` (login after login), without timestamps. */
function attackLines(ip: string, n: number): string[] {
  const out: string[] = [];
  for (let k = 0; out.length < n; k++) out.push(...loginLines(ip, k));
  return out.slice(0, n);
}

async function append(file: string, rests: string[]): Promise<void> {
  const s = stamp();
  await Deno.writeTextFile(file, rests.map((r) => `${s} ${r}\n`).join(""), { append: true });
}

/** loghub's OpenSSH_2k.log without its timestamps: "LabSZ sshd[…]: …". */
function loghubRests(): string[] {
  return Deno.readTextFileSync(LOGHUB).split("\n").map((l) => l.replace(/\r$/, ""))
    .filter((l) => l !== "").map((l) => l.replace(/^[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d /, ""));
}

// --- the tools -------------------------------------------------------------------------

interface Tool {
  name: string;
  pid: number;
  note: string;
  banned(): Promise<Set<string>>;
  stop(): Promise<void>;
}

async function startIronpost(p: Pair, dir: string, log: string): Promise<Tool> {
  const config = `${dir}/ironpost.toml`;
  await Deno.writeTextFile(
    config,
    `[general]\nstate_dir = "${dir}/state"\npid_file = "${dir}/run/ironpost.pid"\n` +
      `control_socket = "${dir}/run/ironpost.sock"\nlog_format = "json"\nlog_file = "${dir}/agent.log"\n` +
      `shutdown_timeout_secs = 5\n` +
      `[ebpf]\nenabled = true\ninterface = "${p.dev}"\n` +
      `[log_pipeline]\nenabled = true\nfile_paths = ["${log}"]\nrules_dir = "${RULES}"\n` +
      `[container]\nenabled = true\npolicy_dir = "${POLICIES}"\nmax_actions_per_minute = 10000\n`,
    { mode: 0o644 },
  );
  const socket = `${dir}/run/ironpost.sock`;
  const child = await spawnAgent(config);
  const healthy = await waitFor(
    async () => {
      try {
        return (await controlRequest(socket, "GET", "/health", 1000)).status === 200;
      } catch {
        return false;
      }
    },
    30_000,
    100,
  );
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    const t = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 15_000);
    await child.status;
    clearTimeout(t);
  };
  if (!healthy) {
    await stop();
    const log = await Deno.readTextFile(`${dir}/agent.log`).catch(() => "");
    throw new Error(`the agent did not become healthy:\n${log.slice(-2000)}`);
  }
  return {
    name: "Ironpost",
    pid: child.pid,
    note: "shipped rules + block-ssh-brute-force, XDP",
    async banned() {
      const r = await controlRequest(socket, "GET", "/decisions", 5000);
      const list = (JSON.parse(r.body).decisions ?? []) as { cidr: string }[];
      return new Set(list.map((d) => d.cidr.replace(/\/32$/, "")));
    },
    stop,
  };
}

async function spawnAgent(config: string): Promise<Deno.ChildProcess> {
  const loaded = await loadConfig({ path: config, builtModules: builtSections() });
  const flags = agentPermissions(loaded, Deno.execPath());
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN, "run", "--config", config],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function startF2b(p: Pair, dir: string, log: string): Promise<Tool> {
  const f: Fail2ban = await startFail2ban(p, dir, log, PORT);
  return {
    name: "fail2ban",
    pid: f.pid,
    note: `sshd jail, ${f.backend} backend, nftables (drop)`,
    banned: () => f.banned(),
    stop: () => f.stop(),
  };
}

interface ToolRun {
  tool: string;
  note: string;
  flagged?: string[];
  thresholdLine?: number;
  latencies: number[];
  failures: string[];
  lines?: number;
  secs?: number;
  cpuMs?: number;
}

/** Wait until `tool`'s banned set stops growing for `quietMs` (at most `maxMs`). */
async function settledBans(tool: Tool, quietMs: number, maxMs: number): Promise<Set<string>> {
  const deadline = Date.now() + maxMs;
  let last = await tool.banned();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await sleep(250);
    const now = await tool.banned();
    if (now.size !== last.size) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

async function benchTool(
  which: "fail2ban" | "Ironpost",
  settleMs: number,
): Promise<ToolRun> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-bench-guard-" });
  const log = `${dir}/auth.log`;
  await Deno.writeTextFile(log, "");
  const p = await createPair(which === "fail2ban" ? "f" : "i", TRIALS + 3, which === "fail2ban");
  const out: ToolRun = { tool: which, note: "", latencies: [], failures: [] };
  let tool: Tool | undefined;
  let listener: { stop(): Promise<void> } | undefined;
  try {
    listener = await startListener(p, PORT, 1800);
    tool = which === "fail2ban" ? await startF2b(p, dir, log) : await startIronpost(p, dir, log);
    out.note = tool.note;
    console.error(`[${which}] started (pid ${tool.pid}); replaying OpenSSH_2k.log`);

    // (a) detections on OpenSSH_2k.log, replayed into the file.
    await append(log, loghubRests());
    out.flagged = [...await settledBans(tool, 4000, 60_000)].sort();

    // (b) calibration: the line of a brute force at which this tool bans.
    const cal = p.sources[0];
    const lines = attackLines(cal, 16);
    for (let i = 0; i < lines.length && out.thresholdLine === undefined; i++) {
      await append(log, [lines[i]]);
      if (await waitFor(async () => (await tool!.banned()).has(cal), settleMs, 20)) {
        out.thresholdLine = i + 1;
      }
    }
    if (out.thresholdLine === undefined) {
      out.failures.push(`no ban after ${lines.length} lines of a brute force`);
      return out;
    }
    const k = out.thresholdLine;
    console.error(`[${which}] bans at line ${k} of a brute force; ${TRIALS} trials`);
    for (let t = 0; t < TRIALS; t++) {
      const src = p.sources[1 + t];
      const seq = attackLines(src, k);
      const probe = startProbe(p, src, PORT, { intervalMs: 2, timeoutMs: 250, maxSecs: 6 });
      try {
        await probe.ready;
      } catch (e) {
        out.failures.push(`trial ${t}: ${(e as Error).message}`);
        continue;
      }
      if (k > 1) await append(log, seq.slice(0, k - 1));
      await sleep(settleMs);
      if ((await tool.banned()).has(src)) {
        out.failures.push(`trial ${t}: banned before the threshold line`);
        await probe.result.catch(() => undefined);
        continue;
      }
      await append(log, [seq[k - 1]]);
      const t0 = Date.now();
      const r = await probe.result.catch((e) => e as Error);
      if (r instanceof Error) {
        out.failures.push(`trial ${t}: ${r.message}`);
      } else if (r.firstBlockedNs === null) {
        out.failures.push(`trial ${t}: not dropped within 6 s`);
      } else {
        out.latencies.push(r.firstBlockedNs / 1e6 - t0);
        if (r.okAfter > 0) out.failures.push(`trial ${t}: ${r.okAfter} connects after a drop`);
      }
    }

    // (c) CPU while LINES lines are appended at full speed.
    const rests = loghubRests();
    const all: string[] = [];
    for (let i = 0; i < LINES; i++) all.push(rests[i % rests.length]);
    const c0 = cpuTicks(tool.pid) ?? 0;
    const start = performance.now();
    for (let i = 0; i < all.length; i += 10_000) await append(log, all.slice(i, i + 10_000));
    // Idle: no CPU tick for 2 s (both poll their file at most every second).
    let last = c0;
    let lastChange = performance.now();
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      await sleep(100);
      const c = cpuTicks(tool.pid) ?? last;
      if (c - last > 1) {
        last = c;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > 2000) break;
    }
    out.lines = LINES;
    out.secs = (lastChange - start) / 1000;
    out.cpuMs = ((cpuTicks(tool.pid) ?? last) - c0) * TICK_MS;
    return out;
  } catch (e) {
    out.failures.push((e as Error).message);
    return out;
  } finally {
    await tool?.stop().catch(() => {});
    await listener?.stop().catch(() => {});
    await p.destroy();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// --- 2. the guard's own latency --------------------------------------------------------

const docker = (args: string[], ms = 30_000) => run(["docker", ...args], ms);

async function containerUp(name: string): Promise<string> {
  await docker(["rm", "-f", name]);
  const r = await docker(["run", "-d", "--name", name, IMAGE, "sleep", "3600"], 60_000);
  if (r.code !== 0) throw new Error(`docker run: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function dockerPaused(name: string): Promise<boolean> {
  return (await docker(["inspect", "-f", "{{.State.Paused}}", name])).stdout.trim() === "true";
}

async function alertToPaused(): Promise<{ ms: number[]; failures: string[] }> {
  const name = `ironpost-ct-bench-alert-${Deno.pid}`;
  const dir = await Deno.makeTempDir({ prefix: "ironpost-bench-guard-" });
  const id = await containerUp(name);
  const store = await SqliteStore.open(`${dir}/ironpost.db`);
  const inventory = new ContainerInventory({ socketPath: "/var/run/docker.sock" });
  const alerts = new Channel<AlertEvent>("alerts", 1000);
  const actions = new Channel<ActionEvent>("actions", 10_000);
  const decisions = new Channel<DecisionEvent>("decisions", 1000);
  const cfg: GuardConfig = {
    enabled: true,
    policy_dir: POLICIES,
    cache_ttl_secs: 60,
    retry_attempts: 0,
    retry_backoff_secs: 0,
    dry_run: false,
    cooldown_secs: 0,
    max_actions_per_minute: 10_000,
    protected: [],
    protected_sources: [],
    queue_capacity: 100,
    queue_max_wait_secs: 60,
  };
  const guard = new GuardModule(cfg, { alerts, actions, decisions }, {
    store,
    containers: inventory,
    packetFilter: { enabled: false, allowlist: [], allowlistFiles: [] },
    env: () => undefined,
  });
  let waiter: ((a: ActionEvent) => void) | undefined;
  const drain = (async () => {
    for await (const a of actions) waiter?.(a);
  })();
  const ms: number[] = [];
  const failures: string[] = [];
  await guard.start();
  try {
    const ref = { id, name, image: IMAGE };
    for (let i = 0; i < ALERTS; i++) {
      const alert = newEvent<AlertEvent>({
        kind: "alert",
        ruleId: ETC_RULE,
        title: "Write under /etc inside a container",
        severity: "high",
        source: "sensors",
        tags: ["attack.persistence"],
        evidence: [],
        container: ref,
      });
      const done = new Promise<ActionEvent | undefined>((res) => {
        const t = setTimeout(() => res(undefined), 10_000);
        waiter = (a) => {
          if (a.alertId === alert.id && a.action === "pause") {
            clearTimeout(t);
            res(a);
          }
        };
      });
      const t0 = performance.now();
      await alerts.send(alert);
      const a = await done;
      const dt = performance.now() - t0;
      if (!a || a.outcome !== "done") {
        failures.push(`alert ${i}: ${a ? `${a.outcome} ${a.error ?? ""}` : "no action in 10 s"}`);
      } else {
        // Checked with Docker itself (not the inventory's cache), outside the timing.
        if (!await dockerPaused(name)) failures.push(`alert ${i}: Docker says not paused`);
        else ms.push(dt);
      }
      // A pause and an unpause in quick succession can race in runc ("cannot resume a
      // running process"): retry a few times.
      for (let k = 0; k < 5 && await dockerPaused(name); k++) {
        if ((await docker(["unpause", name])).code !== 0) await sleep(50);
      }
    }
  } finally {
    alerts.close();
    await guard.stop();
    actions.close();
    decisions.close();
    await drain;
    await store.close();
    await docker(["rm", "-f", name]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return { ms, failures };
}

async function execToPaused(): Promise<
  { fromCli: number[]; fromExec: number[]; failures: string[] }
> {
  const name = `ironpost-ct-bench-exec-${Deno.pid}`;
  const dir = await Deno.makeTempDir({ prefix: "ironpost-bench-guard-" });
  const config = `${dir}/ironpost.toml`;
  await Deno.writeTextFile(
    config,
    `[general]\nstate_dir = "${dir}/state"\npid_file = "${dir}/run/ironpost.pid"\n` +
      `control_socket = "${dir}/run/ironpost.sock"\nlog_format = "json"\nlog_file = "${dir}/agent.log"\n` +
      `shutdown_timeout_secs = 5\n[sensors]\nenabled = true\n` +
      `[log_pipeline]\nenabled = true\nrules_dir = "${RULES}"\nsuppress_window_secs = 0\n` +
      `[container]\nenabled = true\npolicy_dir = "${POLICIES}"\ncooldown_secs = 0\n` +
      `max_actions_per_minute = 10000\n`,
    { mode: 0o644 },
  );
  const fromCli: number[] = [];
  const fromExec: number[] = [];
  const failures: string[] = [];
  const agent = await spawnAgent(config);
  let events: Deno.ChildProcess | undefined;
  try {
    const socket = `${dir}/run/ironpost.sock`;
    const ok = await waitFor(
      async () => {
        try {
          return (await controlRequest(socket, "GET", "/health", 1000)).status === 200;
        } catch {
          return false;
        }
      },
      30_000,
      100,
    );
    if (!ok) throw new Error("the agent did not become healthy");
    const id = await containerUp(name);
    await sleep(1000);
    events = new Deno.Command("docker", {
      args: ["events", "--filter", `container=${id}`, "--format", "{{json .}}"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const queue: { action: string; ns: number }[] = [];
    void (async () => {
      let buf = "";
      for await (const chunk of events!.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const e = JSON.parse(line);
            queue.push({ action: String(e.Action ?? e.status), ns: Number(e.timeNano) });
          } catch { /* not JSON */ }
        }
      }
    })().catch(() => {});
    await sleep(500);
    for (let i = 0; i < EXEC_TRIALS; i++) {
      queue.length = 0;
      const t0 = Date.now();
      const exec = new Deno.Command("docker", {
        args: ["exec", name, "sh", "-c", `echo ${i} >> /etc/bench-guard`],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const paused = await waitFor(() => queue.some((e) => e.action === "pause"), 5000, 5);
      if (!paused) failures.push(`trial ${i}: not paused within 5 s`);
      else {
        const p = queue.find((e) => e.action === "pause")!.ns / 1e6;
        fromCli.push(p - t0);
        const ex = queue.find((e) => e.action.startsWith("exec_start"));
        if (ex) fromExec.push(p - ex.ns / 1e6);
      }
      const st = await docker(["inspect", "-f", "{{.State.Paused}}", name]);
      if (st.stdout.trim() === "true") await docker(["unpause", name]);
      const t = setTimeout(() => {
        try {
          exec.kill("SIGKILL");
        } catch { /* exited */ }
      }, 10_000);
      await exec.status;
      clearTimeout(t);
      await sleep(300);
    }
  } finally {
    try {
      events?.kill("SIGTERM");
    } catch { /* gone */ }
    await events?.status;
    await docker(["rm", "-f", name]);
    try {
      agent.kill("SIGTERM");
    } catch { /* gone */ }
    await agent.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return { fromCli, fromExec, failures };
}

// --- main ------------------------------------------------------------------------------

const f = (x: number, d = 1) => Number.isFinite(x) ? x.toFixed(d) : "-";
const ratio = (a: number, b: number) =>
  Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}x` : "-";

console.log(`bench:guard — ${new Date().toISOString()}, Deno ${Deno.version.deno}`);
const missingF2b = fail2banMissing();
const runs: ToolRun[] = [];
if (ONLY.has("f2b")) {
  if (missingF2b) console.log(`fail2ban: skipped: ${missingF2b}`);
  else runs.push(await benchTool("fail2ban", 1500));
}
if (ONLY.has("ironpost")) {
  const miss = ["ip", "python3"].filter((n) => !which(n));
  if (miss.length) console.log(`Ironpost: skipped: ${miss.join(", ")} not installed`);
  else runs.push(await benchTool("Ironpost", 400));
}
const f2b = runs.find((r) => r.tool === "fail2ban");
const iron = runs.find((r) => r.tool === "Ironpost");

if (runs.length) {
  console.log(`\n[1a] Sources banned on OpenSSH_2k.log (2,000 lines, replayed, stamped now)`);
  console.log(table(
    ["tool", "sources", "setup"],
    runs.map((r) => [r.tool, r.flagged?.length ?? "-", r.note]),
  ));
  if (f2b?.flagged && iron?.flagged) {
    const a = new Set(f2b.flagged);
    const b = new Set(iron.flagged);
    console.log(`  both: ${[...a].filter((x) => b.has(x)).length}`);
    console.log(`  fail2ban only: ${[...a].filter((x) => !b.has(x)).join(" ") || "none"}`);
    console.log(`  Ironpost only: ${[...b].filter((x) => !a.has(x)).join(" ") || "none"}`);
  }

  console.log(
    `\n[1b] Ban latency: threshold line written -> first SYN dropped (${TRIALS} trials, fresh source each)`,
  );
  console.log(table(
    ["tool", "bans at line", "n", "p50 ms", "p99 ms", "min ms", "max ms"],
    runs.map((r) => [
      r.tool,
      r.thresholdLine ?? "-",
      r.latencies.length,
      f(pct(r.latencies, 0.5)),
      f(pct(r.latencies, 0.99)),
      f(Math.min(...r.latencies)),
      f(Math.max(...r.latencies)),
    ]),
  ));
  console.log(
    "  (a failed login is 2 lines: Failed password + Connection closed [preauth]; fail2ban's " +
      "5th failure is line 9)",
  );
  if (f2b && iron) {
    console.log(
      `  ratio fail2ban/Ironpost: p50 ${
        ratio(pct(f2b.latencies, 0.5), pct(iron.latencies, 0.5))
      }, ` +
        `p99 ${ratio(pct(f2b.latencies, 0.99), pct(iron.latencies, 0.99))}; ` +
        `Ironpost p99 / fail2ban p50 = ${
          f(pct(iron.latencies, 0.99) / pct(f2b.latencies, 0.5), 3)
        } (target < 0.1)`,
    );
  }

  console.log(`\n[1c] CPU while ${LINES.toLocaleString("en")} lines are appended at full speed`);
  console.log(table(
    ["tool", "lines", "secs", "lines/s", "CPU ms", "CPU us/line"],
    runs.map((r) => [
      r.tool,
      r.lines ?? "-",
      f(r.secs ?? NaN, 2),
      f((r.lines ?? NaN) / (r.secs ?? NaN), 0),
      r.cpuMs ?? "-",
      f((r.cpuMs ?? NaN) * 1000 / (r.lines ?? NaN), 2),
    ]),
  ));
  if (f2b?.cpuMs && iron?.cpuMs) {
    console.log(
      `  ratio fail2ban/Ironpost: CPU per line ${ratio(f2b.cpuMs, iron.cpuMs)}, lines/s ${
        ratio(iron.lines! / iron.secs!, f2b.lines! / f2b.secs!)
      } (Ironpost/fail2ban); target CPU per line < 1/10 of fail2ban's`,
    );
  }
  for (const r of runs) {
    for (const x of r.failures.slice(0, 10)) console.log(`  ${r.tool}: ${x}`);
  }
}

if (ONLY.has("guard")) {
  const ok = (await docker(["image", "inspect", IMAGE])).code === 0;
  if (!ok) {
    console.log(
      `\n[2] skipped: Docker or the test image ${IMAGE} is missing (deno task test makes it)`,
    );
  } else {
    console.error(`[guard] ${ALERTS} alerts in-process`);
    const a = await alertToPaused();
    console.error(`[guard] ${EXEC_TRIALS} docker exec trials`);
    const e = await execToPaused();
    console.log(`\n[2] Guard latency`);
    console.log(table(
      ["measure", "n", "p50 ms", "p99 ms", "max ms", "target p99"],
      [
        [
          "AlertEvent -> paused (in-process GuardModule)",
          a.ms.length,
          f(pct(a.ms, 0.5)),
          f(pct(a.ms, 0.99)),
          f(Math.max(...a.ms)),
          "< 100 ms",
        ],
        [
          "docker exec (CLI start) -> paused (agent)",
          e.fromCli.length,
          f(pct(e.fromCli, 0.5)),
          f(pct(e.fromCli, 0.99)),
          f(Math.max(...e.fromCli)),
          "< 1000 ms",
        ],
        [
          "exec_start event -> paused (agent)",
          e.fromExec.length,
          f(pct(e.fromExec, 0.5)),
          f(pct(e.fromExec, 0.99)),
          f(Math.max(...e.fromExec)),
          "",
        ],
      ],
    ));
    for (const x of [...a.failures, ...e.failures].slice(0, 10)) console.log(`  ${x}`);
  }
}
