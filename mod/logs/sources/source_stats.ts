import {
  type Channel,
  ChannelClosedError,
  type Health,
  type MetricSample,
} from "../../core/mod.ts";
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
  /**
   * Samples of the source's own families (beyond the lines, bytes and truncations every
   * source has), e.g. the UDP socket's kernel drops; the module exports them as they are.
   */
  metrics?(): MetricSample[];
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

/**
 * A source's end of the output channel: the decoder for its bytes, `send` (see `emitLine`),
 * and whether the channel was found closed, after which the source stops reading.
 */
export class LineOutput {
  readonly decoder = new TextDecoder("utf-8", { fatal: false });
  readonly channel: Channel<RawLine>;
  readonly stats: SourceStats;
  /** The channel was closed when a line was handed over: the pipeline is stopping. */
  closed = false;

  /** Lines are counted in `stats`, the source's own counters. */
  constructor(channel: Channel<RawLine>, stats: SourceStats) {
    this.channel = channel;
    this.stats = stats;
  }

  /** Hand one line over, waiting while the channel is full; false once it is closed. */
  async send(raw: RawLine, bytes: number): Promise<boolean> {
    if (await emitLine(this.channel, raw, bytes, this.stats)) return true;
    this.closed = true;
    return false;
  }

  /** "unhealthy" once the channel is closed, else undefined. */
  health(): Health | undefined {
    return this.closed ? { state: "unhealthy", reason: "output channel closed" } : undefined;
  }
}
