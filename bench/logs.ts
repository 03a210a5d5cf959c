/**
 * Log pipeline throughput, memory and UDP intake, against CrowdSec.
 *
 * 1. A 200,000-line sshd log (loghub's OpenSSH_2k.log repeated, each copy shifted later by
 *    the sample's span rounded up to 10 min, first copy on Jan 1 of this year, so timestamps
 *    keep increasing within one calendar year) through Ironpost's sshd parser and the shipped
 *    rules (`LineParser({source: "sshd"})` + `Pipeline`, agent defaults), and through
 *    Debian's CrowdSec 1.4.6 replaying the same file with the sshd collection (see
 *    bench/logs/crowdsec.ts for how it is configured offline). Lines/s, CPU, peak RSS, and
 *    the source IPs each flags for SSH brute force: Ironpost's "SSH brute-force burst from one
 *    source" (rules/ssh_brute_force_burst.yml, which counts the lines ssh-bf counts and fires
 *    where its leaky bucket overflows) against CrowdSec's crowdsecurity/ssh-bf, both sets and
 *    their difference; when they differ, a second, untimed replay pours the same lines into a
 *    reference leaky bucket per address to say why.
 * 2. The same file through the 248 SigmaHQ Linux rules plus the shipped rules.
 * 3. Peak RSS on 1,000,000 lines through the Ironpost path.
 * 4. UDP syslog at 10k, 50k and 100k messages/s for 10 s each, from a paced sender process
 *    on 127.0.0.1 into `SyslogUdpSource` (4 MiB receive buffer): received, lost, loss %.
 *
 * Every Ironpost figure comes from its own `deno run` subprocess (bench/logs/replay.ts,
 * bench/logs/udp_recv.ts) with the agent's V8 flags; peak RSS is its VmHWM at the end.
 * Everything is bounded in count and time, uses loopback only, and removes its temp files;
 * every CrowdSec process it starts is stopped.
 *
 * Run (as root for CrowdSec's sake; needs `apt-get install crowdsec`):
 *   deno task bench:logs [--lines 200000] [--big-lines 1000000] [--udp-rates 10000,50000,100000]
 *                        [--udp-secs 10] [--udp-receiver auto|recvmmsg|node:dgram]
 *                        [--no-crowdsec] [--crowdsec-timeout 420]
 *                        [--only throughput,sigma,memory,udp]
 * `--only` runs the named parts ([1] throughput, [2] sigma, [3] memory, [4] udp) and skips
 * the rest, and the input files they do not need.
 * Targets: ≥10× CrowdSec's lines/s with the same detections; peak RSS < 150 MB on
 * 1,000,000 lines; no loss at 50k msg/s and < 0.5% at 100k msg/s.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { derivePermissions, loadConfig } from "../mod/config/mod.ts";
import { errorMessage } from "../mod/core/mod.ts";
import { readSample, writeShiftedLog } from "./logs/gen.ts";
import {
  type CrowdsecDetection,
  type CrowdsecResult,
  killStarted,
  leftRunning,
  runCrowdsec,
} from "./logs/crowdsec.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    lines: { type: "string", default: "200000" },
    "big-lines": { type: "string", default: "1000000" },
    "udp-rates": { type: "string", default: "10000,50000,100000" },
    "udp-secs": { type: "string", default: "10" },
    "udp-receiver": { type: "string", default: "auto" },
    "no-crowdsec": { type: "boolean", default: false },
    only: { type: "string", default: "throughput,sigma,memory,udp" },
    "crowdsec-timeout": { type: "string", default: "420" },
    data: { type: "string" },
  },
});
const clamp = (v: string | undefined, lo: number, hi: number, name: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) {
    console.error(`--${name} must be a number from ${lo} to ${hi}`);
    Deno.exit(2);
  }
  return Math.round(n);
};
const LINES = clamp(values.lines, 2000, 2_000_000, "lines");
const BIG_LINES = clamp(values["big-lines"], 2000, 5_000_000, "big-lines");
const UDP_SECS = clamp(values["udp-secs"], 1, 30, "udp-secs");
const UDP_RATES = values["udp-rates"]!.split(",").filter((s) => s !== "").map((s) =>
  clamp(s, 100, 200_000, "udp-rates")
);
const CS_TIMEOUT_MS = clamp(values["crowdsec-timeout"], 30, 900, "crowdsec-timeout") * 1000;
const PARTS = ["throughput", "sigma", "memory", "udp"] as const;
const ONLY = new Set(values.only!.split(",").filter((s) => s !== ""));
for (const p of ONLY) {
  if (!(PARTS as readonly string[]).includes(p)) {
    console.error(`--only takes a list of ${PARTS.join(", ")}; got "${p}"`);
    Deno.exit(2);
  }
}
const run = (part: typeof PARTS[number]) => ONLY.has(part);
const UDP_RECEIVER = values["udp-receiver"]!;
if (!["auto", "recvmmsg", "node:dgram"].includes(UDP_RECEIVER)) {
  console.error("--udp-receiver must be auto, recvmmsg or node:dgram");
  Deno.exit(2);
}

const REPO = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const DATA = values.data ?? `${REPO}/../shared/data`;
const SAMPLE = `${DATA}/logs/loghub/OpenSSH_2k.log`;
const SIGMA = `${DATA}/sigma/rules`;
const RULES = `${REPO}/rules`;
const CONFIG = `${REPO}/deno.json`;
const YEAR = new Date().getUTCFullYear();
/** "Now" for the parser: late in the data's year, so every Jan–Mar line is read as YEAR. */
const REFERENCE_MS = Date.UTC(YEAR, 11, 30);

