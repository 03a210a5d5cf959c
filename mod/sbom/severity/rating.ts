/**
 * Qualitative severity: FIRST's rating scale for scores, and the one ordering every
 * threshold (`--fail-on`, `[sbom] min_severity`) uses, including for `unknown`.
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

const RANK: Readonly<Record<VulnSeverity, number>> = {
  none: 0,
  low: 1,
  // A record with no severity at all (every Go vulndb entry, most PyPI ones) is not
  // harmless: counting it as medium keeps it visible at the default threshold without
  // letting it outrank anything that was actually scored high.
  unknown: 2,
  medium: 2,
  high: 3,
  critical: 4,
};

/**
 * Orders severities: none 0 < low 1 < medium 2 < high 3 < critical 4.
 *
 * **`unknown` ranks as `medium`.** A finding whose record carries neither a CVSS vector
 * nor a database label therefore meets a `--fail-on` / `min_severity` of `none`, `low` or
 * `medium`, and does not meet `high` or `critical`. Advisory databases omit severity for
 * many real vulnerabilities, so treating unknown as harmless would hide them.
 *
 * @example
 * ```ts
 * import { severityRank } from "./rating.ts";
 * console.assert(severityRank("unknown") === severityRank("medium"));
 * console.assert(severityRank("critical") > severityRank("high"));
 * ```
 */
export function severityRank(severity: VulnSeverity): number {
  return RANK[severity];
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
  return RANK[severity] >= RANK[threshold];
}
