/**
 * OSV: record types and parsing, matching records to components, and the local vulnerability
 * database (a SQLite index of OSV records built from OSV's bucket, a mirror, a directory or
 * an `all.zip`, swapped in atomically).
 *
 * ```ts ignore
 * import { openVulnDb, updateVulnDb } from "./mod.ts";
 * await updateVulnDb({ source: "/srv/osv", dbPath: "/var/lib/ironpost/vulndb.sqlite" });
 * const db = openVulnDb("/var/lib/ironpost/vulndb.sqlite");
 * console.log(db.recordsFor("crates.io", "zip").map((r) => r.id));
 * db.close();
 * ```
 * @module
 */
// record.ts and match.ts are maintained apart; their whole public surface is re-exported.
export * from "./record.ts";
export * from "./match.ts";
export {
  buildIndex,
  type BuildOptions,
  type BuildReport,
  type RejectedEntry,
} from "./build_index.ts";
export { splitEcosystem } from "./ecosystem.ts";
export { DEFAULT_ECOSYSTEMS, OSV_BUCKET, type UpdateOptions, updateVulnDb } from "./update.ts";
export { type IndexedRecord, openVulnDb, VulnDb, type VulnDbStatus } from "./vulndb.ts";
export { VulnDbError } from "./vulndb_error.ts";
export { VULNDB_SCHEMA } from "./vulndb_schema.ts";
export { type BuildSource, type ZipBytes } from "./vulndb_source.ts";
export { listZip, readZipEntry, type ZipEntry } from "./zip.ts";
