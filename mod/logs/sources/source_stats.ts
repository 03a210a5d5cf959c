import { type Channel, ChannelClosedError, type Health } from "../../core/mod.ts";
import type { RawLine } from "./raw_line.ts";

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

/**
 * Hand one line to the pipeline, waiting while the channel is full, and count it. False when
 * the channel is closed (the pipeline is stopping): the caller stops reading.
 */
export async function emitLine(
  out: Channel<RawLine>,
  raw: RawLine,
  bytes: number,
  stats: SourceStats,
): Promise<boolean> {
  try {
    await out.send(raw);
  } catch (err) {
    if (!(err instanceof ChannelClosedError)) throw err;
    return false;
  }
  stats.lines++;
  stats.bytes += bytes;
  if (raw.truncated) stats.truncated++;
  return true;
}
