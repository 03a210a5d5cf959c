import type { LogEvent, LogSource } from "../log_event.ts";
import { EventView } from "./fields.ts";
import type { CompiledRule, Match } from "./types.ts";

/**
 * Compiled rules indexed by logsource, so an event meets only the rules for its source.
 *
 * A rule applies to an event when every logsource key the rule names (product, service,
 * category) equals the event's, ignoring case; keys the rule leaves out match anything. Rules
 * are bucketed by the keys they name, so finding the candidates for an event is at most eight
 * map lookups (one per subset of the event's three keys), whatever the number of rules.
 *
 * @example
 * ```ts ignore
 * import { parseRules, RuleSet } from "./mod.ts";
 * const { rules } = parseRules([
 *   "title: id -u", "logsource: {product: linux, category: process_creation}",
 *   "detection: {sel: {CommandLine: id -u}, condition: sel}",
 * ].join("\n"));
 * const set = new RuleSet(rules);
 * const hits = set.match({
 *   source: "host", logsource: { product: "linux", category: "process_creation" },
 *   ts: "2024-01-01T00:00:00Z", message: "id -u", fields: { CommandLine: "ID -U" },
 * });
 * console.assert(hits.length === 1 && hits[0].title === "id -u");
 * ```
 */
export class RuleSet {
  readonly rules: readonly CompiledRule[];
  #buckets = new Map<string, { order: number; rule: CompiledRule }[]>();
  #merged = new Map<string, { order: number; rule: CompiledRule }[]>();

  constructor(rules: readonly CompiledRule[]) {
    this.rules = rules;
    rules.forEach((rule, order) => {
      const k = bucketKey(rule.logsource);
      let b = this.#buckets.get(k);
      if (!b) this.#buckets.set(k, b = []);
      b.push({ order, rule });
    });
  }

  get size(): number {
    return this.rules.length;
  }

  /** The rules that apply to events of `logsource`, in load order. */
  rulesFor(logsource: LogSource): CompiledRule[] {
    return this.#candidates(logsource).map((c) => c.rule);
  }

  /** Every rule that matches `event`, in load order. */
  match(event: LogEvent): Match[] {
    const view = new EventView(event);
    const out: Match[] = [];
    for (const { rule } of this.#candidates(event.logsource)) {
      if (!rule.test(view)) continue;
      out.push({
        rule,
        id: rule.id,
        title: rule.title,
        level: rule.level,
        severity: rule.severity,
        tags: rule.tags,
        file: rule.file,
        standalone: rule.standalone,
      });
    }
    return out;
  }

  #candidates(ls: LogSource): { order: number; rule: CompiledRule }[] {
    const p = ls.product?.toLowerCase();
    const s = ls.service?.toLowerCase();
    const c = ls.category?.toLowerCase();
    // A host sees a handful of logsources; merging their buckets once per logsource keeps the
    // per-event cost at one lookup. The cache is cleared if odd input ever makes it large.
    const cacheKey = bucketKey({ product: p, service: s, category: c });
    const cached = this.#merged.get(cacheKey);
    if (cached) return cached;
    if (this.#merged.size >= 1024) this.#merged.clear();
    const found: { order: number; rule: CompiledRule }[][] = [];
    for (const pp of p === undefined ? [undefined] : [undefined, p]) {
      for (const ss of s === undefined ? [undefined] : [undefined, s]) {
        for (const cc of c === undefined ? [undefined] : [undefined, c]) {
          const b = this.#buckets.get(bucketKey({ product: pp, service: ss, category: cc }));
          if (b) found.push(b);
        }
      }
    }
    const merged = found.length === 1 ? found[0] : found.flat().sort((a, b) => a.order - b.order);
    this.#merged.set(cacheKey, merged);
    return merged;
  }
}

// Absent keys are "" (rule logsource values are non-empty lower-case text).
function bucketKey(ls: LogSource): string {
  return `${ls.product ?? ""}\u0000${ls.service ?? ""}\u0000${ls.category ?? ""}`;
}
