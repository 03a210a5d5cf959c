import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { type ActionEvent, type AlertEvent, IronpostError, SEVERITIES } from "../core/mod.ts";
import type { AlertQuery, Store } from "./store.ts";

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
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly path: string;
  #db: DatabaseSync;
  #insertAlert: StatementSync;
  #insertAction: StatementSync;
  #getCheckpoint: StatementSync;
  #setCheckpoint: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
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
  static async open(path: string): Promise<SqliteStore> {
    try {
      await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it never exists with a looser mode, even briefly.
      const f = await Deno.open(path, { create: true, write: true, mode: 0o600 });
      f.close();
      const st = await Deno.stat(path);
      if (((st.mode ?? 0) & 0o077) !== 0) await Deno.chmod(path, 0o600);
      const db = new DatabaseSync(path);
      db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
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
      return new SqliteStore(path, db);
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
    const r = this.#insertAlert.run(
      a.id,
      a.ts,
      a.ruleId,
      SEVERITIES.indexOf(a.severity),
      a.source,
      JSON.stringify(a),
    );
    return Promise.resolve(Number(r.changes) > 0);
  }

  insertAction(a: ActionEvent): Promise<boolean> {
    const r = this.#insertAction.run(
      a.id,
      a.ts,
      a.action,
      a.target,
      a.outcome,
      a.alertId ?? null,
      JSON.stringify(a),
    );
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
    this.#setCheckpoint.run(key, value, new Date().toISOString());
    return Promise.resolve();
  }

  counts(): Promise<{ alerts: number; actions: number }> {
    const a = this.#db.prepare("SELECT count(*) AS n FROM alerts").get() as { n: number };
    const b = this.#db.prepare("SELECT count(*) AS n FROM actions").get() as { n: number };
    return Promise.resolve({ alerts: Number(a.n), actions: Number(b.n) });
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
