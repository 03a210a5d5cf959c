import { errorMessage } from "../../core/errors.ts";
import type { VulnSeverity } from "../finding.ts";
import { type CvssScore, scoreCvss } from "./cvss.ts";
import { severityFromLabel } from "./labels.ts";
import { compareSeverity } from "./rating.ts";

/** Where a verdict came from, best first. */
export type SeverityOrigin = "CVSS_V4" | "CVSS_V3" | "label" | "none";

/** A record's severity, with the score and vector when a CVSS vector decided it. */
export interface SeverityVerdict {
  severity: VulnSeverity;
  /** Base score (CVSS-B for v4.0) of the deciding vector. */
  score?: number;
  /** The deciding vector, as the record wrote it. */
  vector?: string;
  /** The deciding label, as the record wrote it. */
  label?: string;
  from: SeverityOrigin;
  /** Vectors that could not be scored and were skipped, each with the reason. */
  problems: string[];
}

/** One `severity[]` entry of an OSV record: `CVSS_V3`, `CVSS_V4`, `Ubuntu`, … and its score. */
export interface SeverityEntry {
  type: string;
  score: string;
}

/**
 * The parts of an OSV record that carry severity, spelt out here so that `severity/` needs
 * nothing from `osv/` (an `OsvRecord` is one of these).
 */
export interface SeverityFields {
  severity?: readonly SeverityEntry[];
  affected?: readonly {
    severity?: readonly SeverityEntry[];
    ecosystem_specific?: Record<string, unknown>;
    database_specific?: Record<string, unknown>;
  }[];
  database_specific?: Record<string, unknown>;
}

/**
 * A record's severity, by the first rule that yields one:
 *
 * 1. a `CVSS_V4` vector (in `severity[]` or any `affected[].severity[]`), scored CVSS-B;
 * 2. a `CVSS_V3` vector (v3.1 or v3.0) there, or in RustSec's `affected[].database_specific.cvss`;
 * 3. a database label: `database_specific.severity` (GitHub's LOW/MODERATE/HIGH/CRITICAL,
 *    moderate = medium), `affected[].ecosystem_specific.severity`,
 *    `affected[].database_specific.severity`, or a non-CVSS `severity[]` entry (`Ubuntu`);
 * 4. otherwise `unknown`.
 *
 * When a rule finds several candidates the most severe wins (a record that is critical for
 * one package is reported critical). A vector that does not parse is skipped and listed in
 * `problems`, never thrown: one bad vector must not hide a record. `unknown` ranks as
 * `medium` for thresholds; see `severityRank` / `meetsThreshold`.
 *
 * @example
 * ```ts
 * import { severityOf } from "./severity_of.ts";
 * const v = severityOf({ severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:H/A:L" }] });
 * console.assert(v.severity === "high" && v.score === 7.6 && v.from === "CVSS_V3");
 * const g = severityOf({ database_specific: { severity: "MODERATE" } });
 * console.assert(g.severity === "medium" && g.from === "label");
 * console.assert(severityOf({}).severity === "unknown");
 * ```
 */
export function severityOf(record: SeverityFields): SeverityVerdict {
  const problems: string[] = [];
  const scored: CvssScore[] = [];
  const labels: string[] = [];

  const consider = (entry: SeverityEntry): void => {
    if (entry.type === "CVSS_V3" || entry.type === "CVSS_V4" || entry.score.startsWith("CVSS:")) {
      try {
        scored.push(scoreCvss(entry.score));
      } catch (e) {
        problems.push(`${entry.type}: ${errorMessage(e)}`);
      }
    } else if (entry.type !== "CVSS_V2") {
      labels.push(entry.score);
    }
  };

  for (const s of record.severity ?? []) consider(s);
  for (const a of record.affected ?? []) {
    for (const s of a.severity ?? []) consider(s);
    const cvss = a.database_specific?.cvss;
    if (typeof cvss === "string" && cvss !== "") consider({ type: "CVSS", score: cvss });
  }

  for (const version of ["4.0", "3"] as const) {
    const best = scored
      .filter((s) => s.version.startsWith(version))
      .reduce<CvssScore | undefined>(
        (a, b) => (a === undefined || b.score > a.score ? b : a),
        undefined,
      );
    if (best !== undefined) {
      return {
        severity: best.severity,
        score: best.score,
        vector: best.vector,
        from: best.version === "4.0" ? "CVSS_V4" : "CVSS_V3",
        problems,
      };
    }
  }

  const top = record.database_specific?.severity;
  if (typeof top === "string") labels.push(top);
  for (const a of record.affected ?? []) {
    for (const bag of [a.ecosystem_specific, a.database_specific]) {
      if (typeof bag?.severity === "string") labels.push(bag.severity);
    }
  }
  let best: { label: string; severity: VulnSeverity } | undefined;
  for (const label of labels) {
    const severity = severityFromLabel(label);
    if (severity === "unknown") continue;
    if (best === undefined || compareSeverity(severity, best.severity) < 0) {
      best = { label, severity };
    }
  }
  if (best !== undefined) return { ...best, from: "label", problems };
  return { severity: "unknown", from: "none", problems };
}
