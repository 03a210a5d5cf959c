/**
 * Evaluating Sigma correlation rules over a stream of base-rule matches, with bounded memory.
 *
 * Windows are kept per correlation and group (the `group-by` values), on event time, so an
 * offline replay gives the same answers as the live stream. Two kinds of condition, two kinds
 * of window:
 *
 * - Only lower bounds (`gt`, `gte`, the usual case): a sliding window of `timespan` ending at
 *   the newest event. The condition is checked on every new event and fires as soon as it
 *   holds; the group is then cleared, so one burst raises one alert, not one per event after
 *   the threshold.
 * - An upper bound (`lt`, `lte`, `eq`, or a range): "fewer than N" can only be judged once the
 *   time is up, so the window starts at the group's first event and is judged when it closes:
 *   when an event at least `timespan` later is observed (any group), or on `flush()`.
 *
 * Memory is capped: at most `maxGroups` groups across all correlations (the least recently
 * seen is evicted and counted), and at most `maxEventsPerGroup` entries per group. Only the
 * newest `maxEvidence` entries of a group keep their event (only they can become evidence);
 * older ones keep their time and value. Windows last minutes to hours, so whatever an entry
 * holds outlives V8's young generation and ends as old-generation garbage: holding whole
 * events there was most of the old-generation churn on a long sshd log.
 */
import type { LogEvent } from "../log_event.ts";
import { EventView, type FieldValue } from "./fields.ts";
import { toNumber } from "./modifiers.ts";
import type { CorrelationMatch, CorrelationRule, Match } from "./types.ts";

/** Limits; the defaults suit one host's logs. */
export interface CorrelatorOptions {
  /** Groups kept across all correlations before the least recently seen is evicted. */
  maxGroups?: number;
  /**
   * Entries kept per group (oldest dropped first). Raised to a count condition's threshold
   * when that is higher, so a `gte: 5000` can still be reached.
   */
  maxEventsPerGroup?: number;
  /** Events returned as evidence with a firing; older entries do not keep their event. */
  maxEvidence?: number;
}

/** Counters for `/status` and `/metrics`. */
export interface CorrelatorStats {
  groups: number;
  /** Groups dropped to stay under `maxGroups`. */
  evictions: number;
  /** Entries dropped to stay under `maxEventsPerGroup`. */
  droppedEntries: number;
  /** Matches older than their group's window, ignored. */
  late: number;
  /** Matches without a value for a group-by field, ignored. */
  missingGroupBy: number;
}

interface Entry {
  ts: number;
  /** Index of the referred rule in `rules`. */
  rule: number;
  /** value_count: the field values as one key; value_sum/avg: the number. */
  value?: string | number;
  /** Cleared once `maxEvidence` newer entries follow (see `#insert`). */
  event: LogEvent | undefined;
}

interface Group {
  corr: Compiled;
  key: string;
  values: Record<string, FieldValue>;
  entries: Entry[];
  /** Tumbling windows: the first event's time. */
  start: number;
  gen: number;
}

interface Compiled {
  rule: CorrelationRule;
  sliding: boolean;
  cap: number;
  check: (x: number) => boolean;
  measure: (entries: Entry[]) => number;
}

/**
 * @example
 * ```ts ignore
 * import { Correlator, parseRules, RuleSet } from "./mod.ts";
 * const { rules, correlations } = parseRules(`
 * title: Failed login
 * name: failed
 * logsource: {product: linux, service: sshd}
 * detection: {sel: {Outcome: failure}, condition: sel}
 * ---
 * title: Brute force
 * correlation: {type: event_count, rules: [failed], group-by: [User], timespan: 1m,
 *   condition: {gte: 3}}
 * `);
 * const set = new RuleSet(rules);
 * const c = new Correlator(correlations);
 * let fired = 0;
 * for (let i = 0; i < 3; i++) {
 *   const ev = { source: "replay", logsource: { product: "linux", service: "sshd" },
 *     ts: "", message: "", fields: { Outcome: "failure", User: "root" } };
 *   for (const m of set.match(ev)) fired += c.observe(m, ev, i * 1000).length;
 * }
 * console.assert(fired === 1);
 * ```
 */
export class Correlator {
  readonly maxGroups: number;
  #byRule = new Map<string, { corr: Compiled; index: number }[]>();
  // Insertion order is recency: a group is deleted and re-added when touched.
  #groups = new Map<string, Group>();
  #deadlines = new DeadlineHeap();
  #maxEvidence: number;
  #gen = 0;
  #stats = { evictions: 0, droppedEntries: 0, late: 0, missingGroupBy: 0 };

