import type { ActionEvent, AlertEvent, Severity } from "./events.ts";
import type { Health, MetricSample } from "./module.ts";

/** Filters for reading alerts back (`ironpost alerts`). */
export interface AlertQuery {
  /** ISO timestamp: only alerts at or after it. */
  since?: string;
  minSeverity?: Severity;
  limit?: number;
}

/**
 * Where alerts, actions and checkpoints are kept. SQLite implements it today; the fleet
 * store (PostgreSQL, with a local spool) implements the same interface, so callers are
 * async even where SQLite is not.
 */
export interface Store {
  readonly kind: string;
  /** Insert unless an alert with this id exists; true when a row was written. */
  insertAlert(alert: AlertEvent): Promise<boolean>;
  insertAction(action: ActionEvent): Promise<boolean>;
  listAlerts(query?: AlertQuery): Promise<AlertEvent[]>;
  getAlert(id: string): Promise<AlertEvent | undefined>;
  listActions(limit?: number): Promise<ActionEvent[]>;
  /** Opaque per-module state (file offsets, cursors, seen findings) under a namespaced key. */
  getCheckpoint(key: string): Promise<string | undefined>;
  setCheckpoint(key: string, value: string): Promise<void>;
  counts(): Promise<{ alerts: number; actions: number }>;
  close(): Promise<void>;
  /** Degraded while its writes fail (a full disk), healthy again once one succeeds. */
  health?(): Health;
  /** Its own samples (retention, size on disk). */
  metrics?(): MetricSample[];
}

/** The slice of the store a module keeps its own state in. */
export type CheckpointStore = Pick<Store, "getCheckpoint" | "setCheckpoint">;