const tmp = await Deno.makeTempDir({ prefix: "ironpost-bench-logs-" });

/**
 * The agent's V8 flags, from the one place that sets them (derivePermissions in
 * mod/config/permissions.ts), for a config with every default.
 */
async function agentV8Flags(): Promise<string> {
  const path = `${tmp}/ironpost.toml`;
  await Deno.writeTextFile(path, "");
  const { config } = await loadConfig({ path, builtModules: new Set() });
  const flag = derivePermissions(config, { configPath: path, selfExec: Deno.execPath() })
    .find((f) => f.startsWith("--v8-flags="));
  return flag?.slice("--v8-flags=".length) ?? "";
}
const AGENT_V8 = await agentV8Flags();
/** The agent's flags without its heap sizing: V8's default young and old generation growth. */
const V8_DEFAULT_HEAP = AGENT_V8.split(",").filter((f) =>
  !/^--(max-semi-space-size|heap-growing-percent)=/.test(f)
).join(",");
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  killStarted();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
const children = new Set<Deno.ChildProcess>();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, async () => {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch {
        // exited
      }
    }
    await cleanup();
    Deno.exit(130);
  });
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const mb = (kb: number) => fmt(kb / 1024, 1);
const verdict = (ok: boolean) => ok ? "met" : "NOT met";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// deno-lint-ignore no-explicit-any
type Json = any;

/** A bench worker in its own process: its JSON line, and spawn-to-exit wall time. */
async function worker(args: string[], timeoutMs: number): Promise<{ out: Json; wallMs: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--config", CONFIG, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.add(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }, timeoutMs);
  const res = await child.output();
  const wallMs = performance.now() - t0;
  clearTimeout(timer);
  children.delete(child);
  const stdout = new TextDecoder().decode(res.stdout).trim();
  if (timedOut || !res.success) {
    throw new Error(
      `worker ${args.find((a) => a.endsWith(".ts"))} ${
        timedOut ? "timed out" : `exited ${res.code}`
      }: ${new TextDecoder().decode(res.stderr).trim().slice(-800)}`,
    );
  }
  return { out: JSON.parse(stdout.split("\n").at(-1)!), wallMs };
}