  constructor(correlations: readonly CorrelationRule[], options: CorrelatorOptions = {}) {
    this.maxGroups = options.maxGroups ?? 100_000;
    this.#maxEvidence = Math.max(1, options.maxEvidence ?? 100);
    const perGroup = options.maxEventsPerGroup ?? 1_000;
    if (!Number.isInteger(this.maxGroups) || this.maxGroups < 1) {
      throw new RangeError(`maxGroups must be an integer >= 1, got ${this.maxGroups}`);
    }
    for (const rule of correlations) {
      const c = rule.condition;
      const bounds = [c.gt, c.gte, c.lt, c.lte, c.eq].filter((x) => x !== undefined) as number[];
      const corr: Compiled = {
        rule,
        sliding: c.lt === undefined && c.lte === undefined && c.eq === undefined,
        cap: Math.max(perGroup, Math.ceil(Math.max(0, ...bounds)) + 1),
        check: (x) =>
          !Number.isNaN(x) &&
          (c.gt === undefined || x > c.gt) && (c.gte === undefined || x >= c.gte) &&
          (c.lt === undefined || x < c.lt) && (c.lte === undefined || x <= c.lte) &&
          (c.eq === undefined || x === c.eq),
        measure: measureFor(rule),
      };
      rule.rules.forEach((key, index) => {
        let list = this.#byRule.get(key);
        if (!list) this.#byRule.set(key, list = []);
        list.push({ corr, index });
      });
    }
  }

  /** Groups evicted so far to stay under `maxGroups`. */
  get evictions(): number {
    return this.#stats.evictions;
  }

