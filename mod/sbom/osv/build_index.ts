/**
 * Builds the local vulnerability index: every OSV record of the sources, checked, keyed by
 * each package it affects, into a fresh SQLite file that replaces the old one atomically.
 */
import { errorMessage } from "../../core/errors.ts";
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { deflateRawSync } from "node:zlib";
import { severityOf } from "../severity/severity_of.ts";
import { splitEcosystem } from "./ecosystem.ts";
import { normalizePackageName } from "./match.ts";
import { type OsvRecord, OsvRecordError, parseOsvRecord } from "./record.ts";
import { VulnDbError } from "./vulndb_error.ts";
import { VULNDB_DDL, VULNDB_SCHEMA } from "./vulndb_schema.ts";
import { type BuildSource, type OpenedSource, openSource, sourceLabel } from "./vulndb_source.ts";

/** Limits that keep a broken download from replacing a good index. */
export interface BuildOptions {
  /**
   * Largest fraction of entries that may fail to parse as OSV records; above it the build is
   * refused. Default 0.01: a real feed has none, a damaged or wrong one has many.
   */
  maxRejectedFraction?: number;
  /**
   * Largest fraction of its records an ecosystem of the index being replaced may lose;
   * above it the build is refused. Default 0.1: advisories are withdrawn, not deleted, so a
   * large drop means a truncated or wrong source.
   */
  maxShrinkFraction?: number;
  /** Skip the shrink check and replace a file that is not an index. */
  force?: boolean;
  /** What `status().source` reports; default: the sources' paths or names. */
  sourceLabel?: string;
}

/** An entry that was not indexed, and why. */
export interface RejectedEntry {
  entry: string;
  reason: string;
}

/** What a build did. */
export interface BuildReport {
  dbPath: string;
  source: string;
  builtAt: string;
  durationMs: number;
  /** Entries read from the sources (records, duplicates and rejects). */
  entries: number;
  /** Distinct record ids indexed. */
  records: number;
  withdrawn: number;
  /** Same id seen again (a record in two ecosystems' archives); the latest `modified` kept. */
  duplicates: number;
  /** Records per source ecosystem (the directory or archive they came from). */
  counts: Record<string, number>;
  packages: number;
  aliases: number;
  rejected: RejectedEntry[];
  sizeBytes: number;
  /** An older index was replaced. */
  replaced: boolean;
}

const DEFAULT_MAX_REJECTED = 0.01;
const DEFAULT_MAX_SHRINK = 0.1;

/**
 * Builds an index at `dbPath` from OSV records: a directory tree `<Ecosystem>/<ID>.json` (as
 * OSV's bucket and `shared/data/osv` are laid out), an `all.zip`, zip bytes, or several.
 *
 * The index is written to `<dbPath>.new` (mode 0600) and renamed over `dbPath` only when
 * complete and checked, so readers see the old index or the new one, never a mix, and a
 * failure of any kind leaves the old one untouched. Refused (typed `VulnDbError`, the source
 * named): an unreadable source or zip (`E_VULNDB_SOURCE`, `E_VULNDB_ZIP`), no record
 * (`E_VULNDB_EMPTY`), more rejected entries than `maxRejectedFraction`
 * (`E_VULNDB_REJECTED`), an ecosystem that lost more than `maxShrinkFraction` of the records
 * the old index had (`E_VULNDB_SHRINK`). Rejected entries below the limit are listed in the
 * report, each with its name and reason.
 *
 * A record is indexed under every `affected[].package`, by ecosystem (release split off:
 * `Debian:12` → `Debian` + `12`) and normalised name (`normalizePackageName`). Concurrent
 * builds of the same `dbPath` are not supported; the agent runs one update at a time.
 *
 * @example
 * ```ts ignore
 * import { buildIndex } from "./build_index.ts";
 * const report = await buildIndex("/var/lib/osv", "/var/lib/ironpost/vulndb.sqlite");
 * console.log(report.records, report.counts, report.rejected);
 * ```
 */
