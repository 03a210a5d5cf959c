/**
 * Severity of vulnerability records: CVSS v3.0/v3.1 and v4.0 Base scores computed from their
 * vectors as FIRST specifies them, FIRST's qualitative rating, database labels, and the
 * ordering thresholds use (`unknown` ranks as `medium`).
 *
 * ```ts
 * import { meetsThreshold, scoreCvss, severityOf } from "./mod.ts";
 * console.assert(scoreCvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").score === 9.3);
 * const verdict = severityOf({ database_specific: { severity: "HIGH" } });
 * console.assert(meetsThreshold(verdict.severity, "medium"));
 * ```
 * @module
 */
export { type CvssScore, scoreCvss } from "./cvss.ts";
export { cvss3BaseScore, type Cvss3Vector, parseCvss3 } from "./cvss3.ts";
export { cvss4BaseScore, cvss4Score, type Cvss4Vector, parseCvss4 } from "./cvss4.ts";
export { CvssVectorError } from "./errors.ts";
export { severityFromLabel } from "./labels.ts";
export {
  compareSeverity,
  type KnownSeverity,
  meetsThreshold,
  ratingOf,
  SEVERITY_ORDER,
  severityRank,
} from "./rating.ts";
export {
  type SeverityEntry,
  type SeverityFields,
  severityOf,
  type SeverityOrigin,
  type SeverityVerdict,
} from "./severity_of.ts";