  stats(): CorrelatorStats {
    return { groups: this.#groups.size, ...this.#stats };
  }

  /**
   * Feed one base-rule match; returns the correlations that fired, including correlations of
   * correlations. `timestampMs` is the event's time, not the wall clock.
   */
  observe(match: Pick<Match, "rule">, event: LogEvent, timestampMs: number): CorrelationMatch[] {
    const out: CorrelationMatch[] = [];
    this.#expire(timestampMs, out);
    this.#feed(match.rule.key, event, timestampMs, out, 0);
    return out;
  }

  /**
   * Judge the windows of upper-bounded conditions (`lt`, `lte`, `eq`) that have closed by
   * `nowMs`, or all of them when `nowMs` is omitted (the end of a replay).
   */
  flush(nowMs?: number): CorrelationMatch[] {
    const out: CorrelationMatch[] = [];
    if (nowMs !== undefined) this.#expire(nowMs, out);
    else {
      for (const g of [...this.#groups.values()]) if (!g.corr.sliding) this.#close(g, out);
    }
    return out;
  }

  #feed(ruleKey: string, event: LogEvent, ts: number, out: CorrelationMatch[], depth: number) {
    const targets = this.#byRule.get(ruleKey);
    if (!targets || depth > this.#byRule.size) return;
    const view = new EventView(event);
    for (const { corr, index } of targets) {
      const rule = corr.rule;
      const values: Record<string, FieldValue> = {};
      let missing = false;
      for (const name of rule.groupBy) {
        const v = view.get(fieldFor(rule, name, ruleKey));
        if (v === undefined || v === null) missing = true;
        else values[name] = v;
      }
      if (missing) {
        // Like a SIEM's "stats by", events without the grouping field are left out rather
        // than lumped together under "null".
        this.#stats.missingGroupBy++;
        continue;
      }
      const groupKey = rule.groupBy.map((n) => String(values[n])).join("\u0000");
      const full = `${rule.key}\u0001${groupKey}`;
      let g = this.#groups.get(full);
      if (g && !corr.sliding && ts > g.start + rule.timespanMs) {
        this.#close(g, out);
        g = undefined;
      }
      if (g) {
        // Re-insert under the group's own key string: this call's `full` and `values` are
        // equal and can die young instead of being kept until the group's next event.
        this.#groups.delete(g.key);
        this.#groups.set(g.key, g);
      } else {
        g = { corr, key: full, values, entries: [], start: ts, gen: ++this.#gen };
        this.#groups.set(full, g);
        if (!corr.sliding) this.#deadlines.push(ts + rule.timespanMs, full, g.gen);
        this.#evict();
      }
      const entry: Entry = { ts, rule: index, value: valueOf(rule, view, ruleKey), event };
      if (!this.#insert(g, entry)) continue;
      if (corr.sliding) {
        const x = corr.measure(g.entries);
        if (corr.check(x)) {
          this.#groups.delete(full);
          this.#fire(g, x, out, depth);
        }
      }
    }
  }

  /** Add an entry in time order and trim the group; false when it is too late to count. */
  #insert(g: Group, e: Entry): boolean {
    const span = g.corr.rule.timespanMs;
    const entries = g.entries;
    const newest = entries.length > 0 ? entries[entries.length - 1].ts : e.ts;
    const late = g.corr.sliding ? e.ts < newest - span : e.ts < g.start;
    if (late) {
      this.#stats.late++;
      return false;
    }
    let i = entries.length;
    while (i > 0 && entries[i - 1].ts > e.ts) i--;
    if (i === entries.length) entries.push(e);
    else entries.splice(i, 0, e);
    // An entry's distance from the newest only grows (entries are inserted after it or
    // dropped from the front), so the one just pushed out of the evidence range is this one.
    const out = entries.length - 1 - this.#maxEvidence;
    if (out >= 0) entries[out].event = undefined;
    if (g.corr.sliding) {
      const from = entries[entries.length - 1].ts - span;
      let drop = 0;
      while (drop < entries.length && entries[drop].ts < from) drop++;
      if (drop > 0) entries.splice(0, drop);
    }
    if (entries.length > g.corr.cap) {
      const over = entries.length - g.corr.cap;
      entries.splice(0, over);
      this.#stats.droppedEntries += over;
    }
    return true;
  }

  #evict() {
    while (this.#groups.size > this.maxGroups) {
      const oldest = this.#groups.keys().next().value!;
      this.#groups.delete(oldest);
      this.#stats.evictions++;
    }
    // Deadlines of evicted groups are stale; compact before they outgrow the groups.
    if (this.#deadlines.size > 2 * this.maxGroups + 16) {
      this.#deadlines.retain((key, gen) => this.#groups.get(key)?.gen === gen);
    }
  }

  #expire(now: number, out: CorrelationMatch[]) {
    for (let d = this.#deadlines.peek(); d && d.at < now; d = this.#deadlines.peek()) {
      this.#deadlines.pop();
      const g = this.#groups.get(d.key);
      if (g && g.gen === d.gen) this.#close(g, out);
    }
  }

  #close(g: Group, out: CorrelationMatch[]) {
    this.#groups.delete(g.key);
    if (g.entries.length === 0) return;
    const x = g.corr.measure(g.entries);
    if (g.corr.check(x)) this.#fire(g, x, out, 0);
  }

  #fire(g: Group, x: number, out: CorrelationMatch[], depth: number) {
    const rule = g.corr.rule;
    const entries = g.entries;
    const last = entries[entries.length - 1];
    out.push({
      correlation: rule,
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      type: rule.type,
      group: { ...g.values },
      value: x,
      count: entries.length,
      events: entries.slice(-this.#maxEvidence).map((e) => e.event!),
      firstMs: entries[0].ts,
      lastMs: last.ts,
      standalone: rule.standalone,
    });
    // Correlations of correlations see the firing as a match at its last event.
    this.#feed(rule.key, last.event!, last.ts, out, depth + 1);
  }
}

/** The event field behind a group-by or condition name, through the rule's aliases. */
function fieldFor(rule: CorrelationRule, name: string, ruleKey: string): string {
  return rule.aliases[name]?.[ruleKey] ?? name;
}

function valueOf(
  rule: CorrelationRule,
  view: EventView,
  ruleKey: string,
): string | number | undefined {
  const fields = rule.condition.field;
  if (!fields) return undefined;
  if (rule.type === "value_count") {
    const vs = fields.map((f) => view.get(fieldFor(rule, f, ruleKey)));
    if (vs.some((v) => v === undefined || v === null)) return undefined;
    return vs.map(String).join("\u0000");
  }
  return toNumber(view.get(fieldFor(rule, fields[0], ruleKey)));
}

function measureFor(rule: CorrelationRule): (entries: Entry[]) => number {
  switch (rule.type) {
    case "event_count":
      return (es) => es.length;
    case "value_count":
      return (es) => new Set(es.filter((e) => e.value !== undefined).map((e) => e.value)).size;
    case "temporal":
      return (es) => new Set(es.map((e) => e.rule)).size;
    case "temporal_ordered":
      // How many of the rules, from the first, appeared in order (earliest matches first,
      // which is optimal for finding an ordered subsequence).
      return (es) => {
        let next = 0;
        for (const e of es) if (e.rule === next) next++;
        return next;
      };
    case "value_sum":
    case "value_avg":
      return (es) => {
        const nums = es.map((e) => e.value).filter((v): v is number => typeof v === "number");
        if (nums.length === 0) return NaN;
        const sum = nums.reduce((a, b) => a + b, 0);
        return rule.type === "value_sum" ? sum : sum / nums.length;
      };
  }
}

/** A binary min-heap of window deadlines. */
class DeadlineHeap {
  #h: { at: number; key: string; gen: number }[] = [];

  get size(): number {
    return this.#h.length;
  }

  peek(): { at: number; key: string; gen: number } | undefined {
    return this.#h[0];
  }

  push(at: number, key: string, gen: number) {
    const h = this.#h;
    h.push({ at, key, gen });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  pop() {
    const h = this.#h;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }

  retain(keep: (key: string, gen: number) => boolean) {
    const kept = this.#h.filter((d) => keep(d.key, d.gen));
    this.#h = [];
    for (const d of kept) this.push(d.at, d.key, d.gen);
  }
}
