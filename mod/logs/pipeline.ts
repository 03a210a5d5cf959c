import { createHash } from "node:crypto";
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
  /** Where each event came from (see `evaluate`), kept while the correlator holds it. */
  #origins = new WeakMap<LogEvent, string>();

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

  /**
   * Evaluate one event; returns the alerts it raised (after suppression). `origin` names
   * the input the event came from so that the same input always gives the same alert ids:
   * a file line's source and position (`file:/var/log/auth.log@dev:ino:end` plus the line),
   * or the id of the packet or host event. Without it alerts get fresh ULIDs.
   */
  evaluate(event: LogEvent, origin?: string): AlertEvent[] {
    this.#stats.events++;
    if (origin !== undefined) this.#origins.set(event, origin);
    const tsMs = Date.parse(event.ts) || Date.now();
    const out: AlertEvent[] = [];
    const seen = new Map<string, number>();
    for (const m of this.#rules.match(event)) {
      this.#stats.matches++;
      const ruleId = m.id ?? m.title;
      // Two rules of one title (no id) matching one event still get two ids.
      const nth = seen.get(ruleId) ?? 0;
      seen.set(ruleId, nth + 1);
      if (m.standalone) {
        const key = suppressKey(ruleId, matchSrcIp(event), matchUser(event));
        const id = origin === undefined
          ? undefined
          : alertId(`match\0${ruleId}\0${nth}\0${origin}`, timeOf(event));
        this.#emit(key, () => fromMatch(m, event, id), tsMs, out);
      }
      const fired = this.#correlator.observe(m, event, tsMs);
      for (let i = 0; i < fired.length; i++) {
        const c = fired[i];
        if (!c.standalone) continue;
        const key = suppressKey(c.id ?? c.title, correlationSrcIp(c), correlationUser(c));
        const id = this.#correlationId(c, `observe\0${ruleId}\0${nth}\0${i}`);
        this.#emit(key, () => fromCorrelation(c, this.#opts.maxEvidence ?? 20, id), tsMs, out);
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
        const id = this.#correlationId(c, `flush\0${c.firstMs}`);
        this.#emit(
          key,
          () => fromCorrelation(c, this.#opts.maxEvidence ?? 20, id),
          nowMs ?? c.lastMs,
          out,
        );
      }
    }
    return out;
  }

  /**
   * A correlation alert's id: its rule, group and the origin of the event that completed it
   * (its newest), so the same events read again fire it with the same id; fresh when that
   * event has no origin.
   */
  #correlationId(c: CorrelationMatch, how: string): string | undefined {
    const last = c.events.at(-1);
    const origin = last ? this.#origins.get(last) : undefined;
    if (origin === undefined) return undefined;
    const group = JSON.stringify(Object.entries(c.group));
    return alertId(
      `correlation\0${c.id ?? c.title}\0${c.type}\0${group}\0${how}\0${origin}`,
      last ? timeOf(last) : undefined,
    );
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

function fromMatch(m: Match, e: LogEvent, id?: string): AlertEvent {
  const container = containerOf(e);
  return newEvent<AlertEvent>({
    ...(id ? { id } : {}),
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

function fromCorrelation(c: CorrelationMatch, maxEvidence: number, id?: string): AlertEvent {
  const srcIp = correlationSrcIp(c);
  const user = correlationUser(c);
  const last = c.events.at(-1);
  const container = last ? containerOf(last) : undefined;
  const groupText = Object.entries(c.group).map(([k, v]) => `${k}=${v}`).join(", ");
  return newEvent<AlertEvent>({
    ...(id ? { id } : {}),
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

/**
 * The time an event's alert id carries: the event's own time, unless the parser could not
 * read one from the line (`parse_error`) and used the clock, which a second reading of the
 * line would not repeat.
 */
function timeOf(e: LogEvent): number | undefined {
  if (e.fields.parse_error !== undefined) return undefined;
  const ms = Date.parse(e.ts);
  return Number.isFinite(ms) ? ms : undefined;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAX_ULID_TIME = 2 ** 48 - 1;

/**
 * A deterministic, ULID-shaped alert id (26 Crockford base-32 characters): the first 10
 * encode `timeMs` (0 when unknown) as a ULID's time does, so ids still sort by time; the
 * other 16 are 80 bits of SHA-256 of `key`. The same key and time always give the same id,
 * which the store's insert-or-ignore by id then keeps once.
 *
 * @example
 * ```ts
 * import { alertId } from "./pipeline.ts";
 * const key = "r1|file:/var/log/auth.log@2049:12:345";
 * const a = alertId(key, 1_700_000_000_000);
 * console.assert(a.length === 26 && a === alertId(key, 1_700_000_000_000));
 * console.assert(a.startsWith("01HF7YAT00"));
 * ```
 */
export function alertId(key: string, timeMs?: number): string {
  let t = timeMs !== undefined && timeMs >= 0 && timeMs <= MAX_ULID_TIME ? Math.floor(timeMs) : 0;
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const h = createHash("sha256").update(key).digest();
  let rest = "";
  let acc = 0;
  let bits = 0;
  for (let i = 0; rest.length < 16; i++) {
    acc = ((acc << 8) | h[i]) & 0xffff;
    bits += 8;
    while (bits >= 5 && rest.length < 16) {
      bits -= 5;
      rest += CROCKFORD[(acc >> bits) & 31];
    }
  }
  return time + rest;
}
