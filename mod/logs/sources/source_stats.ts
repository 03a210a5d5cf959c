import type { Health } from "../../core/mod.ts";

/**
 * Counters every source reports, so the orchestrator can export them the same way for all
 * sources; a counter a source has no use for stays 0.
 */
export interface SourceStats {
  /** Lines accepted by the output channel. */
  lines: number;
  /** Bytes of those lines as received (after cutting), terminators excluded. */
  bytes: number;
  /** Lines cut at the byte limit. */
  truncated: number;
  /** Connections refused or closed by the source (limit, idle, framing error). */
  droppedConnections: number;
  /** Times a helper process (journalctl) was restarted. */
  restarts: number;
}

/** What the log pipeline needs from a source; each source class implements it. */
export interface LineSource {
  readonly name: string;
  start(): Promise<void>;
  /** Stop producing; resolves once nothing more will be sent to the output channel. */
  stop(): Promise<void>;
  health(): Health;
  stats(): SourceStats;
}

/** A zeroed `SourceStats`. */
export function emptyStats(): SourceStats {
  return { lines: 0, bytes: 0, truncated: 0, droppedConnections: 0, restarts: 0 };
}
