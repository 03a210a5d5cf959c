import type { AlertEvent, ContainerRef } from "../core/mod.ts";
import { newEvent } from "../core/mod.ts";
import type { LogEvent } from "./log_event.ts";
import {
  type CompiledRule,
  type CorrelationMatch,
  type CorrelationRule,
  Correlator,
  type Match,
  RuleSet,
} from "./sigma/mod.ts";

export interface PipelineOptions {
  /** Repeats of one rule for one group key within this many seconds are counted, not sent. */
  suppressWindowSecs: number;
  correlationMaxGroups: number;
  /** Most events kept as an alert's evidence. */
  maxEvidence?: number;
}

/** Counters the module exports to /metrics. */
export interface PipelineStats {
  events: number;
  matches: number;
  alerts: number;
  suppressed: number;
  correlationEvictions: number;
}

/**
 * Rules, correlations and alert suppression: what turns LogEvents into AlertEvents. The
 * agent's module and `ironpost rules test` (offline replay) both run events through one of
 * these, so a replay raises exactly what the agent would. Time is the events' own.
 */
export class Pipeline {
  #rules: RuleSet;
  #correlator: Correlator;
  #opts: PipelineOptions;
  /** Suppression state by rule + group key: until when, and how many were held back. */
  #suppress = new Map<string, { untilMs: number; held: number }>();
  #stats = { events: 0, matches: 0, alerts: 0, suppressed: 0 };

  constructor(rules: CompiledRule[], correlations: CorrelationRule[], opts: PipelineOptions) {
    this.#rules = new RuleSet(rules);
    // The correlator keeps events only as long as they can still be an alert's evidence.
    this.#correlator = new Correlator(correlations, {
      maxGroups: opts.correlationMaxGroups,
      maxEvidence: opts.maxEvidence ?? 20,
    });
    this.#opts = opts;
  }

  get ruleCount(): number {
    return this.#rules.size;
  }

  /** Evaluate one event; returns the alerts it raised (after suppression). */
  evaluate(event: LogEvent): AlertEvent[] {
    this.#stats.events++;
    const tsMs = Date.parse(event.ts) || Date.now();
    const out: AlertEvent[] = [];
    for (const m of this.#rules.match(event)) {
      this.#stats.matches++;
      if (m.standalone) {
        const key = suppressKey(m.id ?? m.title, matchSrcIp(event), matchUser(event));
        this.#emit(key, () => fromMatch(m, event), tsMs, out);
      }
      for (const c of this.#correlator.observe(m, event, tsMs)) {
        if (!c.standalone) continue;
        const key = suppressKey(c.id ?? c.title, correlationSrcIp(c), correlationUser(c));
        this.#emit(key, () => fromCorrelation(c, this.#opts.maxEvidence ?? 20), tsMs, out);
      }
    }
    return out;
  }

  /** Judge windows that can only be decided once closed (e.g. `lt` conditions). */
  flush(nowMs?: number): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const c of this.#correlator.flush(nowMs)) {
      if (c.standalone) {
        const key = suppressKey(c.id ?? c.title, correlationSrcIp(c), correlationUser(c));
        this.#emit(
          key,
          () => fromCorrelation(c, this.#opts.maxEvidence ?? 20),
          nowMs ?? c.lastMs,
          out,
        );
      }
    }
    return out;
  }

  stats(): PipelineStats {
    return { ...this.#stats, correlationEvictions: this.#correlator.evictions };
  }

  /**
   * Raise the alert `build` makes unless one for `key` (rule, source IP, user) was raised
   * within the suppression window: the key is judged first, so a suppressed repeat (most
   * of them during a long attack) never builds its alert.
   */
  #emit(key: string, build: () => AlertEvent, tsMs: number, out: AlertEvent[]): void {
    const windowMs = this.#opts.suppressWindowSecs * 1000;
    const s = this.#suppress.get(key);
    if (windowMs > 0 && s && tsMs < s.untilMs) {
      s.held++;
      this.#stats.suppressed++;
      return;
    }
    const alert = build();
    if (s && s.held > 0) {
      alert.description = `${alert.description ?? ""}${
        alert.description ? " " : ""
      }(${s.held} repeat(s) suppressed since the previous alert)`;
    }
    if (windowMs > 0) {
      this.#suppress.set(key, { untilMs: tsMs + windowMs, held: 0 });
      if (this.#suppress.size > 100_000) this.#pruneSuppression(tsMs);
    }
    this.#stats.alerts++;
    out.push(alert);
  }

  #pruneSuppression(nowMs: number): void {
    for (const [k, v] of this.#suppress) {
      if (v.untilMs <= nowMs && v.held === 0) this.#suppress.delete(k);
    }
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function containerOf(e: LogEvent): ContainerRef | undefined {
  const id = str(e.fields.ContainerId);
  if (!id) return undefined;
  return { id, name: str(e.fields.ContainerName) ?? "", image: str(e.fields.ContainerImage) ?? "" };
}

function suppressKey(ruleId: string, srcIp: string | undefined, user: string | undefined) {
  return `${ruleId}\u0000${srcIp ?? ""}\u0000${user ?? ""}`;
}

const matchSrcIp = (e: LogEvent) => str(e.fields.SourceIp);
const matchUser = (e: LogEvent) => str(e.fields.User);
const correlationSrcIp = (c: CorrelationMatch) =>
  str(c.group.SourceIp) ?? str(c.events.at(-1)?.fields.SourceIp);
const correlationUser = (c: CorrelationMatch) => str(c.group.User);

function fromMatch(m: Match, e: LogEvent): AlertEvent {
  const container = containerOf(e);
  return newEvent<AlertEvent>({
    kind: "alert",
    ts: e.ts,
    ruleId: m.id ?? m.title,
    title: m.title,
    severity: m.severity,
    source: "log_pipeline",
    tags: m.tags,
    ...(m.rule.description ? { description: m.rule.description } : {}),
    ...(matchSrcIp(e) ? { srcIp: matchSrcIp(e) } : {}),
    ...(matchUser(e) ? { user: matchUser(e) } : {}),
    ...(container ? { container } : {}),
    evidence: [e],
  });
}

function fromCorrelation(c: CorrelationMatch, maxEvidence: number): AlertEvent {
  const srcIp = correlationSrcIp(c);
  const user = correlationUser(c);
  const last = c.events.at(-1);
  const container = last ? containerOf(last) : undefined;
  const groupText = Object.entries(c.group).map(([k, v]) => `${k}=${v}`).join(", ");
  return newEvent<AlertEvent>({
    kind: "alert",
    ts: new Date(c.lastMs).toISOString(),
    ruleId: c.id ?? c.title,
    title: c.title,
    severity: c.severity,
    source: "log_pipeline",
    tags: [...(c.correlation.tags ?? [])],
    description: `${c.type} correlation: ${c.value} over ${c.count} event(s) between ${
      new Date(c.firstMs).toISOString()
    } and ${new Date(c.lastMs).toISOString()}${groupText ? ` for ${groupText}` : ""}`,
    ...(srcIp ? { srcIp } : {}),
    ...(user ? { user } : {}),
    ...(container ? { container } : {}),
    evidence: c.events.slice(-maxEvidence),
  });
}
