/**
 * Reports of an SBOM scan: CycloneDX 1.6 (JSON, XML) with vulnerabilities, SARIF 2.1.0, a
 * terminal table, and the stable JSON of a scan result. All of them are pure functions of
 * the scan's components and findings (plus a timestamp), so equal scans give equal bytes.
 *
 * ```ts
 * import { formatFindingsTable, toCycloneDx, toSarif } from "./mod.ts";
 * const tool = { name: "ironpost" as const, version: "0.1.0" };
 * const bom = toCycloneDx({
 *   components: [], findings: [], subject: { type: "host", name: "web-1" }, tool,
 *   timestamp: new Date("2025-01-01T00:00:00Z"),
 * }, "xml");
 * console.assert(bom.includes("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\""));
 * console.assert(JSON.parse(toSarif([], { tool })).version === "2.1.0");
 * console.assert(formatFindingsTable([]) === "No vulnerabilities found.");
 * ```
 * @module
 */
export { type AdvisorySource, advisorySource } from "./advisory_source.ts";
export { bomRefOf, scopeOfGroups } from "./component_set.ts";
export {
  type CycloneDxFormat,
  type CycloneDxInput,
  type CycloneDxOptions,
  ratingMethod,
  subjectBomRef,
  toCycloneDx,
} from "./cyclonedx.ts";
export { ReportError } from "./errors.ts";
export {
  type ComponentJson,
  type FindingJson,
  type ScanError,
  type ScanResult,
  type ScanResultJson,
  toScanError,
  toScanJson,
  toScanResultJson,
} from "./json.ts";
export { baseEcosystem, toPurl } from "./purl.ts";
export {
  SARIF_SCHEMA,
  SARIF_SRCROOT,
  type SarifLevel,
  sarifLevel,
  type SarifOptions,
  toSarif,
} from "./sarif.ts";
export { compareFindings } from "./severity_order.ts";
export type { ScanSubject, ToolInfo } from "./subject.ts";
export { formatFindingsTable, type TableOptions } from "./table.ts";
export { validateCycloneDxJson } from "./validate.ts";
