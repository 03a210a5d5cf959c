import { getLogger } from "@logtape/logtape";
import {
  type AlertEvent,
  type Channel,
  type CheckpointStore,
  type ContainerLookup,
  errorMessage,
  type Health,
  type MetricSample,
  type Module,
  newEvent,
  sample,
  type Severity,
} from "../core/mod.ts";
import * as M from "./metrics.ts";
import type { SbomConfig } from "./spec.ts";
import type { Finding, VulnSeverity } from "./finding.ts";
import { openVulnDb, type VulnDb } from "./osv/mod.ts";
import { meetsThreshold } from "./severity/mod.ts";
import { type ContainerFsOptions, listRunningContainers } from "./container_fs.ts";
import { SbomScanError } from "./scan_error.ts";
import { SCAN_EXTRACTORS, scanContainer, scanDirectory, type TargetResult } from "./scanner.ts";

/** The checkpoint holding the findings already alerted on (see `SeenFindings`). */
export const SEEN_CHECKPOINT = "sbom.seen_findings";

/** The channels the scanner writes to. */
export interface SbomChannels {
  alerts?: Channel<AlertEvent>;
}

/** Settings that are not config keys. */
export interface SbomModuleOptions {
  /** general.state_dir: a container export's temporary files go under it. */
  stateDir: string;
  /** Scan once right after start (default true). */
  initialScan?: boolean;
  /** Quiet time after a watched lockfile changes before the rescan (default 2000 ms). */
  watchDebounceMs?: number;
  /**
   * A finding not seen for this long is forgotten, so it alerts again if it comes back
   * (default 30 days).
   */
  forgetAfterMs?: number;
  /** How a container's export is kept (temporary directory, size cap, timeout). */
  container?: ContainerFsOptions;
  /**
   * The shared container inventory (the `containers` service): which containers run, and
   * their filesystems. Without it, `scan_containers` has nothing to scan.
   */
  containers?: ContainerLookup;
}

/** What one scan cycle did. */
export interface SbomScanSummary {
  trigger: "start" | "interval" | "watch" | "manual";
  /** Directories and containers scanned successfully. */
  targets: number;
  components: number;
  findings: number;
  /** Findings at or above `min_severity`. */
  alertable: number;
  /** Alerts raised: alertable findings not seen before. */
  newAlerts: number;
  /** Files that could not be read or parsed. */
  fileErrors: number;
  /** `target: why` for each directory or container that could not be scanned. */
  failures: string[];
  durationMs: number;
}

const ALERT_SEVERITY: Readonly<Record<VulnSeverity, Severity>> = {
  critical: "critical",
  high: "high",
  medium: "medium",
  low: "low",
  none: "info",
  // The threshold rule: a finding with no rating counts as medium (see meetsThreshold).
  unknown: "medium",
};

/**
 * The alert severity of a finding: the same name, `none` → `info`, and `unknown` → `medium`
 * (the rule `min_severity` and `--fail-on` apply).
 *
 * @example
 * ```ts
 * import { alertSeverityOf } from "./module.ts";
 * console.assert(alertSeverityOf("unknown") === "medium" && alertSeverityOf("none") === "info");
 * ```
 */
export function alertSeverityOf(s: VulnSeverity): Severity {
  return ALERT_SEVERITY[s];
}

/**
 * Where a finding is, for "seen before": package and file (the path inside the container
 * for a container, and the container's image rather than its id, so a recreated container
 * does not alert again). Not the version: bumping a package to another affected version is
 * the same vulnerability in the same place.
 */
function placeOf(f: Finding): string {
  const c = f.component;
  return [c.ecosystem, c.name, c.origin.file, c.container?.image ?? ""].join("\u0000");
}

/** Keys under which a finding is remembered: one per id it is known by. */
export function seenKeys(f: Finding): string[] {
  const place = placeOf(f);
  return [f.id, ...f.aliases].map((id) => `${id}\u0000${place}`);
}

/**
 * The alert for a finding: rule id the advisory id, title with the package, description with
 * where it was found and the version that fixes it, evidence the finding.
 *
 * @example
 * ```ts
 * import { findingAlert } from "./module.ts";
 * const a = findingAlert({ id: "GHSA-x", aliases: ["CVE-2024-1"], summary: "Bad", severity: "high",
 *   fixedVersion: "1.3.0", component: { name: "left-pad", version: "1.1.0", ecosystem: "npm",
 *   origin: { file: "/srv/app/package-lock.json", line: 7 }, groups: [] } });
 * console.assert(a.source === "sbom" && a.ruleId === "GHSA-x" && a.description!.includes("1.3.0"));
 * ```
 */
