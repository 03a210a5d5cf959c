/**
 * Reading the local vulnerability index that `buildIndex` / `updateVulnDb` write.
 */
import { errorMessage } from "../../core/errors.ts";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { inflateRawSync } from "node:zlib";
import type { VulnSeverity } from "../finding.ts";
import { splitEcosystem } from "./ecosystem.ts";
import { normalizePackageName } from "./match.ts";
import type { OsvRecord } from "./record.ts";
import { VulnDbError } from "./vulndb_error.ts";
import { VULNDB_SCHEMA } from "./vulndb_schema.ts";

/** A record with the severity computed when the index was built. */
export interface IndexedRecord {
  record: OsvRecord;
  severity: VulnSeverity;
  score?: number;
  vector?: string;
}

/** What `ironpost status` and `sbom db status` show about an index. */
export interface VulnDbStatus {
  path: string;
  source: string;
  builtAt: string;
  /** Milliseconds since the index was built. */
  ageMs: number;
  schemaVersion: number;
  records: number;
  withdrawn: number;
  /** Entries of the source that were not indexed (below the build's limit). */
  rejected: number;
  sizeBytes: number;
  /** Per ecosystem: records from its source, and distinct package names indexed under it. */
  ecosystems: { ecosystem: string; records: number; packages: number }[];
}

interface Row {
  id: string;
  json: Uint8Array;
  severity: string;
  score: number | null;
  vector: string | null;
}

/**
 * An open, read-only index. The file is opened once; a later `updateVulnDb` renames a new
 * file over the path, which this handle does not see (it keeps reading the index it opened,
 * whole and consistent) until it is closed and opened again.
 */
export class VulnDb {
  readonly path: string;
  #db: DatabaseSync;
  #byPackage: StatementSync;
  #byId: StatementSync;
  #byAlias: StatementSync;
  #decoder = new TextDecoder();

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    // One indexed lookup: the packages primary key starts with (ecosystem, name).
    this.#byPackage = db.prepare(
      "SELECT DISTINCT r.id, r.json, r.severity, r.score, r.vector FROM packages p " +
        "JOIN records r ON r.id = p.record_id " +
        "WHERE p.ecosystem = ? AND p.name = ? AND (? = '' OR p.release = ?) " +
        "AND (? OR r.withdrawn IS NULL) ORDER BY r.id",
    );
    this.#byId = db.prepare("SELECT id, json, severity, score, vector FROM records WHERE id = ?");
    this.#byAlias = db.prepare("SELECT record_id FROM aliases WHERE alias = ? ORDER BY record_id");
  }

  /**
   * Opens the index at `path` read-only.
   *
   * @throws {VulnDbError} `E_VULNDB_OPEN` when there is no index there, or one built for a
   * different schema (rebuild it with `updateVulnDb`).
   */
  static open(path: string): VulnDb {
    let db: DatabaseSync | undefined;
    try {
      Deno.statSync(path);
      db = new DatabaseSync(path, { readOnly: true });
      const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
        | { value: string }
        | undefined;
      const version = Number(row?.value);
      if (version !== VULNDB_SCHEMA) {
        throw new Error(
          `it has schema ${row?.value ?? "none"}, this agent reads ${VULNDB_SCHEMA}; rebuild it`,
        );
      }
      return new VulnDb(path, db);
    } catch (e) {
      db?.close();
      const why = e instanceof Deno.errors.NotFound
        ? "no vulnerability index here; build one with updateVulnDb"
        : `not a readable vulnerability index: ${errorMessage(e)}`;
      throw new VulnDbError("E_VULNDB_OPEN", path, why, {}, { cause: e });
    }
  }

  /**
   * Every record that names the package in `affected[]`, withdrawn ones left out unless
   * asked for. `ecosystem` is OSV's spelling; with a release (`Debian:12`) only records for
   * that release match, without one (`Debian`) records for any release do. The name is
   * normalised as it was when indexed (`normalizePackageName`).
   */
  recordsFor(
    ecosystem: string,
    name: string,
    options: { includeWithdrawn?: boolean } = {},
  ): OsvRecord[] {
    return this.entriesFor(ecosystem, name, options).map((e) => e.record);
  }

  /** `recordsFor` with each record's precomputed severity, score and vector. */
  entriesFor(
    ecosystem: string,
    name: string,
    options: { includeWithdrawn?: boolean } = {},
  ): IndexedRecord[] {
    const split = splitEcosystem(ecosystem);
    const rows = this.#byPackage.all(
      split.ecosystem,
      normalizePackageName(split.ecosystem, name),
      split.release,
      split.release,
      options.includeWithdrawn ? 1 : 0,
    ) as unknown as Row[];
    return rows.map((r) => this.#entry(r));
  }

  /** The record with this id, withdrawn or not. */
  get(id: string): IndexedRecord | undefined {
    const row = this.#byId.get(id) as unknown as Row | undefined;
    return row === undefined ? undefined : this.#entry(row);
  }

  /** Ids of the records that list `alias` (a CVE, GHSA, … id) among their aliases. */
  idsForAlias(alias: string): string[] {
    return (this.#byAlias.all(alias) as { record_id: string }[]).map((r) => r.record_id);
  }

  status(): VulnDbStatus {
    const meta = new Map(
      (this.#db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[])
        .map((r) => [r.key, r.value]),
    );
    const counts = JSON.parse(meta.get("counts") ?? "{}") as Record<string, number>;
    const packages = JSON.parse(meta.get("package_counts") ?? "{}") as Record<string, number>;
    const one = (sql: string) => Number((this.#db.prepare(sql).get() as { n: number }).n);
    const builtAt = meta.get("built_at") ?? "";
    const names = [...new Set([...Object.keys(counts), ...Object.keys(packages)])].sort();
    let sizeBytes = 0;
    try {
      sizeBytes = Deno.statSync(this.path).size;
    } catch {
      // Removed since it was opened; the handle still reads the old file.
    }
    return {
      path: this.path,
      source: meta.get("source") ?? "",
      builtAt,
      ageMs: Date.now() - Date.parse(builtAt),
      schemaVersion: Number(meta.get("schema_version")),
      records: one("SELECT count(*) AS n FROM records"),
      withdrawn: one("SELECT count(*) AS n FROM records WHERE withdrawn IS NOT NULL"),
      rejected: Number(meta.get("rejected_count") ?? 0),
      sizeBytes,
      ecosystems: names.map((ecosystem) => ({
        ecosystem,
        records: counts[ecosystem] ?? 0,
        packages: packages[ecosystem] ?? 0,
      })),
    };
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #entry(row: Row): IndexedRecord {
    const record = JSON.parse(this.#decoder.decode(inflateRawSync(row.json))) as OsvRecord;
    const e: IndexedRecord = { record, severity: row.severity as VulnSeverity };
    if (row.score !== null) e.score = row.score;
    if (row.vector !== null) e.vector = row.vector;
    return e;
  }
}

/**
 * Opens the index at `dbPath` read-only; see `VulnDb`.
 *
 * @throws {VulnDbError} `E_VULNDB_OPEN`.
 * @example
 * ```ts ignore
 * import { openVulnDb } from "./vulndb.ts";
 * const db = openVulnDb("/var/lib/ironpost/vulndb.sqlite");
 * for (const r of db.recordsFor("PyPI", "Django")) console.log(r.id);
 * console.log(db.status().ecosystems);
 * db.close();
 * ```
 */
export function openVulnDb(dbPath: string): VulnDb {
  return VulnDb.open(dbPath);
}
