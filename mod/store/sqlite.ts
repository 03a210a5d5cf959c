import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import {
  type ActionEvent,
  type AlertEvent,
  errorMessage,
  type Health,
  IronpostError,
  type MetricSample,
  sample,
  SEVERITIES,
} from "../core/mod.ts";
import { STORE_METRICS } from "./metrics.ts";
import type { AlertQuery, Store } from "./store.ts";

/** How much the store keeps (`storage.retention_days`, `storage.max_db_mb`). */
export interface Retention {
  /** Alerts and actions older than this many days are deleted; 0 keeps them forever. */
  retentionDays: number;
  /** Most bytes of data pages the store holds; past it the oldest rows go; 0: no limit. */
  maxBytes: number;
}

/** What `SqliteStore.open` takes beyond the path; without `retention` nothing is pruned. */
export interface StoreOptions {
  retention?: Retention;
  /** How often the age and size prune runs (default 60 s). */
  pruneIntervalMs?: number;
  /** Writes between two size checks (default 256): a flood cannot outrun the cap by more. */
  checkEvery?: number;
}

/** A prune by size deletes down to this share of the cap, so it does not run on every insert. */
const LOW_WATER = 0.9;
/** Rows one DELETE removes at most: each batch is a short transaction. */
const BATCH = 5000;
/** Most batches one prune runs (bounded; the next check continues). */
const MAX_BATCHES = 200;
/** The tables retention prunes (checkpoints are state, never pruned). */
const PRUNED_TABLES = ["alerts", "actions"] as const;
type PrunedTable = typeof PRUNED_TABLES[number];

const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  ts TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  severity INTEGER NOT NULL,
  source TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
