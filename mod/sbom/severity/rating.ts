/**
 * Qualitative severity: FIRST's rating scale for scores, and the one severity order every
 * part of the scanner uses: reports list findings by it, merging keeps the most severe
 * member by it, and thresholds (`--fail-on`, `[sbom] min_severity`) compare by it with
 * `unknown` read as `medium`.
 */
import type { VulnSeverity } from "../finding.ts";

/** A severity a score or a label can map to: everything but `unknown`. */
export type KnownSeverity = Exclude<VulnSeverity, "unknown">;

/**
 * FIRST's Qualitative Severity Rating Scale (identical in CVSS v3.0, v3.1 and v4.0):
 * 0.0 none, 0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical.
 *
 * @example
 * ```ts
 * import { ratingOf } from "./rating.ts";
 * console.assert(ratingOf(0) === "none" && ratingOf(6.9) === "medium" && ratingOf(9) === "critical");
 * ```
 */
export function ratingOf(score: number): KnownSeverity {
  if (!(score >= 0 && score <= 10)) throw new RangeError(`CVSS score out of range: ${score}`);
  if (score === 0) return "none";
  if (score < 4) return "low";
  if (score < 7) return "medium";
  if (score < 9) return "high";
  return "critical";
}

/**
 * The severity order, most severe first. `unknown` sits after `low` and before `none`: a
 * finding with no rating may be anything, so it is shown (and kept when merging) ahead of
 * one rated harmless, but after every rated risk.
 */
export const SEVERITY_ORDER: readonly VulnSeverity[] = [
  "critical",
  "high",
  "medium",
  "low",
  "unknown",
  "none",
];

const POSITION = new Map(SEVERITY_ORDER.map((s, i) => [s, i]));

/** Place in `SEVERITY_ORDER`; a value outside the type (bad input) sorts as `unknown`. */
function position(s: VulnSeverity): number {
  return POSITION.get(s) ?? POSITION.get("unknown")!;
}

/**
 * Negative when `a` is more severe than `b` in `SEVERITY_ORDER`, so sorting with it lists
 * the most severe first.
 *
 * @example
 * ```ts
 * import { compareSeverity } from "./rating.ts";
 * console.assert(compareSeverity("critical", "low") < 0 && compareSeverity("unknown", "none") < 0);
 * console.assert(compareSeverity("unknown", "low") > 0);
 * ```
 */
export function compareSeverity(a: VulnSeverity, b: VulnSeverity): number {
  return position(a) - position(b);
}

/** The order without `unknown`: what a threshold compares. */
const RATED: readonly VulnSeverity[] = SEVERITY_ORDER.filter((s) => s !== "unknown");

/** The severity a threshold reads: `unknown` counts as `medium`, the rest as themselves. */
function forThreshold(s: VulnSeverity): VulnSeverity {
  return s === "unknown" || !POSITION.has(s) ? "medium" : s;
}

/**
 * Threshold rank: none 0 < low 1 < medium 2 < high 3 < critical 4.
 *
 * **`unknown` ranks as `medium`.** A record with no severity at all (every Go vulndb entry,
 * most PyPI ones) is not harmless: counting it as medium keeps it visible at the default
 * threshold without letting it outrank anything that was actually scored high. A finding
 * whose record carries neither a CVSS vector nor a database label therefore meets a
 * `--fail-on` / `min_severity` of `none`, `low` or `medium`, and does not meet `high` or
 * `critical`.
 *
 * @example
 * ```ts
 * import { severityRank } from "./rating.ts";
 * console.assert(severityRank("unknown") === severityRank("medium"));
 * console.assert(severityRank("critical") > severityRank("high"));
 * ```
 */
export function severityRank(severity: VulnSeverity): number {
  return RATED.length - 1 - RATED.indexOf(forThreshold(severity));
}

/**
 * True when `severity` is at or above `threshold`, with `unknown` counted as `medium` on
 * either side (see `severityRank`). This is the rule `--fail-on` and `min_severity` use.
 *
 * @example
 * ```ts
 * import { meetsThreshold } from "./rating.ts";
 * console.assert(meetsThreshold("high", "medium"));
 * console.assert(meetsThreshold("unknown", "medium"));
 * console.assert(!meetsThreshold("unknown", "high"));
 * console.assert(!meetsThreshold("low", "medium"));
 * ```
 */
export function meetsThreshold(severity: VulnSeverity, threshold: VulnSeverity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}
