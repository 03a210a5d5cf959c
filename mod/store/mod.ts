/**
 * Persistence of alerts, actions and module checkpoints.
 * @module
 */
export { type Retention, SqliteStore, type StoreOptions } from "./sqlite.ts";
export { STORE_METRICS } from "./metrics.ts";
export type { AlertQuery, Store } from "./store.ts";