CREATE TABLE IF NOT EXISTS actions (
  id TEXT PRIMARY KEY,
  ts TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  alert_id TEXT,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_ts ON actions (ts);
CREATE TABLE IF NOT EXISTS checkpoints (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated TEXT NOT NULL
);
`;

/**
 * The embedded store: one SQLite file in WAL mode (readers such as `ironpost alerts` never
 * block the agent's writes), created 0600 because alerts carry user names and command lines.
 *
 * Retention: alerts and actions older than `retentionDays` go on a timer, and past
 * `maxBytes` of data pages the oldest go (checked every `checkEvery` writes and on the
 * timer) until the data is under 90 % of the cap. Without VACUUM: deleted rows' pages join
 * SQLite's freelist and the next inserts reuse them, so the file grows to about the cap and
 * stays there. VACUUM would rewrite the whole file (twice its size on disk, writers blocked)
 * which is the wrong thing on a full disk; incremental vacuum would move pages on every
 * prune only to grow the file back under the next flood.
 *
 * A write that fails (a full disk: SQLITE_FULL) rolls back whole, so the file stays
 * consistent; `health()` is degraded from then until a write succeeds again.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly path: string;
  #db: DatabaseSync;
  #insertAlert: StatementSync;
  #insertAction: StatementSync;
  #getCheckpoint: StatementSync;
  #setCheckpoint: StatementSync;
  #retention: Retention | undefined;
  #checkEvery: number;
  #sinceCheck = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pruned: Record<PrunedTable, number> = { alerts: 0, actions: 0 };
  #writeFailures = 0;
  /** The failing write streak: since when and the last error; cleared by a good write. */
  #failing: { since: string; error: string; count: number } | undefined;

  private constructor(path: string, db: DatabaseSync, opts: StoreOptions) {
    this.path = path;
    this.#db = db;
    this.#retention = opts.retention;
    this.#checkEvery = Math.max(1, opts.checkEvery ?? 256);
    if (opts.retention) {
      const timer = setInterval(() => this.#pruneQuietly(), opts.pruneIntervalMs ?? 60_000);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    this.#insertAlert = db.prepare(
      "INSERT OR IGNORE INTO alerts (id, ts, rule_id, severity, source, body) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#insertAction = db.prepare(
      "INSERT OR IGNORE INTO actions (id, ts, action, target, outcome, alert_id, body) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.#getCheckpoint = db.prepare("SELECT value FROM checkpoints WHERE key = ?");
    this.#setCheckpoint = db.prepare(
      "INSERT INTO checkpoints (key, value, updated) VALUES (?, ?, ?) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
    );
  }

  /** Open (creating with mode 0600, and its directory with 0700) the database at `path`. */
  static async open(path: string, opts: StoreOptions = {}): Promise<SqliteStore> {
    try {
      await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it never exists with a looser mode, even briefly.
      const f = await Deno.open(path, { create: true, write: true, mode: 0o600 });
      f.close();
      const st = await Deno.stat(path);
      if (((st.mode ?? 0) & 0o077) !== 0) await Deno.chmod(path, 0o600);
      const db = new DatabaseSync(path);
      db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; " +
          // A WAL that grew (a flood, checkpoints failing on a full disk) is cut back to
          // 8 MiB once a checkpoint completes.
          "PRAGMA journal_size_limit = 8388608;",
      );
      db.exec(DDL);
      const version = (db.prepare("PRAGMA user_version").get() as { user_version: number })
        .user_version;
      if (version > SCHEMA_VERSION) {
        db.close();
        throw new IronpostError(
          "E_STORE_VERSION",
          `Store ${path} has schema version ${version}, newer than this agent's ${SCHEMA_VERSION}`,
          { path, version },
        );
      }
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      const store = new SqliteStore(path, db, opts);
      if (opts.retention) store.#pruneQuietly();
      return store;
    } catch (err) {
      if (err instanceof IronpostError) throw err;
      throw new IronpostError(
        "E_STORE_OPEN",
        `Cannot open the SQLite store at ${path}: ${err instanceof Error ? err.message : err}`,
        { path, hint: "check storage.sqlite_path / general.state_dir and their permissions" },
        { cause: err },
      );
    }
  }

  insertAlert(a: AlertEvent): Promise<boolean> {
    const r = this.#write(() =>
      this.#insertAlert.run(
        a.id,
        a.ts,
        a.ruleId,
        SEVERITIES.indexOf(a.severity),
        a.source,
        JSON.stringify(a),
      )
    );
    this.#afterInsert();
    return Promise.resolve(Number(r.changes) > 0);
  }

  insertAction(a: ActionEvent): Promise<boolean> {
    const r = this.#write(() =>
      this.#insertAction.run(
        a.id,
        a.ts,
        a.action,
        a.target,
        a.outcome,
        a.alertId ?? null,
        JSON.stringify(a),
      )
    );
    this.#afterInsert();
    return Promise.resolve(Number(r.changes) > 0);
  }

  listAlerts(q: AlertQuery = {}): Promise<AlertEvent[]> {
    const rows = this.#db.prepare(
      "SELECT body FROM alerts WHERE ts >= ? AND severity >= ? ORDER BY ts DESC, id DESC LIMIT ?",
    ).all(
      q.since ?? "",
      q.minSeverity ? SEVERITIES.indexOf(q.minSeverity) : 0,
      q.limit ?? 1000,
    ) as { body: string }[];
    return Promise.resolve(rows.map((r) => JSON.parse(r.body) as AlertEvent));
  }

  getAlert(id: string): Promise<AlertEvent | undefined> {
    const row = this.#db.prepare("SELECT body FROM alerts WHERE id = ?").get(id) as
      | { body: string }
      | undefined;
    return Promise.resolve(row ? JSON.parse(row.body) as AlertEvent : undefined);
  }

  listActions(limit = 1000): Promise<ActionEvent[]> {
    const rows = this.#db.prepare("SELECT body FROM actions ORDER BY ts DESC, id DESC LIMIT ?")
      .all(limit) as { body: string }[];
    return Promise.resolve(rows.map((r) => JSON.parse(r.body) as ActionEvent));
  }

  getCheckpoint(key: string): Promise<string | undefined> {
    const row = this.#getCheckpoint.get(key) as { value: string } | undefined;
    return Promise.resolve(row?.value);
  }

  setCheckpoint(key: string, value: string): Promise<void> {
    this.#write(() => this.#setCheckpoint.run(key, value, new Date().toISOString()));
    return Promise.resolve();
  }

  counts(): Promise<{ alerts: number; actions: number }> {
    const a = this.#db.prepare("SELECT count(*) AS n FROM alerts").get() as { n: number };
    const b = this.#db.prepare("SELECT count(*) AS n FROM actions").get() as { n: number };
    return Promise.resolve({ alerts: Number(a.n), actions: Number(b.n) });
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }

  /** Change the retention live (SIGHUP); the next check applies it. */
  setRetention(retention: Retention): void {
    this.#retention = retention;
    this.#sinceCheck = this.#checkEvery; // check on the next insert
  }

  /** Degraded while writes fail (e.g. a full disk), with since when and the error. */
  health(): Health {
    const f = this.#failing;
    if (!f) return { state: "healthy" };
    return {
      state: "degraded",
      reason: `store writes failing since ${f.since} (${f.count} failed): ${f.error}`,
    };
  }

  metrics(): MetricSample[] {
    return [
      ...PRUNED_TABLES.map((table) => sample(STORE_METRICS.pruned, this.#pruned[table], { table })),
      sample(STORE_METRICS.bytes, this.fileBytes()),
      sample(STORE_METRICS.usedBytes, this.#db.isOpen ? this.usedBytes() : 0),
      sample(STORE_METRICS.writeFailures, this.#writeFailures),
    ];
  }

  /** Rows deleted by retention since open, by table. */
  get pruned(): Readonly<Record<PrunedTable, number>> {
    return { ...this.#pruned };
  }

  /** Bytes of the pages that hold data: the file's pages less the freelist SQLite reuses. */
  usedBytes(): number {
    const n = (pragma: string) =>
      Number(Object.values(this.#db.prepare(`PRAGMA ${pragma}`).get() ?? {})[0] ?? 0);
    return (n("page_count") - n("freelist_count")) * n("page_size");
  }

  /** Bytes of the database and its WAL on disk. */
  fileBytes(): number {
    let total = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        total += Deno.statSync(f).size;
      } catch {
        // no WAL yet
      }
    }
    return total;
  }

  /**
   * Delete what retention no longer keeps: rows older than `retentionDays`, then the
   * oldest rows (alerts and actions by age, whichever table holds the older) while the data
   * is over `maxBytes`. Bounded: at most MAX_BATCHES short transactions. Returns the rows
   * deleted per table.
   */
  prune(now = Date.now()): Record<PrunedTable, number> {
    const out: Record<PrunedTable, number> = { alerts: 0, actions: 0 };
    const r = this.#retention;
    this.#sinceCheck = 0;
    if (!r || !this.#db.isOpen) return out;
    let batches = 0;
    if (r.retentionDays > 0) {
      const cutoff = new Date(now - r.retentionDays * 86_400_000).toISOString();
      for (const table of PRUNED_TABLES) {
        while (batches++ < MAX_BATCHES) {
          const n = this.#deleteOldest(table, BATCH, cutoff, "<");
          out[table] += n;
          if (n < BATCH) break;
        }
      }
    }
    if (r.maxBytes > 0 && this.usedBytes() > r.maxBytes) {
      const target = r.maxBytes * LOW_WATER;
      let rows = this.#count("alerts") + this.#count("actions");
      while (batches++ < MAX_BATCHES && rows > 0) {
        const used = this.usedBytes();
        if (used <= target) break;
        const [table, other] = this.#olderTable();
        if (!table) break;
        // Rows to delete at the current bytes per row; deleting frees a little less than
        // that (index pages stay partly full), so the loop measures again.
        const want = Math.min(BATCH, Math.max(16, Math.ceil((used - target) / (used / rows))));
        const n = other === undefined
          ? this.#deleteOldest(table, want)
          : this.#deleteOldest(table, want, other, "<=");
        out[table] += n;
        rows -= n;
        if (n === 0) break;
      }
    }
    for (const t of PRUNED_TABLES) this.#pruned[t] += out[t];
    return out;
  }

  #pruneQuietly(): void {
    try {
      this.prune();
    } catch {
      // Counted by #write as a failed write; the next check tries again.
    }
  }

  #afterInsert(): void {
    if (!this.#retention || this.#retention.maxBytes <= 0) return;
    if (++this.#sinceCheck < this.#checkEvery) return;
    this.#sinceCheck = 0;
    try {
      if (this.usedBytes() > this.#retention.maxBytes) this.prune();
    } catch {
      // As above: the failure is in health() and the metrics, the insert itself succeeded.
    }
  }

  /** Delete up to `limit` oldest rows of `table` (those with ts `op` `bound`, if given). */
  #deleteOldest(table: PrunedTable, limit: number, bound?: string, op?: "<" | "<="): number {
    const where = bound === undefined ? "" : `WHERE ts ${op} ?`;
    const stmt = this.#db.prepare(
      `DELETE FROM ${table} WHERE rowid IN ` +
        `(SELECT rowid FROM ${table} ${where} ORDER BY ts, rowid LIMIT ?)`,
    );
    const r = this.#write(() => bound === undefined ? stmt.run(limit) : stmt.run(bound, limit));
    return Number(r.changes);
  }

  /** The table whose oldest row is the older, and the other's oldest ts (if it has rows). */
  #olderTable(): [PrunedTable | undefined, string | undefined] {
    const oldest = (t: PrunedTable) =>
      (this.#db.prepare(`SELECT min(ts) AS ts FROM ${t}`).get() as { ts: string | null }).ts ??
        undefined;
    const a = oldest("alerts");
    const b = oldest("actions");
    if (a === undefined) return b === undefined ? [undefined, undefined] : ["actions", undefined];
    if (b === undefined) return ["alerts", undefined];
    return a <= b ? ["alerts", b] : ["actions", a];
  }

  #count(table: PrunedTable): number {
    return Number(
      (this.#db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
    );
  }

  /** Run one write; a failure is counted and kept for health() until a write succeeds. */
  #write<T>(fn: () => T): T {
    try {
      const r = fn();
      this.#failing = undefined;
      return r;
    } catch (err) {
      this.#writeFailures++;
      const error = errorMessage(err);
      this.#failing = this.#failing
        ? { ...this.#failing, error, count: this.#failing.count + 1 }
        : { since: new Date().toISOString(), error, count: 1 };
      throw err;
    }
  }
}