export function findingAlert(f: Finding): AlertEvent {
  const c = f.component;
  const at = c.origin.line !== undefined ? `${c.origin.file}:${c.origin.line}` : c.origin.file;
  const where = c.container !== undefined
    ? `${at} in container ${c.container.name} (image ${c.container.image})`
    : at;
  const fix = f.fixedVersion !== undefined
    ? `Fixed in ${c.name} ${f.fixedVersion}.`
    : "No fixed version is known.";
  const also = f.aliases.length > 0 ? ` Also known as ${f.aliases.join(", ")}.` : "";
  const summary = f.summary !== "" ? `${f.summary.replace(/\.$/, "")}. ` : "";
  const alert = newEvent<AlertEvent>({
    kind: "alert",
    ruleId: f.id,
    title: `${f.id}: ${c.name} ${c.version} (${c.ecosystem}) is vulnerable`,
    severity: alertSeverityOf(f.severity),
    source: "sbom",
    tags: [
      "vulnerability",
      `ecosystem:${c.ecosystem}`,
      `severity:${f.severity}`,
      ...[f.id, ...f.aliases].map((id) => `vuln:${id}`),
    ],
    description: `${summary}${c.name} ${c.version} at ${where}. ${fix}${also}`,
    evidence: [f],
  });
  if (c.container !== undefined) {
    alert.container = { id: c.container.id, name: c.container.name, image: c.container.image };
  }
  return alert;
}

/** The remembered findings: key → when last seen (ms since the epoch). */
interface SeenFindings {
  v: 1;
  seen: Record<string, number>;
}

/**
 * The SBOM scanner as an agent module: scans `scan_dirs` (and every running container when
 * `scan_containers`) every `scan_interval_secs`, and again shortly after an inventory file
 * under a scan dir changes; raises an `AlertEvent` for each finding at or above
 * `min_severity` that it has not alerted on before. What it has alerted on is kept in the
 * store's checkpoints, so a restart does not repeat alerts.
 */
export class SbomModule implements Module {
  readonly name = "sbom";
  #cfg: SbomConfig;
  #ch: SbomChannels;
  #store: CheckpointStore;
  #opts: SbomModuleOptions;
  #log = getLogger(["ironpost", "sbom"]);
  #interval?: ReturnType<typeof setInterval>;
  #debounce?: ReturnType<typeof setTimeout>;
  #dirty = new Set<string>();
  #watchers: Deno.FsWatcher[] = [];
  #watchLoops: Promise<void>[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #stopping = false;
  #seen?: SeenFindings;
  #dbProblem?: string;
  #failures: string[] = [];
  #last?: SbomScanSummary;
  #lastFindings: Finding[] = [];
  #lastAt = 0;
  #dbBuiltAt?: number;
  #counts = { scansOk: 0, scansFailed: 0, alerts: 0, dropped: 0, watchErrors: 0 };

  constructor(
    cfg: SbomConfig,
    channels: SbomChannels,
    store: CheckpointStore,
    opts: SbomModuleOptions,
  ) {
    this.#cfg = cfg;
    this.#ch = channels;
    this.#store = store;
    this.#opts = opts;
  }

