/**
 * Severity order and display helpers shared by the table, SARIF and JSON reports.
 *
 * `unknown` sorts after `low` and before `none`: a finding with no rating may be anything,
 * so it is shown ahead of one rated harmless, but after every rated risk.
 */
import type { Finding, VulnSeverity } from "../finding.ts";

const RANK: Record<VulnSeverity, number> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  unknown: 4,
  none: 5,
};

/** 0 for critical up to 5 for none; lower sorts first. */
export function severityRank(s: VulnSeverity): number {
  return RANK[s] ?? RANK.unknown;
}

/** Compare two strings by code unit, so order never depends on the locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order reports list findings in: severity, then package name (and ecosystem), installed
 * version, id, origin file and line.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return severityRank(a.severity) - severityRank(b.severity) ||
    compareText(a.component.name, b.component.name) ||
    compareText(a.component.ecosystem, b.component.ecosystem) ||
    compareText(a.component.version, b.component.version) ||
    compareText(a.id, b.id) ||
    compareText(a.component.origin.file, b.component.origin.file) ||
    (a.component.origin.line ?? 0) - (b.component.origin.line ?? 0) ||
    compareText(a.component.container?.id ?? "", b.component.container?.id ?? "");
}