function replay(input: string, rules: string[], extra: { bucket?: string; v8?: string } = {}) {
  return worker([
    // Reading /proc/self/status (VmHWM) needs --allow-all in Deno 2.
    "--allow-all",
    `--v8-flags=${extra.v8 ?? AGENT_V8}`,
    fileURLToPath(new URL("./logs/replay.ts", import.meta.url)),
    "--input",
    input,
    ...rules.flatMap((r) => ["--rules", r]),
    "--source",
    "sshd",
    "--reference-ms",
    String(REFERENCE_MS),
    ...(extra.bucket ? ["--bucket", extra.bucket] : []),
  ], 600_000);
}

/** id and title of a shipped rule file's first document. */
async function ruleMeta(file: string): Promise<{ id: string; title: string }> {
  const text = await Deno.readTextFile(`${RULES}/${file}`);
  return {
    id: /^id:\s*(\S+)/m.exec(text)?.[1] ?? "",
    title: /^title:\s*(.+)$/m.exec(text)?.[1].trim() ?? file,
  };
}

function ipsOf(out: Json, ids: string[]): Set<string> {
  const s = new Set<string>();
  for (const id of ids) for (const ip of out.byRule[id]?.ips ?? []) s.add(ip);
  return s;
}

const ipSort = (a: string, b: string) => {
  const n = (ip: string) => ip.split(".").map((x) => x.padStart(3, "0")).join(".");
  return n(a) < n(b) ? -1 : n(a) > n(b) ? 1 : 0;
};
const list = (s: Iterable<string>) => {
  const a = [...s].sort(ipSort);
  return a.length ? a.join(", ") : "none";
};

