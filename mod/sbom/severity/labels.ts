/**
 * Severity words that advisory databases write instead of (or beside) a CVSS vector, mapped
 * onto the scanner's scale.
 */
import type { VulnSeverity } from "../finding.ts";

// Lower-cased label → severity. GitHub writes LOW/MODERATE/HIGH/CRITICAL; Red Hat, Alma and
// Rocky write Low/Moderate/Important/Critical; Ubuntu negligible/low/medium/high/critical;
// Debian's tracker unimportant/low/medium/high. Labels that say "not assessed yet"
// (untriaged, not yet assigned, unknown) are deliberately absent: they mean unknown.
const LABELS: ReadonlyMap<string, VulnSeverity> = new Map([
  ["critical", "critical"],
  ["high", "high"],
  ["important", "high"],
  ["moderate", "medium"],
  ["medium", "medium"],
  ["low", "low"],
  ["negligible", "low"],
  ["unimportant", "low"],
  ["none", "none"],
]);

/**
 * Maps a database's severity label to the scanner's scale, case-insensitively; anything not
 * recognised (including "untriaged") is `unknown`.
 *
 * @example
 * ```ts
 * import { severityFromLabel } from "./labels.ts";
 * console.assert(severityFromLabel("MODERATE") === "medium");
 * console.assert(severityFromLabel("Important") === "high");
 * console.assert(severityFromLabel("untriaged") === "unknown");
 * ```
 */
export function severityFromLabel(label: string): VulnSeverity {
  return LABELS.get(label.trim().toLowerCase()) ?? "unknown";
}
