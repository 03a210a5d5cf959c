/**
 * Persistence of alerts, actions and module checkpoints.
 * @module
 */
export { SqliteStore } from "./sqlite.ts";
export type { AlertQuery, Store } from "./store.ts";