const benchStart = performance.now();
try {
  const cpuModel = /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1];
  console.log(
    `Ironpost log pipeline bench — deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPU(s)` +
      `${cpuModel ? ` (${cpuModel})` : ""}, ${new Date().toISOString().slice(0, 16)}Z`,
  );

  // ---- inputs
  const sample = readSample(await Deno.readTextFile(SAMPLE));
  const mid = `${tmp}/sshd_${LINES}.log`;
  const big = `${tmp}/sshd_${BIG_LINES}.log`;
  const needMid = run("throughput") || run("sigma");
  const g1 = needMid ? await writeShiftedLog(sample, mid, LINES, YEAR) : undefined;
  const g2 = run("memory") ? await writeShiftedLog(sample, big, BIG_LINES, YEAR) : undefined;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  const shift = `${Math.floor(sample.shiftMs / 3_600_000)}h${
    String((sample.shiftMs / 60_000) % 60).padStart(2, "0")
  }m`;
  console.log(
    `input: loghub OpenSSH_2k.log (${fmt(sample.rests.length)} real sshd lines) repeated, ` +
      `copy k shifted by k × ${shift} (the sample's span, rounded up)`,
  );
  const described = [[LINES, g1], [BIG_LINES, g2]] as const;
  console.log(
    "  " +
      described.filter(([, g]) => g).map(([n, g]) =>
        `${fmt(n)} lines: ${g!.copies} copies, ${day(g!.firstMs)} → ${day(g!.lastMs)} UTC`
      ).join("; "),
  );
  console.log("");

  let ip: { out: Json; wallMs: number } | undefined;
  let ipo: Json | undefined;
  let cs: CrowdsecResult = { ok: false, reason: "not run (--only)" };
  let throughputOk: boolean | undefined;
  let sameOk: boolean | undefined;

  // ---- 1. Ironpost vs CrowdSec
  if (run("throughput")) {
    // The rule that mirrors ssh-bf, and the stricter rule kept beside it for reference.
    const burst = await ruleMeta("ssh_brute_force_burst.yml");
    const bf = await ruleMeta("ssh_brute_force.yml");
    const family = await Promise.all(
      [
        "ssh_brute_force_burst.yml",
        "ssh_brute_force.yml",
        "ssh_brute_force_slow.yml",
        "ssh_user_enumeration.yml",
      ].map(ruleMeta),
    );
    ip = await replay(mid, [RULES]);
    ipo = ip.out;
    if (values["no-crowdsec"]) cs = { ok: false, reason: "skipped (--no-crowdsec)" };
    else {
      try {
        cs = await runCrowdsec(mid, CS_TIMEOUT_MS);
      } catch (e) {
        cs = { ok: false, reason: `error: ${errorMessage(e)}` };
      }
    }

    console.log(
      `[1] sshd parser + brute-force correlation, ${fmt(LINES)} lines (same file for both)`,
    );
    const head = [
      "".padEnd(40),
      "wall s".padStart(8),
      "lines/s".padStart(10),
      "proc s".padStart(8),
      "lines/s".padStart(10),
      "CPU s".padStart(7),
      "peak RSS MB".padStart(12),
      "alerts".padStart(8),
    ].join("");
    console.log(head);
    const row = (
      name: string,
      wallMs: number,
      procMs: number | undefined,
      cpuMs: number,
      rssKb: number,
      alerts: number,
    ) =>
      console.log([
        name.padEnd(40),
        fmt(wallMs / 1000, 2).padStart(8),
        fmt(LINES / (wallMs / 1000)).padStart(10),
        (procMs !== undefined ? fmt(procMs / 1000, 2) : "n/a").padStart(8),
        (procMs ? fmt(LINES / (procMs / 1000)) : "n/a").padStart(10),
        fmt(cpuMs / 1000, 1).padStart(7),
        mb(rssKb).padStart(12),
        fmt(alerts).padStart(8),
      ].join(""));
    row(
      `Ironpost (${ipo.rules} rules, ${ipo.correlations} corr.)`,
      ip.wallMs,
      ipo.runMs,
      ipo.runCpuMs,
      ipo.vmHwmKb,
      ipo.alerts,
    );
    if (cs.ok) {
      row(
        `CrowdSec ${cs.version.replace(/^v/, "").split("-")[0]} (linux+sshd, 4 buckets)`,
        cs.wallMs,
        cs.processingMs,
        cs.cpuMs,
        cs.peakRssKb,
        cs.detections.length,
      );
      const wallRatio = cs.wallMs / ip.wallMs;
      const procRatio = cs.processingMs ? cs.processingMs / ipo.runMs : undefined;
      console.log(
        `${"Ironpost ÷ CrowdSec".padEnd(40)}${"".padStart(8)}${
          (fmt(wallRatio, 1) + "×").padStart(10)
        }${"".padStart(8)}${(procRatio ? fmt(procRatio, 1) + "×" : "n/a").padStart(10)}${
          (fmt(cs.cpuMs / ipo.runCpuMs, 1) + "× less").padStart(14)
        }${(fmt(ipo.vmHwmKb / cs.peakRssKb, 2) + "×").padStart(10)}`,
      );
      console.log(
        "  wall = process start to exit (startup, rule/scenario loading and shutdown included);\n" +
          "  proc = Ironpost's parse+evaluate loop / CrowdSec's 'Starting processing data' → " +
          "'Acquisition is finished' (log stamps, 1 s steps).\n" +
          `  Ironpost peak RSS: VmHWM of its process; CrowdSec: ${cs.rssFrom} (agent + LAPI + ` +
          `SQLite in one process). CrowdSec parser_routines=${cs.parserRoutines} (Debian's default).`,
      );
      throughputOk = wallRatio >= 10;

      // Detections.
      const csBy = (d: CrowdsecDetection[], scen?: string[]) =>
        new Set(d.filter((x) => !scen || scen.includes(x.scenario)).map((x) => x.ip));
      const ipBurst = ipsOf(ipo, [burst.id]);
      const csBf = csBy(cs.detections, ["crowdsecurity/ssh-bf"]);
      const onlyI = [...ipBurst].filter((x) => !csBf.has(x));
      const onlyC = [...csBf].filter((x) => !ipBurst.has(x));
      sameOk = onlyI.length === 0 && onlyC.length === 0;
      console.log("");
      console.log("  source IPs flagged for SSH brute force:");
      console.log(
        `    Ironpost "${burst.title}" (ssh_auth_failure lines per IP; fires where ssh-bf's ` +
          `bucket overflows: n ≥ 6 lines within 10·(n−5)−1 s, n = 6…11): ${ipBurst.size}: ` +
          list(ipBurst),
      );
      console.log(
        "    CrowdSec crowdsecurity/ssh-bf (leaky bucket: capacity 5, leak 1/10 s, blackhole " +
          `1 m, every ssh_failed-auth line): ${csBf.size}: ${list(csBf)}`,
      );
      console.log(
        `    in both: ${[...ipBurst].filter((x) => csBf.has(x)).length}; only Ironpost: ${
          list(onlyI)
        }; only CrowdSec: ${list(onlyC)} → same IPs: ${sameOk ? "yes" : "NO"}`,
      );
      const ipBf = ipsOf(ipo, [bf.id]);
      console.log(
        `    for reference, Ironpost "${bf.title}" (≥10 'Failed password' lines within 1 min, ` +
          `stricter): ${ipBf.size}: ${list(ipBf)}`,
      );
      // A cross-check that tells parsing from windowing: the same lines through a reference
      // leaky bucket with ssh-bf's settings (a second, untimed replay).
      const ex = (await replay(mid, [RULES], { bucket: "ssh_auth_failure" })).out;
      const refBf = new Set(
        Object.entries(ex.bucket ?? {}).filter(([, b]) => (b as Json).overflows > 0).map(([x]) =>
          x
        ),
      );
      const refSame = refBf.size === csBf.size && [...refBf].every((x) => csBf.has(x));
      console.log(
        `    reference leaky bucket (ssh-bf's settings) over the lines ssh_auth_failure counts: ` +
          `${refBf.size} IPs, ${refSame ? "the same as CrowdSec's" : `DIFFER: ${list(refBf)}`}`,
      );
      if (!sameOk) {
        const csCount = (x: string) =>
          cs.ok
            ? cs.detections.filter((d) => d.ip === x && d.scenario === "crowdsecurity/ssh-bf")
              .length
            : 0;
        console.log(
          "    why — per IP: the lines ssh_auth_failure counts, what a reference leaky bucket " +
            "with ssh-bf's settings does with them, and CrowdSec's own ssh-bf alerts:",
        );
        for (const x of [...onlyI, ...onlyC].sort(ipSort)) {
          const b = ex.bucket?.[x] ?? { lines: 0, overflows: 0, reported: 0 };
          console.log(
            `      ${x.padEnd(16)} ${String(b.lines).padStart(6)} lines, bucket overflows ` +
              `${b.overflows} (${b.reported} past the blackhole${
                b.first ? `, first ${b.first.slice(0, 19)}Z` : ""
              }); Ironpost ${ipBurst.has(x) ? "flags" : "does not flag"} it; CrowdSec ssh-bf ` +
              `alerts ${csCount(x)}`,
          );
        }
        console.log(
          "      (an overflow the reference bucket has and the ladder misses is one witnessed " +
            "only by more than 11 lines, or by a span just under 10·(n−5) s with sub-second " +
            "stamps; lines counted only by one side point at a parsing difference)",
        );
      }
      const ipFam = ipsOf(ipo, family.map((f) => f.id));
      const csFam = csBy(cs.detections);
      console.log(
        `  all SSH brute-force/enumeration rules — Ironpost (${
          family.map((f) => f.title).join(", ")
        }): ${ipFam.size} IPs; CrowdSec (ssh-bf, ssh-slow-bf, *_user-enum): ${csFam.size} IPs; ` +
          `only Ironpost: ${list([...ipFam].filter((x) => !csFam.has(x)))}; only CrowdSec: ${
            list([...csFam].filter((x) => !ipFam.has(x)))
          }`,
      );
      if (cs.cscli) {
        const a = csBy(cs.cscli, ["crowdsecurity/ssh-bf"]);
        const agree = a.size === csBf.size && [...a].every((x) => csBf.has(x));
        console.log(
          `  cscli alerts list: ${fmt(cs.cscli.length)} alert(s) (its log: ${
            fmt(cs.detections.length)
          }); ssh-bf IPs ${agree ? "match" : `DIFFER: ${list(a)}`} the log's`,
        );
      } else console.log(`  cscli alerts list: not available (${cs.cscliProblem})`);
    } else {
      console.log(`CrowdSec: not run — ${cs.reason}`);
      console.log(
        `  Ironpost alone flags for "${burst.title}": ${list(ipsOf(ipo, [burst.id]))}`,
      );
    }
    console.log("");
  }

  // ---- 2. SigmaHQ
  if (run("sigma")) {
    // The shipped rules alone, for comparison: [1]'s run, or one of its own.
    const shipped: Json = ipo ?? (await replay(mid, [RULES])).out;
    const sg = await replay(mid, [SIGMA, RULES]);
    const so = sg.out;
    const shippedIds = new Set(Object.keys(shipped.byRule));
    let sigmaAlerts = 0;
    for (const [id, r] of Object.entries(so.byRule) as [string, { alerts: number }][]) {
      if (!shippedIds.has(id)) sigmaAlerts += r.alerts;
    }
    console.log(
      `[2] ${fmt(LINES)} lines through the SigmaHQ Linux rules + the shipped rules ` +
        `(${
          so.rules - shipped.rules
        } SigmaHQ + ${shipped.rules} shipped rules, ${so.correlations} ` +
        `correlations, ${so.loadErrors.length} load error(s))`,
    );
    console.log(
      `  load ${fmt(so.loadMs / 1000, 2)} s; proc ${fmt(so.runMs / 1000, 2)} s = ` +
        `${fmt(LINES / (so.runMs / 1000))} lines/s; wall ${fmt(sg.wallMs / 1000, 2)} s = ` +
        `${fmt(LINES / (sg.wallMs / 1000))} lines/s; peak RSS ${mb(so.vmHwmKb)} MB`,
    );
    console.log(
      `  alerts ${fmt(so.alerts)} (SigmaHQ rules: ${fmt(sigmaAlerts)}, shipped: ${
        fmt(so.alerts - sigmaAlerts)
      }), rule matches ${fmt(so.matches)}, suppressed ${fmt(so.suppressed)}; ` +
        `shipped rules alone: ${fmt(shipped.alerts)} alerts at ${
          fmt(LINES / (shipped.runMs / 1000))
        } lines/s`,
    );
    for (const e of so.loadErrors.slice(0, 5)) console.log(`  load error: ${e}`);
    console.log("");
  }

  // ---- 3. 1,000,000 lines
  let bo: Json | undefined;
  if (run("memory")) {
    const bg = await replay(big, [RULES]);
    bo = bg.out;
    console.log(`[3] ${fmt(BIG_LINES)} lines through the Ironpost path (shipped rules)`);
    console.log(
      `  peak RSS ${mb(bo.vmHwmKb)} MB (VmHWM; V8 heap at the end: used ${
        mb(bo.heapUsedKb)
      } MB of ${mb(bo.heapTotalKb)} MB); ${fmt(BIG_LINES / (bo.runMs / 1000))} lines/s proc, ` +
        `wall ${fmt(bg.wallMs / 1000, 1)} s; ${fmt(bo.alerts)} alerts`,
    );
    console.log(`  agent V8 flags: ${AGENT_V8}`);
    if (V8_DEFAULT_HEAP !== AGENT_V8) {
      const dflt = await replay(big, [RULES], { v8: V8_DEFAULT_HEAP });
      console.log(
        `  for comparison, V8's default heap sizing (--v8-flags=${V8_DEFAULT_HEAP}): ` +
          `peak RSS ${mb(dflt.out.vmHwmKb)} MB at ${
            fmt(BIG_LINES / (dflt.out.runMs / 1000))
          } lines/s (${fmt(dflt.out.alerts)} alerts)`,
      );
    }
    console.log("");
  }

  // ---- 4. UDP
  const udp: Json[] = [];
  if (run("udp")) {
    console.log(
      `[4] UDP syslog into SyslogUdpSource (127.0.0.1, recvBufferBytes 4 MiB, channel 10,000, ` +
        `drained by a counting loop), ${UDP_SECS} s per rate, paced sender in another process`,
    );
    console.log(
      [
        "offered/s".padStart(10),
        "sent".padStart(11),
        "send s".padStart(8),
        "received".padStart(11),
        "lost".padStart(10),
        "loss %".padStart(8),
        "kernel drops".padStart(13),
        "queue drops".padStart(12),
        "recv CPU %".padStart(11),
        "send CPU %".padStart(11),
      ].join(""),
    );
    for (const rate of UDP_RATES) {
      const u = (await worker([
        "-A",
        `--v8-flags=${AGENT_V8}`,
        fileURLToPath(new URL("./logs/udp_recv.ts", import.meta.url)),
        "--rate",
        String(rate),
        "--secs",
        String(UDP_SECS),
        "--sample",
        SAMPLE,
        "--receiver",
        UDP_RECEIVER,
      ], (UDP_SECS + 60) * 1000)).out;
      udp.push(u);
      console.log(
        [
          fmt(rate).padStart(10),
          fmt(u.sent).padStart(11),
          fmt(u.sendSecs, 2).padStart(8),
          fmt(u.received).padStart(11),
          fmt(u.lost).padStart(10),
          fmt(u.lossPct, 2).padStart(8),
          fmt(u.kernelDrops).padStart(13),
          fmt(u.queueDrops).padStart(12),
          fmt(u.recvCpuPct).padStart(11),
          fmt(u.sendCpuPct).padStart(11),
        ].join(""),
      );
      await sleep(500);
    }
    console.log(
      `  receiver: ${udp[0]?.receiver ?? "?"}${
        udp[0]?.fallbackReason ? ` (fallback: ${udp[0].fallbackReason})` : ""
      }; send s > the test length means the sender fell behind its pace`,
    );
    console.log("");
  }
  const at = (r: number) => udp.find((u) => u.rate === r);

  // ---- targets
  console.log("Targets");
  if (cs.ok && ip && ipo) {
    const ratio = cs.wallMs / ip.wallMs;
    console.log(
      `  ≥10× CrowdSec's lines/s: ${fmt(ratio, 1)}× (wall; proc ${
        cs.processingMs ? fmt(cs.processingMs / ipo.runMs, 1) + "×" : "n/a"
      }) — ${verdict(throughputOk!)}; same detections: ${
        sameOk ? "yes" : "no (see [1])"
      } — overall ${verdict(throughputOk! && sameOk!)}`,
    );
  } else {
    console.log(
      `  ≥10× CrowdSec's lines/s with the same detections: n/a (${
        cs.ok ? "Ironpost not run" : cs.reason
      })`,
    );
  }
  console.log(
    `  peak RSS < 150 MB on ${fmt(BIG_LINES)} lines: ${
      bo ? `${mb(bo.vmHwmKb)} MB — ${verdict(bo.vmHwmKb < 150 * 1024)}` : "n/a (not run)"
    }`,
  );
  const u50 = at(50_000);
  const u100 = at(100_000);
  console.log(
    `  no loss at 50k msg/s: ${
      u50 ? `${fmt(u50.lost)} lost (${fmt(u50.lossPct, 2)}%) — ${verdict(u50.lost === 0)}` : "n/a"
    }; ` +
      `< 0.5% at 100k msg/s: ${
        u100 ? `${fmt(u100.lossPct, 2)}% — ${verdict(u100.lossPct < 0.5)}` : "n/a"
      }`,
  );
  const left = leftRunning();
  console.log(
    `CrowdSec processes started by this bench still running: ${
      left.length ? left.join(", ") : "none"
    }; bench took ${fmt((performance.now() - benchStart) / 1000)} s`,
  );
} finally {
  await cleanup();
}
