/**
 * The order reports list findings in, shared by the table, SARIF and JSON reports. The
 * severity order itself is `SEVERITY_ORDER` in `../severity/rating.ts`, the one every part
 * of the scanner uses.
 */
import type { Finding } from "../finding.ts";
import { compareSeverity } from "../severity/rating.ts";

/** Compare two strings by code unit, so order never depends on the locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order reports list findings in: severity, then package name (and ecosystem), installed
 * version, id, origin file and line.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return compareSeverity(a.severity, b.severity) ||
    compareText(a.component.name, b.component.name) ||
    compareText(a.component.ecosystem, b.component.ecosystem) ||
    compareText(a.component.version, b.component.version) ||
    compareText(a.id, b.id) ||
    compareText(a.component.origin.file, b.component.origin.file) ||
    (a.component.origin.line ?? 0) - (b.component.origin.line ?? 0) ||
    compareText(a.component.container?.id ?? "", b.component.container?.id ?? "");
}
