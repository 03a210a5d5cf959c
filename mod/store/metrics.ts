import { counter, gauge } from "../core/mod.ts";

/** The embedded store's metric families. */
export const STORE_METRICS = {
  pruned: counter(
    "ironpost_store_pruned_total",
    "Rows deleted by retention (storage.retention_days, storage.max_db_mb)",
    ["table"],
  ),
  bytes: gauge(
    "ironpost_store_bytes",
    "Bytes of the SQLite store on disk (database and WAL files)",
  ),
  usedBytes: gauge(
    "ironpost_store_used_bytes",
    "Bytes of the store's pages that hold data (what storage.max_db_mb bounds)",
  ),
  writeFailures: counter(
    "ironpost_store_write_failures_total",
    "Store writes (alerts, actions, checkpoints) that failed, e.g. on a full disk",
  ),
} as const;
