/**
 * The vulnerability index's SQLite layout. An index is built once into a fresh file and then
 * only read, so it carries no migrations: a newer `VULNDB_SCHEMA` means rebuild.
 */

/** Bumped whenever the layout or the meaning of a column changes. */
export const VULNDB_SCHEMA = 1;

export const VULNDB_DDL = `
CREATE TABLE records (
  id TEXT PRIMARY KEY,
  modified TEXT NOT NULL,
  withdrawn TEXT,
  -- Ecosystem the record came from (its directory or all.zip), for per-ecosystem counts.
  home TEXT NOT NULL,
  -- Precomputed by severityOf(): label, Base score and deciding vector.
  severity TEXT NOT NULL,
  score REAL,
  vector TEXT,
  -- The record as parseOsvRecord() returned it, JSON, raw-deflated.
  json BLOB NOT NULL
);
-- One row per affected[] package: (ecosystem without release, normalised name) -> record.
CREATE TABLE packages (
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  record_id TEXT NOT NULL,
  release TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, record_id, release)
) WITHOUT ROWID;
CREATE TABLE aliases (
  alias TEXT NOT NULL,
  record_id TEXT NOT NULL,
  PRIMARY KEY (alias, record_id)
) WITHOUT ROWID;
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
