/**
 * The SBOM and vulnerability scanner: the shared component and finding types, the scan
 * pipeline (directories and running containers → inventory → OSV matching → rated, merged
 * findings), and the agent module that scans on an interval and on lockfile changes and
 * alerts once per new finding.
 *
 * The parts live in their own folders, imported directly by what needs them so that the
 * agent does not load what it does not use: `inventory/` (extractors and the walker),
 * `version/` (each ecosystem's ordering), `osv/` (records, matching, the local index),
 * `severity/` (CVSS and labels) and `report/` (CycloneDX, SARIF, table, JSON; it loads the
 * CycloneDX library).
 *
 * ```ts ignore
 * import { scanDirectory } from "./mod.ts";
 * import { openVulnDb } from "./osv/mod.ts";
 * const db = openVulnDb("/var/lib/ironpost/vulndb.sqlite");
 * const result = await scanDirectory("/srv/app", { db });
 * for (const f of result.findings) console.log(f.id, f.component.name, f.fixedVersion);
 * db.close();
 * ```
 *
 * ```ts
 * import { findVulnerabilities } from "./mod.ts";
 * const db = { entriesFor: () => [] };
 * console.assert(findVulnerabilities([], db).length === 0);
 * ```
 * @module
 */
export { type Component, componentKey, type Ecosystem, type Origin } from "./component.ts";
export type { Finding, VulnSeverity } from "./finding.ts";
export {
  combineResults,
  type FindOptions,
  findVulnerabilities,
  parseOsRelease,
  readDebianRelease,
  SCAN_EXTRACTORS,
  scanContainer,
  scanDirectory,
  type ScanOptions,
  type ScanTarget,
  scanTarget,
  type TargetResult,
  type VulnLookup,
} from "./scanner.ts";
export {
  type ContainerFsOptions,
  type ContainerIdentity,
  type ContainerRoot,
  inspectContainer,
  type InspectedContainer,
  listRunningContainers,
  openContainerRoot,
  wantedPath,
} from "./container_fs.ts";
export { SbomScanError } from "./scan_error.ts";
export { readTar, type TarEntry, type TarItem } from "./tar_stream.ts";
export {
  alertSeverityOf,
  findingAlert,
  type SbomChannels,
  SbomModule,
  type SbomModuleOptions,
  type SbomScanSummary,
  SEEN_CHECKPOINT,
  seenKeys,
} from "./module.ts";
