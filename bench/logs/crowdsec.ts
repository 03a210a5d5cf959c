/**
 * CrowdSec as the peer of bench/logs.ts: Debian's crowdsec 1.4.6 package replaying one file
 * in "time machine" mode with the sshd collection, from a private configuration in a temp
 * directory (nothing under /etc/crowdsec or /var/lib/crowdsec is touched, no service runs).
 *
 * - Hub items come from the package's offline hub (/usr/share/crowdsec/hub; `cscli hub
 *   update` and `cscli collections install` need hub-cdn.crowdsec.net). They are enabled the
 *   way the package's postinst does it: symlinks from the config dir, vendor stripped:
 *   collections linux + sshd, parsers syslog-logs, sshd-logs, dateparse-enrich, scenarios
 *   ssh-bf and ssh-slow-bf (4 buckets: ssh-bf, ssh-bf_user-enum, ssh-slow-bf,
 *   ssh-slow-bf_user-enum). Grok patterns: the package's /etc/crowdsec/patterns.
 * - `-dsn file://… -type syslog` needs the local API to push its alerts to (with -no-api it
 *   has nowhere to send them), so the LAPI runs in the same process on 127.0.0.1:<free port>
 *   with a private SQLite database; -no-capi keeps it off the network. Prometheus is off.
 *   Everything else is the package's config.yaml (parser_routines 1, WAL on as its postinst
 *   sets); the DB flush limit is removed so no alert is pruned before it is counted.
 * - Timing and peak RSS come from /usr/bin/time -v around the replay (when installed; else
 *   VmHWM and CPU ticks polled from /proc). Detections: the "Ip X performed 'S'" lines of its
 *   output, cross-checked with `cscli alerts list -o raw` against a LAPI-only run
 *   (`crowdsec -no-cs`) on the same database, stopped afterwards.
 */

export interface CrowdsecDetection {
  scenario: string;
  ip: string;
}

export type CrowdsecResult =
  | {
    ok: true;
    version: string;
    wallMs: number;
    /** "Starting processing data" to "Acquisition is finished" (log stamps, 1 s steps). */
    processingMs?: number;
    cpuMs: number;
    peakRssKb: number;
    rssFrom: string;
    detections: CrowdsecDetection[];
    /** From `cscli alerts list`; undefined with the reason when that could not run. */
    cscli?: CrowdsecDetection[];
    cscliProblem?: string;
    items: string[];
    parserRoutines: number;
  }
  | { ok: false; reason: string };

const HUB_DIRS = ["/usr/share/crowdsec/hub", "/var/lib/crowdsec/hub"];
const PATTERN_DIRS = ["/etc/crowdsec/patterns", "/usr/share/crowdsec/patterns"];
const ITEMS = [
  "collections/crowdsecurity/linux.yaml",
  "collections/crowdsecurity/sshd.yaml",
  "parsers/s00-raw/crowdsecurity/syslog-logs.yaml",
  "parsers/s01-parse/crowdsecurity/sshd-logs.yaml",
  "parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml",
  "scenarios/crowdsecurity/ssh-bf.yaml",
  "scenarios/crowdsecurity/ssh-slow-bf.yaml",
];
const PARSER_ROUTINES = 1; // Debian's /etc/crowdsec/config.yaml

/** Processes started here and not yet reaped, for `killStarted` on an early exit. */
const started = new Set<number>();

/** Kill (SIGKILL) the CrowdSec processes this module started that are still alive. */
export function killStarted(): void {
  for (const pid of started) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  started.clear();
}