export async function buildIndex(
  source: BuildSource | BuildSource[],
  dbPath: string,
  options: BuildOptions = {},
): Promise<BuildReport> {
  const started = performance.now();
  const sources = Array.isArray(source) ? source : [source];
  const label = options.sourceLabel ?? (sources.map(sourceLabel).join(", ") || "(no source)");
  if (sources.length === 0) throw new VulnDbError("E_VULNDB_SOURCE", label, "no source given");
  // Read every zip's directory before creating anything: a damaged download fails here.
  const opened: OpenedSource[] = [];
  for (const s of sources) opened.push(await openSource(s));
  const previous = await existingCounts(dbPath, options.force === true);

  const tmp = `${dbPath}.new`;
  try {
    await Deno.mkdir(dirname(dbPath), { recursive: true, mode: 0o700 });
    await removeIfPresent(tmp);
    // Create the file ourselves so it never exists with a looser mode, even briefly.
    (await Deno.open(tmp, { createNew: true, write: true, mode: 0o600 })).close();
    await Deno.chmod(tmp, 0o600);
  } catch (e) {
    throw new VulnDbError(
      "E_VULNDB_WRITE",
      dbPath,
      `cannot create ${tmp}: ${errorMessage(e)}`,
      {},
      {
        cause: e,
      },
    );
  }

  const builtAt = new Date().toISOString();
  let report: Omit<BuildReport, "sizeBytes" | "replaced" | "durationMs">;
  const db = new DatabaseSync(tmp);
  try {
    // A crash mid-build leaves only <dbPath>.new, which the next build deletes: no journal
    // is needed, and writing without one is several times faster.
    db.exec(
      "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;",
    );
    db.exec(VULNDB_DDL);
    db.exec("BEGIN");
    report = await fill(db, opened, label, builtAt, dbPath, options, previous);
    db.exec("COMMIT");
    const check = db.prepare("PRAGMA quick_check").get() as Record<string, string>;
    if (Object.values(check)[0] !== "ok") {
      throw new VulnDbError(
        "E_VULNDB_WRITE",
        dbPath,
        `the new index fails quick_check: ${JSON.stringify(check)}`,
      );
    }
    db.close();
  } catch (e) {
    if (db.isOpen) db.close();
    await removeIfPresent(tmp);
    if (e instanceof VulnDbError) throw e;
    throw new VulnDbError(
      "E_VULNDB_WRITE",
      dbPath,
      `cannot build the index: ${errorMessage(e)}`,
      {},
      {
        cause: e,
      },
    );
  }

  try {
    const f = await Deno.open(tmp, { read: true, write: true });
    await f.sync();
    f.close();
    await Deno.rename(tmp, dbPath);
    await syncDirectory(dirname(dbPath));
  } catch (e) {
    await removeIfPresent(tmp);
    throw new VulnDbError(
      "E_VULNDB_WRITE",
      dbPath,
      `cannot replace the index: ${errorMessage(e)}`,
      {},
      {
        cause: e,
      },
    );
  }
  const sizeBytes = (await Deno.stat(dbPath)).size;
  return {
    ...report,
    sizeBytes,
    replaced: previous !== undefined,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Reads every entry into the open transaction and checks the result; returns the report. */
async function fill(
  db: DatabaseSync,
  opened: OpenedSource[],
  label: string,
  builtAt: string,
  dbPath: string,
  options: BuildOptions,
  previous: Record<string, number> | undefined,
): Promise<Omit<BuildReport, "sizeBytes" | "replaced" | "durationMs">> {
  const putRecord = db.prepare(
    "INSERT OR REPLACE INTO records (id, modified, withdrawn, home, severity, score, vector, json) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const putPackage = db.prepare(
    "INSERT OR IGNORE INTO packages (ecosystem, name, record_id, release) VALUES (?, ?, ?, ?)",
  );
  const putAlias = db.prepare("INSERT OR IGNORE INTO aliases (alias, record_id) VALUES (?, ?)");
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const encoder = new TextEncoder();

  const modifiedOf = new Map<string, number>();
  const perHome = new Map<string, Set<string>>();
  const rejected: RejectedEntry[] = [];
  let entries = 0;
  let duplicates = 0;

  for (const source of opened) {
    for await (const raw of source.entries()) {
      entries++;
      let record: OsvRecord;
      try {
        record = parseOsvRecord(utf8.decode(raw.bytes), raw.where);
      } catch (e) {
        const reason = e instanceof OsvRecordError
          ? e.message.slice(raw.where.length + 2)
          : `is not UTF-8 text (${errorMessage(e)})`;
        rejected.push({ entry: raw.where, reason });
        continue;
      }
      const home = raw.home ?? homeOf(record);
      let ids = perHome.get(home);
      if (ids === undefined) perHome.set(home, ids = new Set());
      ids.add(record.id);

      const modified = Date.parse(record.modified);
      const seen = modifiedOf.get(record.id);
      if (seen !== undefined) duplicates++;
      if (seen === undefined || modified > seen) {
        modifiedOf.set(record.id, modified);
        const verdict = severityOf(record);
        putRecord.run(
          record.id,
          record.modified,
          record.withdrawn ?? null,
          home,
          verdict.severity,
          verdict.score ?? null,
          verdict.vector ?? null,
          deflateRawSync(encoder.encode(JSON.stringify(record)), { level: 6 }),
        );
      }
      // Package and alias rows of every copy are kept: a later copy may list more packages.
      for (const a of record.affected ?? []) {
        if (a.package === undefined) continue;
        const { ecosystem, release } = splitEcosystem(a.package.ecosystem);
        putPackage.run(
          ecosystem,
          normalizePackageName(ecosystem, a.package.name),
          record.id,
          release,
        );
      }
      for (const alias of record.aliases ?? []) putAlias.run(alias, record.id);
    }
  }

  const accepted = entries - rejected.length;
  const sample = rejected.slice(0, 5).map((r) => `${r.entry} (${r.reason})`).join("; ");
  if (accepted === 0) {
    throw new VulnDbError(
      "E_VULNDB_EMPTY",
      label,
      entries === 0
        ? "holds no OSV record"
        : `none of its ${entries} entries is an OSV record: ${sample}`,
      { rejected: rejected.slice(0, 100) },
    );
  }
  const maxRejected = options.maxRejectedFraction ?? DEFAULT_MAX_REJECTED;
  if (rejected.length > entries * maxRejected) {
    throw new VulnDbError(
      "E_VULNDB_REJECTED",
      label,
      `${rejected.length} of ${entries} entries are not OSV records (the limit is ` +
        `${maxRejected * 100}%); the index was not replaced. First: ${sample}`,
      { rejected: rejected.slice(0, 100) },
    );
  }
  const counts: Record<string, number> = {};
  for (const home of [...perHome.keys()].sort()) counts[home] = perHome.get(home)!.size;
  if (previous !== undefined && options.force !== true) {
    const maxShrink = options.maxShrinkFraction ?? DEFAULT_MAX_SHRINK;
    const lost = Object.entries(previous)
      .filter(([home, before]) => (counts[home] ?? 0) < before * (1 - maxShrink))
      .map(([home, before]) => `${home} ${before} → ${counts[home] ?? 0}`);
    if (lost.length > 0) {
      throw new VulnDbError(
        "E_VULNDB_SHRINK",
        label,
        `would lose more than ${maxShrink * 100}% of the records of the index it replaces ` +
          `(${lost.join(", ")}); the index was not replaced (force to accept)`,
        { lost },
      );
    }
  }

  const one = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
  const withdrawn = one("SELECT count(*) AS n FROM records WHERE withdrawn IS NOT NULL");
  const packages = one("SELECT count(*) AS n FROM (SELECT DISTINCT ecosystem, name FROM packages)");
  const aliases = one("SELECT count(*) AS n FROM aliases");
  const packageCounts: Record<string, number> = {};
  for (
    const row of db.prepare(
      "SELECT ecosystem, count(DISTINCT name) AS n FROM packages GROUP BY ecosystem ORDER BY ecosystem",
    ).all() as { ecosystem: string; n: number }[]
  ) packageCounts[row.ecosystem] = Number(row.n);

  const putMeta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
  const meta: Record<string, string> = {
    schema_version: String(VULNDB_SCHEMA),
    source: label,
    built_at: builtAt,
    counts: JSON.stringify(counts),
    package_counts: JSON.stringify(packageCounts),
    entries: String(entries),
    rejected: JSON.stringify(rejected.slice(0, 100)),
    rejected_count: String(rejected.length),
  };
  for (const [k, v] of Object.entries(meta)) putMeta.run(k, v);
  return {
    dbPath,
    source: label,
    builtAt,
    entries,
    records: modifiedOf.size,
    withdrawn,
    duplicates,
    counts,
    packages,
    aliases,
    rejected,
  };
}

/** The ecosystem a record belongs to when its source does not say: its first package's. */
function homeOf(record: OsvRecord): string {
  const first = record.affected?.find((a) => a.package !== undefined)?.package;
  return first === undefined ? "unknown" : splitEcosystem(first.ecosystem).ecosystem;
}

/**
 * Per-ecosystem record counts of the index at `dbPath`, or undefined when there is none.
 * A file there that is not an index is refused unless `force`: the path may be mistyped.
 */
async function existingCounts(
  dbPath: string,
  force: boolean,
): Promise<Record<string, number> | undefined> {
  try {
    await Deno.stat(dbPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new VulnDbError("E_VULNDB_WRITE", dbPath, `cannot inspect: ${errorMessage(e)}`);
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(dbPath, { readOnly: true });
    const row = db.prepare("SELECT value FROM meta WHERE key = 'counts'").get() as
      | { value: string }
      | undefined;
    if (row === undefined) throw new Error("it has no record counts");
    return JSON.parse(row.value) as Record<string, number>;
  } catch (e) {
    if (force) return {};
    throw new VulnDbError(
      "E_VULNDB_WRITE",
      dbPath,
      `exists and is not a vulnerability index this agent can read (${errorMessage(e)}); ` +
        "remove it or force the build",
    );
  } finally {
    db?.close();
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Makes the rename durable; a directory that cannot be opened for sync is left as is. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
