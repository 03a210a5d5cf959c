/** A vulnerability found in a component: what the matcher hands to reports and alerts. */
import type { Component } from "./component.ts";

/** Finding severity; `unknown` when neither a CVSS vector nor a database label is present. */
export type VulnSeverity = "critical" | "high" | "medium" | "low" | "none" | "unknown";

export interface Finding {
  /** The OSV record id (e.g. `GHSA-…`, `RUSTSEC-…`, `GO-…`, `PYSEC-…`). */
  id: string;
  /** Every other id the record (or a record merged with it) is known by: CVE, GHSA, … */
  aliases: string[];
  summary: string;
  component: Component;
  severity: VulnSeverity;
  /** CVSS base score when computed from a vector. */
  score?: number;
  /** The vector the score came from (`CVSS:3.1/AV:N/…` or `CVSS:4.0/…`). */
  vector?: string;
  /** Least version that fixes it in the matched range, when the record gives one. */
  fixedVersion?: string;
  /** Advisory URL for humans. */
  url?: string;
}