/** The pids of CrowdSec processes this module started that are still running. */
export function leftRunning(): number[] {
  return [...started].filter((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/stat`).split(" ")[2] !== "Z";
    } catch {
      return false;
    }
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    if (dir && await exists(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { TZ: "UTC" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The direct children of `pid` (for the crowdsec under /usr/bin/time). */
function childrenOf(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter((s) => s !== "").map(Number);
  } catch {
    // No CONFIG_PROC_CHILDREN: scan for processes whose parent is `pid`.
    const out: number[] = [];
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
          out.push(Number(e.name));
        }
      } catch {
        // gone
      }
    }
    return out;
  }
}

function procSample(pid: number): { hwmKb: number; cpuTicks: number } | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ")".
    return { hwmKb: hwm ? Number(hwm[1]) : 0, cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

function parseDetections(log: string): CrowdsecDetection[] {
  const out: CrowdsecDetection[] = [];
  for (const m of log.matchAll(/Ip (\S+) performed '([^']+)'/g)) {
    out.push({ ip: m[1], scenario: m[2] });
  }
  return out;
}

/** `time="23-11-2026 21:07:21"` of the first line containing `text`, in ms. */
function logStamp(log: string, text: string): number | undefined {
  for (const line of log.split("\n")) {
    if (!line.includes(text)) continue;
    const m = /time="(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})"/.exec(line);
    if (m) return Date.UTC(+m[3], +m[2] - 1, +m[1], +m[4], +m[5], +m[6]);
  }
  return undefined;
}

function timeV(text: string, label: string): string | undefined {
  const i = text.lastIndexOf(label);
  if (i < 0) return undefined;
  return text.slice(i + label.length).split("\n")[0].trim();
}

/** Replay `input` through CrowdSec; `{ok:false, reason}` when it cannot run here. */
export async function runCrowdsec(input: string, timeoutMs: number): Promise<CrowdsecResult> {
  const crowdsec = await which("crowdsec");
  const cscli = await which("cscli");
  if (!crowdsec || !cscli) {
    return { ok: false, reason: "crowdsec/cscli not installed (apt-get install crowdsec)" };
  }
  let hub: string | undefined;
  for (const d of HUB_DIRS) {
    if ((await Promise.all(ITEMS.map((i) => exists(`${d}/${i}`)))).every((x) => x)) {
      hub = d;
      break;
    }
  }
  if (!hub) {
    return {
      ok: false,
      reason: `no offline hub with ${ITEMS.join(", ")} under ${HUB_DIRS.join(" or ")}`,
    };
  }
  let patterns: string | undefined;
  for (const d of PATTERN_DIRS) if (await exists(`${d}/ssh`)) patterns = d;
  if (!patterns) return { ok: false, reason: `no grok patterns in ${PATTERN_DIRS.join(" or ")}` };
  const version = /version:\s*(\S+)/.exec((await run(crowdsec, ["-version"], 10_000)).stderr)
    ?.[1] ?? "unknown";

  const dir = await Deno.makeTempDir({ prefix: "ironpost-bench-crowdsec-" });
  try {
    const port = freePort();
    const cfg = `${dir}/etc/config.yaml`;
    await Deno.mkdir(`${dir}/etc`, { recursive: true });
    await Deno.mkdir(`${dir}/data`, { recursive: true });
    await Deno.mkdir(`${dir}/log`, { recursive: true });
    await Deno.symlink(patterns, `${dir}/etc/patterns`);
    for (const item of ITEMS) {
      // postinst: /etc/crowdsec/<type>[/<stage>]/<name>.yaml -> hub/<type>[/<stage>]/<vendor>/<name>.yaml
      const parts = item.split("/");
      const linkDir = `${dir}/etc/${parts.slice(0, -2).join("/")}`;
      await Deno.mkdir(linkDir, { recursive: true });
      await Deno.symlink(`${hub}/${item}`, `${linkDir}/${parts.at(-1)}`);
    }
    await Deno.writeTextFile(
      cfg,
      `common:
  daemonize: false
  log_media: file
  log_level: info
  log_dir: ${dir}/log/
  working_dir: .
config_paths:
  config_dir: ${dir}/etc/
  data_dir: ${dir}/data/
  simulation_path: ${dir}/etc/simulation.yaml
  hub_dir: ${hub}/
  index_path: ${hub}/.index.json
  notification_dir: ${dir}/etc/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: ${dir}/etc/acquis.yaml
  parser_routines: ${PARSER_ROUTINES}
cscli:
  output: human
  hub_branch: master
db_config:
  log_level: info
  type: sqlite
  db_path: ${dir}/data/crowdsec.db
  use_wal: true
api:
  client:
    insecure_skip_verify: false
    credentials_path: ${dir}/etc/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:${port}
    profiles_path: ${dir}/etc/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
  level: full
  listen_addr: 127.0.0.1
  listen_port: ${freePort()}
`,
    );
    // The package's default profile: a 4 h ban for every IP-scoped alert with remediation.
    await Deno.writeTextFile(
      `${dir}/etc/profiles.yaml`,
      `name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
`,
    );
    await Deno.writeTextFile(`${dir}/etc/simulation.yaml`, "simulation: off\nexclusions: []\n");
    await Deno.writeTextFile(`${dir}/etc/acquis.yaml`, "\n");
    const add = await run(cscli, [
      "-c",
      cfg,
      "machines",
      "add",
      "ironpost-bench",
      "--auto",
      "--force",
      "-f",
      `${dir}/etc/local_api_credentials.yaml`,
    ], 60_000);
    if (add.code !== 0) {
      return { ok: false, reason: `cscli machines add failed: ${add.stderr.trim().slice(-300)}` };
    }

    // The replay.
    const gnuTime = await exists("/usr/bin/time") ? "/usr/bin/time" : undefined;
    const replayArgs = ["-c", cfg, "-dsn", `file://${input}`, "-type", "syslog", "-no-capi"];
    const t0 = performance.now();
    const child = new Deno.Command(gnuTime ?? crowdsec, {
      args: gnuTime ? ["-v", crowdsec, ...replayArgs] : replayArgs,
      stdout: "piped",
      stderr: "piped",
      env: { TZ: "UTC" },
    }).spawn();
    started.add(child.pid);
    const outText = new Response(child.stdout).text();
    const errText = new Response(child.stderr).text();
    let csPid: number | undefined = gnuTime ? undefined : child.pid;
    let last: { hwmKb: number; cpuTicks: number } | undefined;
    let exited = false;
    let timedOut = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    while (!exited) {
      if (csPid === undefined) {
        csPid = childrenOf(child.pid)[0];
        if (csPid !== undefined) started.add(csPid);
      }
      if (csPid !== undefined && !gnuTime) last = procSample(csPid) ?? last;
      if (performance.now() - t0 > timeoutMs) {
        timedOut = true;
        for (const pid of [csPid, child.pid]) {
          try {
            if (pid !== undefined) Deno.kill(pid, "SIGKILL");
          } catch {
            // exited
          }
        }
        break;
      }
      await Promise.race([status, sleep(100)]);
    }
    await status;
    const wallMs = performance.now() - t0;
    started.delete(child.pid);
    if (csPid !== undefined) started.delete(csPid);
    const log = (await outText) + (await errText);
    if (timedOut) return { ok: false, reason: `replay did not finish within ${timeoutMs} ms` };
    const detections = parseDetections(log);
    if (!log.includes("Acquisition is finished")) {
      return {
        ok: false,
        reason: `replay failed: ${log.trim().split("\n").slice(-5).join(" | ")}`,
      };
    }
    let cpuMs: number;
    let peakRssKb: number;
    let rssFrom: string;
    if (gnuTime) {
      cpuMs = 1000 *
        (Number(timeV(log, "User time (seconds):")) + Number(timeV(log, "System time (seconds):")));
      peakRssKb = Number(timeV(log, "Maximum resident set size (kbytes):"));
      rssFrom = "/usr/bin/time -v (max RSS)";
    } else {
      cpuMs = (last?.cpuTicks ?? 0) * 10; // USER_HZ is 100 on Linux
      peakRssKb = last?.hwmKb ?? 0;
      rssFrom = "VmHWM polled every 100 ms";
    }
    const start = logStamp(log, "Starting processing data");
    const end = logStamp(log, "Acquisition is finished");

    // Cross-check with cscli, which needs the LAPI up: run it alone on the same database.
    let cscliDetections: CrowdsecDetection[] | undefined;
    let cscliProblem: string | undefined;
    const lapi = new Deno.Command(crowdsec, {
      args: ["-c", cfg, "-no-cs", "-no-capi"],
      stdout: "null",
      stderr: "null",
      env: { TZ: "UTC" },
    }).spawn();
    started.add(lapi.pid);
    try {
      let up = false;
      for (const deadline = performance.now() + 30_000; performance.now() < deadline;) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/health`);
          await r.body?.cancel();
          if (r.ok) {
            up = true;
            break;
          }
        } catch {
          // not listening yet
        }
        await sleep(200);
      }
      if (!up) cscliProblem = "the local API did not come up within 30 s";
      else {
        const list = await run(
          cscli,
          ["-c", cfg, "alerts", "list", "-o", "raw", "-l", "0"],
          180_000,
        );
        if (list.code !== 0) cscliProblem = `cscli alerts list: ${list.stderr.trim().slice(-300)}`;
        else {
          cscliDetections = [];
          // id,scope,value,reason,country,as,decisions,created_at
          for (const row of list.stdout.trim().split("\n").slice(1)) {
            const f = row.split(",");
            if (f.length >= 4 && f[1] === "Ip") cscliDetections.push({ ip: f[2], scenario: f[3] });
          }
        }
      }
    } finally {
      try {
        lapi.kill("SIGTERM");
      } catch {
        // exited
      }
      const stopped = await Promise.race([lapi.status.then(() => true), sleep(10_000)]);
      if (!stopped) {
        try {
          lapi.kill("SIGKILL");
        } catch {
          // exited
        }
        await lapi.status;
      }
      started.delete(lapi.pid);
    }
    return {
      ok: true,
      version,
      wallMs,
      ...(start !== undefined && end !== undefined ? { processingMs: end - start } : {}),
      cpuMs,
      peakRssKb,
      rssFrom,
      detections,
      ...(cscliDetections ? { cscli: cscliDetections } : {}),
      ...(cscliProblem ? { cscliProblem } : {}),
      items: ITEMS.map((i) => i.replace(/\.yaml$/, "")),
      parserRoutines: PARSER_ROUTINES,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