  start(): Promise<void> {
    this.#stopping = false;
    this.#arm();
    if (this.#opts.initialScan ?? true) {
      this.scanNow("start").catch((e) =>
        this.#log.error("first scan failed: {error}", { error: errorMessage(e) })
      );
    }
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#disarm();
    await Promise.all(this.#watchLoops.splice(0));
    // A scan under way finishes its current target and then sends nothing more.
    await this.#queue.catch(() => {});
  }

  health(): Health {
    if (this.#dbProblem !== undefined) return { state: "degraded", reason: this.#dbProblem };
    if (this.#failures.length > 0) {
      return { state: "degraded", reason: `last scan: ${this.#failures.join("; ")}` };
    }
    return { state: "healthy" };
  }

  /** SIGHUP: take the new directories, interval and threshold; the seen set is kept. */
  reload(section: unknown): Promise<void> {
    this.#cfg = section as SbomConfig;
    if (!this.#stopping) {
      this.#disarm();
      this.#arm();
    }
    return Promise.resolve();
  }

  /** The findings of the last scan (every severity). */
  get lastFindings(): readonly Finding[] {
    return this.#lastFindings;
  }

  /**
   * Runs a scan now (after any scan under way) and raises the alerts it owes. `dirs`
   * limits it to those scan directories and skips containers (what a lockfile change needs).
   */
  scanNow(
    trigger: SbomScanSummary["trigger"] = "manual",
    dirs?: readonly string[],
  ): Promise<SbomScanSummary> {
    const run = this.#queue.then(() => this.#scan(trigger, dirs));
    this.#queue = run.catch(() => {});
    return run;
  }

  metrics(): MetricSample[] {
    const c = this.#counts;
    const out: MetricSample[] = [
      sample(M.SCANS, c.scansOk, { result: "ok" }),
      sample(M.SCANS, c.scansFailed, { result: "failed" }),
      sample(M.ALERTS, c.alerts),
      sample(M.ALERTS_DROPPED, c.dropped),
      sample(M.WATCH_ERRORS, c.watchErrors),
      sample(M.COMPONENTS, this.#last?.components ?? 0),
      sample(M.FILE_ERRORS, this.#last?.fileErrors ?? 0),
      sample(M.LAST_SCAN_DURATION, (this.#last?.durationMs ?? 0) / 1000),
      sample(M.LAST_SCAN_TIMESTAMP, this.#lastAt / 1000),
      sample(M.SEEN_FINDINGS, Object.keys(this.#seen?.seen ?? {}).length),
    ];
    if (this.#dbBuiltAt !== undefined) {
      out.push(sample(M.VULNDB_AGE, Math.max(0, (Date.now() - this.#dbBuiltAt) / 1000)));
    }
    const bySeverity = new Map<VulnSeverity, number>();
    for (const f of this.#lastFindings) {
      bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
    }
    for (const s of ["critical", "high", "medium", "low", "none", "unknown"] as const) {
      out.push(sample(M.FINDINGS, bySeverity.get(s) ?? 0, { severity: s }));
    }
    return out;
  }

  #arm(): void {
    this.#interval = setInterval(
      () => void this.scanNow("interval").catch(() => {}),
      this.#cfg.scan_interval_secs * 1000,
    );
    for (const dir of this.#cfg.scan_dirs) this.#watch(dir);
  }

  #disarm(): void {
    clearInterval(this.#interval);
    clearTimeout(this.#debounce);
    this.#dirty.clear();
    for (const w of this.#watchers.splice(0)) {
      try {
        w.close();
      } catch { /* closed already */ }
    }
  }

  #watch(dir: string): void {
    if (dir === "/") {
      // A recursive watch of a whole host costs an inotify watch per directory.
      this.#log.info("not watching / for lockfile changes; it is scanned on the interval");
      return;
    }
    let w: Deno.FsWatcher;
    try {
      w = Deno.watchFs(dir, { recursive: true });
    } catch (e) {
      this.#counts.watchErrors++;
      this.#log.warn("cannot watch {dir}; it is scanned on the interval only: {error}", {
        dir,
        error: errorMessage(e),
      });
      return;
    }
    this.#watchers.push(w);
    this.#watchLoops.push((async () => {
      try {
        for await (const ev of w) {
          if (ev.kind === "access" || ev.kind === "other") continue;
          if (ev.paths.some((p) => SCAN_EXTRACTORS.some((x) => x.fileRequired(p)))) {
            this.#touched(dir);
          }
        }
      } catch (e) {
        if (!this.#stopping) {
          this.#counts.watchErrors++;
          this.#log.warn("watching {dir} stopped: {error}", { dir, error: errorMessage(e) });
        }
      }
    })());
  }

  #touched(dir: string): void {
    if (this.#stopping) return;
    this.#dirty.add(dir);
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      const dirs = [...this.#dirty];
      this.#dirty.clear();
      void this.scanNow("watch", dirs).catch(() => {});
    }, this.#opts.watchDebounceMs ?? 2000);
  }

  async #scan(
    trigger: SbomScanSummary["trigger"],
    onlyDirs: readonly string[] | undefined,
  ): Promise<SbomScanSummary> {
    const started = performance.now();
    const summary: SbomScanSummary = {
      trigger,
      targets: 0,
      components: 0,
      findings: 0,
      alertable: 0,
      newAlerts: 0,
      fileErrors: 0,
      failures: [],
      durationMs: 0,
    };
    if (this.#stopping) return summary;

    let db: VulnDb;
    try {
      db = openVulnDb(this.#cfg.vuln_db_path);
      this.#dbProblem = undefined;
    } catch (e) {
      this.#dbProblem = `no usable vulnerability database at ${this.#cfg.vuln_db_path} ` +
        `(${errorMessage(e)}); build it with: ironpost vulndb update --source URL|DIR|ZIP`;
      this.#counts.scansFailed++;
      this.#log.warn("scan skipped: {reason}", { reason: this.#dbProblem });
      summary.failures.push(this.#dbProblem);
      summary.durationMs = performance.now() - started;
      return summary;
    }

    const results: TargetResult[] = [];
    const container = { tempDir: `${this.#opts.stateDir}/sbom-export`, ...this.#opts.container };
    try {
      const builtAt = Date.parse(db.status().builtAt);
      if (Number.isFinite(builtAt)) this.#dbBuiltAt = builtAt;
      const containers = this.#opts.containers;
      const options = { db, container, containers };
      for (const dir of onlyDirs ?? this.#cfg.scan_dirs) {
        if (this.#stopping) break;
        try {
          results.push(await scanDirectory(dir, options));
        } catch (e) {
          summary.failures.push(`${dir}: ${errorMessage(e)}`);
        }
      }
      if (
        onlyDirs === undefined && this.#cfg.scan_containers && containers !== undefined &&
        !this.#stopping
      ) {
        try {
          for (const c of listRunningContainers(containers)) {
            if (this.#stopping) break;
            try {
              results.push(await scanContainer(c.id, options));
            } catch (e) {
              // Stopped between the listing and the scan: not a failure of the scanner.
              const gone = ["E_CONTAINER_NOT_FOUND", "E_CONTAINER_NOT_RUNNING"];
              if (e instanceof SbomScanError && gone.includes(e.code)) continue;
              summary.failures.push(`container ${c.name}: ${errorMessage(e)}`);
            }
          }
        } catch (e) {
          summary.failures.push(`containers: ${errorMessage(e)}`);
        }
      }
    } finally {
      db.close();
    }

    const findings = results.flatMap((r) => r.findings);
    summary.targets = results.length;
    summary.components = results.reduce((n, r) => n + r.components.length, 0);
    summary.findings = findings.length;
    summary.fileErrors = results.reduce((n, r) => n + r.errors.length, 0);
    await this.#alert(findings, summary);

    // A watch-triggered scan covers only some directories; it does not replace what the
    // last full scan found elsewhere.
    if (onlyDirs === undefined) {
      this.#lastFindings = findings;
      this.#failures = summary.failures;
    }
    if (summary.failures.length > 0) this.#counts.scansFailed++;
    else this.#counts.scansOk++;
    summary.durationMs = performance.now() - started;
    this.#last = summary;
    this.#lastAt = Date.now();
    this.#log.info(
      "scan ({trigger}): {targets} target(s), {components} components, {findings} finding(s), " +
        "{alerts} new alert(s) in {ms} ms",
      {
        trigger,
        targets: summary.targets,
        components: summary.components,
        findings: summary.findings,
        alerts: summary.newAlerts,
        ms: Math.round(summary.durationMs),
      },
    );
    for (const f of summary.failures) this.#log.warn("scan: {failure}", { failure: f });
    return summary;
  }

  /** Alerts for the findings at or above the threshold not seen before; remembers them. */
  async #alert(findings: Finding[], summary: SbomScanSummary): Promise<void> {
    const seen = await this.#loadSeen();
    const now = Date.now();
    for (const f of findings) {
      if (!meetsThreshold(f.severity, this.#cfg.min_severity)) continue;
      summary.alertable++;
      const keys = seenKeys(f);
      if (!keys.some((k) => k in seen.seen)) {
        if (this.#stopping || !(await this.#send(findingAlert(f)))) continue;
        summary.newAlerts++;
      }
      for (const k of keys) seen.seen[k] = now;
    }
    const forget = now - (this.#opts.forgetAfterMs ?? 30 * 86_400_000);
    for (const [k, at] of Object.entries(seen.seen)) if (at < forget) delete seen.seen[k];
    try {
      await this.#store.setCheckpoint(SEEN_CHECKPOINT, JSON.stringify(seen));
    } catch (e) {
      this.#log.error(
        "cannot save the seen findings (alerts may repeat after a restart): {error}",
        {
          error: errorMessage(e),
        },
      );
    }
  }

  async #send(alert: AlertEvent): Promise<boolean> {
    if (this.#ch.alerts === undefined) return true;
    try {
      await this.#ch.alerts.send(alert);
      this.#counts.alerts++;
      return true;
    } catch {
      this.#counts.dropped++;
      return false;
    }
  }

  async #loadSeen(): Promise<SeenFindings> {
    if (this.#seen !== undefined) return this.#seen;
    let seen: SeenFindings = { v: 1, seen: {} };
    try {
      const text = await this.#store.getCheckpoint(SEEN_CHECKPOINT);
      if (text !== undefined) {
        const parsed = JSON.parse(text) as Partial<SeenFindings>;
        if (parsed.v === 1 && typeof parsed.seen === "object" && parsed.seen !== null) {
          seen = { v: 1, seen: parsed.seen };
        }
      }
    } catch (e) {
      this.#log.warn("seen findings unreadable, starting afresh: {error}", {
        error: errorMessage(e),
      });
    }
    this.#seen = seen;
    return seen;
  }
}
