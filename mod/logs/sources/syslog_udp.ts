import {
  type Channel,
  errorMessage,
  type Health,
  IronpostError,
  type MetricSample,
  sample,
} from "../../core/mod.ts";
import { SYSLOG_UDP_KERNEL_DROPS } from "../metrics.ts";
import type { DatagramReceiver } from "./datagram_receiver.ts";
import { DgramReceiver } from "./dgram_receiver.ts";
import { cutAtCharBoundary } from "./line_splitter.ts";
import { MmsgReceiver } from "./mmsg_receiver.ts";
import { positiveInt } from "./options.ts";
import type { RawLine } from "./raw_line.ts";
import { settlesWithin } from "./sleeper.ts";
import { emptyStats, LineOutput, type LineSource, type SourceStats } from "./source_stats.ts";

export interface SyslogUdpOptions {
  /** Address to bind. Default "127.0.0.1" (listening on all interfaces is a choice to make). */
  hostname?: string;
  /** Port to bind; 0 picks a free one (see `addr`). */
  port: number;
  /** Kernel receive buffer to ask for (SO_RCVBUF, see socket_buffer.ts). Default 4 MiB. */
  recvBufferBytes?: number;
  /** Longer messages are cut and flagged `truncated`. Default 65536. */
  maxMessageBytes?: number;
  /**
   * Bytes of received messages held while the output channel is full. UDP cannot make a
   * sender wait, so beyond this messages are dropped and counted. Default `recvBufferBytes`.
   */
  maxPendingBytes?: number;
  /** How long `stop()` waits to hand over messages already received. Default 5000. */
  stopTimeoutMs?: number;
  /** Module-facing name and `RawLine.source`. Default "syslog-udp". */
  name?: string;
  /**
   * How to read the socket: "auto" (default) uses recvmmsg through FFI and falls back to
   * node:dgram when FFI is not allowed or `hostname` is not an IP address.
   */
  receiver?: "auto" | "recvmmsg" | "node:dgram";
  /** Datagrams read per recvmmsg call. Default 256. */
  batch?: number;
  /**
   * Health is degraded while the kernel dropped more than this percentage of the datagrams
   * that reached the socket within `dropWindowMs` (drops / (drops + datagrams read)). 0: any
   * drop. Default 1.
   */
  dropThresholdPercent?: number;
  /** The window of `dropThresholdPercent`. Default 60000. */
  dropWindowMs?: number;
}

/** Counters of the UDP syslog source. */
export interface SyslogUdpStats extends SourceStats {
  /** Messages dropped because `maxPendingBytes` were already waiting for the channel. */
  dropped: number;
  /** Datagrams the kernel dropped (receive buffer full), by SO_MEMINFO; 0 without FFI. */
  kernelDrops: number;
  /** Datagrams read off the socket (empty ones and those dropped from the queue included). */
  datagrams: number;
  /** Receive buffer as set (the kernel accounts twice this). */
  recvBufferBytes: number;
  /** How the socket is read: "recvmmsg", "node:dgram", or "" before `start()`. */
  receiver: string;
}

/** A message received and decoded, waiting for room in the output channel. */
interface Pending {
  raw: RawLine;
  /** Its size as received (after cutting), for the pending bound and the byte counter. */
  size: number;
}

/** Bytes kept of a datagram beyond `maxMessageBytes`, so trailing CR, LF or NUL can go. */
const TERMINATOR_ROOM = 4;

/**
 * Receives syslog over UDP (RFC 5426): one datagram is one message, a trailing newline is
 * stripped, `peer` is the sender's IP.
 *
 * The socket is read with recvmmsg(2) through FFI (mmsg_receiver.ts): a batch of datagrams
 * per call on a thread of Deno's blocking pool, which keeps up with 100k messages/s where
 * node:dgram's one event per datagram stops near 30k/s. Without `--allow-ffi` it falls back
 * to node:dgram (`Deno.listenDatagram` is still behind `--unstable-net` in Deno 2.x) with the
 * kernel's default receive buffer, and reports degraded. Messages are decoded as they
 * arrive and wait in a bounded in-process queue while the output channel is full, and are
 * handed over in arrival order.
 *
 * @example
 * ```ts ignore
 * import { Channel } from "../../core/mod.ts";
 * import { type RawLine, SyslogUdpSource } from "./mod.ts";
 * const out = new Channel<RawLine>("raw", 1024);
 * const src = new SyslogUdpSource({ hostname: "0.0.0.0", port: 514 }, out);
 * await src.start();
 * ```
 */
export class SyslogUdpSource implements LineSource {
  readonly name: string;
  readonly #hostname: string;
  readonly #port: number;
  readonly #recvBufferBytes: number;
  readonly #maxMessageBytes: number;
  readonly #maxPendingBytes: number;
  readonly #stopTimeoutMs: number;
  readonly #receiverKind: "auto" | "recvmmsg" | "node:dgram";
  readonly #batch: number;
  readonly #out: LineOutput;
  #rx?: DatagramReceiver;
  #addr?: { hostname: string; port: number };
  /** Why recvmmsg is not used, when the fallback runs. */
  #fallbackReason?: string;
  #queue: Pending[] = [];
  #head = 0;
  #pendingBytes = 0;
  #pump?: Promise<void>;
  /** A `#drain` is running. */
  #pumping = false;
  #stopping = false;
  #lastError?: string;
  #stats = { ...emptyStats(), dropped: 0, datagrams: 0 };
  readonly #dropThreshold: number;
  readonly #dropWindowMs: number;
  /** Counter snapshots for the drop rate, oldest first; the first is the window's base. */
  #dropSnapshots: { at: number; drops: number; datagrams: number }[] = [];

  constructor(opts: SyslogUdpOptions, out: Channel<RawLine>) {
    this.name = opts.name ?? "syslog-udp";
    this.#hostname = opts.hostname ?? "127.0.0.1";
    this.#port = positiveInt("port", opts.port, 0);
    this.#recvBufferBytes = positiveInt("recvBufferBytes", opts.recvBufferBytes ?? 4 * 1024 * 1024);
    this.#maxMessageBytes = positiveInt("maxMessageBytes", opts.maxMessageBytes ?? 65536);
    this.#maxPendingBytes = positiveInt(
      "maxPendingBytes",
      opts.maxPendingBytes ?? this.#recvBufferBytes,
    );
    this.#stopTimeoutMs = positiveInt("stopTimeoutMs", opts.stopTimeoutMs ?? 5000);
    this.#receiverKind = opts.receiver ?? "auto";
    this.#batch = positiveInt("batch", opts.batch ?? 256);
    this.#dropThreshold = opts.dropThresholdPercent ?? 1;
    if (!(this.#dropThreshold >= 0 && this.#dropThreshold <= 100)) {
      throw new IronpostError(
        "E_SOURCE_OPTION",
        `dropThresholdPercent must be within 0..100, got ${opts.dropThresholdPercent}`,
        { option: "dropThresholdPercent", value: opts.dropThresholdPercent },
      );
    }
    this.#dropWindowMs = positiveInt("dropWindowMs", opts.dropWindowMs ?? 60_000);
    if (this.#batch > 1024) {
      throw new IronpostError("E_SOURCE_OPTION", `batch must be at most 1024, got ${this.#batch}`, {
        option: "batch",
        value: this.#batch,
      });
    }
    this.#out = new LineOutput(out, this.#stats);
  }

  /** The bound address (the real port when `port` was 0); undefined before `start()`. */
  get addr(): { hostname: string; port: number } | undefined {
    return this.#addr;
  }

  /** Bind and raise the receive buffer; throws `E_SYSLOG_BIND` when the port cannot be bound. */
  async start(): Promise<void> {
    if (this.#rx) return;
    this.#stopping = false;
    this.#out.closed = false;
    this.#fallbackReason = undefined;
    const opts = {
      hostname: this.#hostname,
      port: this.#port,
      recvBufferBytes: this.#recvBufferBytes,
    };
    const onDatagram = (data: Uint8Array, peer: string, longer: boolean) =>
      this.#receive(data, peer, longer);
    let rx: DatagramReceiver | undefined;
    try {
      if (this.#receiverKind !== "node:dgram") {
        try {
          rx = await MmsgReceiver.open({
            ...opts,
            batch: this.#batch,
            slotBytes: Math.min(this.#maxMessageBytes + TERMINATOR_ROOM, 65527),
          }, onDatagram);
        } catch (err) {
          const code = err instanceof IronpostError ? err.code : "";
          if (this.#receiverKind === "recvmmsg" || !FALLBACK_CODES.has(code)) throw err;
          this.#fallbackReason = errorMessage(err);
        }
      }
      rx ??= await DgramReceiver.open(opts, onDatagram);
    } catch (err) {
      throw new IronpostError(
        "E_SYSLOG_BIND",
        `Cannot bind UDP syslog to ${this.#hostname}:${this.#port}: ${errorMessage(err)}`,
        { hostname: this.#hostname, port: this.#port },
        { cause: err },
      );
    }
    this.#addr = rx.addr;
    this.#rx = rx;
    this.#dropSnapshots = [{ at: Date.now(), drops: rx.drops() ?? 0, datagrams: 0 }];
  }

  /** Close the socket, then hand over what was already received. */
  async stop(): Promise<void> {
    const rx = this.#rx;
    if (!rx) return;
    await rx.close();
    this.#rx = undefined;
    if (this.#pump && !(await settlesWithin(this.#pump, this.#stopTimeoutMs))) {
      this.#lastError = `${this.#queue.length - this.#head} message(s) not handed over at stop`;
    }
    // Anything still queued is dropped, and counted, rather than sent after stop returns.
    this.#stopping = true;
    this.#clearQueue();
  }

  health(): Health {
    const rx = this.#rx;
    if (!rx) return { state: "unhealthy", reason: "not running" };
    const closed = this.#out.health();
    if (closed) return closed;
    const problem = this.#lastError ?? rx.problem;
    if (problem) return { state: "degraded", reason: problem };
    const loss = this.#kernelDropRate(rx);
    if (loss !== undefined && loss.percent > this.#dropThreshold) {
      return {
        state: "degraded",
        reason: `the kernel dropped ${loss.drops} of ${loss.drops + loss.datagrams} datagrams ` +
          `(${loss.percent.toFixed(1)}%, threshold ${this.#dropThreshold}%) in the last ` +
          `${Math.round(loss.ms / 1000)} s: raise syslog_udp_recv_buffer_bytes ` +
          `(now ${rx.buffer.bytes} bytes) or net.core.rmem_max`,
      };
    }
    if (rx.buffer.problem) {
      return {
        state: "degraded",
        reason: `receive buffer ${rx.buffer.bytes} bytes, asked ${this.#recvBufferBytes}: ` +
          rx.buffer.problem,
      };
    }
    return { state: "healthy" };
  }

  stats(): SyslogUdpStats {
    const rx = this.#rx;
    return {
      ...this.#stats,
      kernelDrops: rx?.drops() ?? 0,
      recvBufferBytes: rx?.buffer.bytes ?? 0,
      receiver: rx?.kind ?? "",
    };
  }

  /** The kernel-drop counter as samples of the log pipeline's families. */
  metrics(): MetricSample[] {
    return [sample(SYSLOG_UDP_KERNEL_DROPS, this.stats().kernelDrops, { source: this.name })];
  }

  /**
   * Kernel drops against datagrams read since the window's base: the newest snapshot at
   * least `dropWindowMs` old (or the oldest there is). Undefined when nothing arrived.
   */
  #kernelDropRate(
    rx: DatagramReceiver,
  ): { drops: number; datagrams: number; percent: number; ms: number } | undefined {
    const now = Date.now();
    const cur = { at: now, drops: rx.drops() ?? 0, datagrams: this.#stats.datagrams };
    const snaps = this.#dropSnapshots;
    snaps.push(cur);
    while (snaps.length > 2 && snaps[1].at <= now - this.#dropWindowMs) snaps.shift();
    // Bounded however often health is asked: at most one snapshot per second is kept.
    if (snaps.length > 2 && cur.at - snaps[snaps.length - 2].at < 1000) snaps.splice(-2, 1);
    const base = snaps[0];
    const drops = Math.max(0, cur.drops - base.drops);
    const datagrams = cur.datagrams - base.datagrams;
    if (drops + datagrams === 0) return undefined;
    return { drops, datagrams, percent: (100 * drops) / (drops + datagrams), ms: now - base.at };
  }

  /** Why node:dgram reads the socket instead of recvmmsg, when it does. */
  get fallbackReason(): string | undefined {
    return this.#fallbackReason;
  }

  #receive(data: Uint8Array, peer: string, longer: boolean): void {
    this.#stats.datagrams++;
    if (this.#stopping || this.#out.closed) return;
    let end = data.length;
    // A trailing LF (or CRLF, or NUL some senders add) is framing, not message. When the
    // datagram did not fit, its end was not received and is not framing.
    if (!longer) {
      while (end > 0 && (data[end - 1] === 10 || data[end - 1] === 13 || data[end - 1] === 0)) {
        end--;
      }
    }
    if (end === 0) return;
    const truncated = longer || end > this.#maxMessageBytes;
    const bytes = truncated
      ? cutAtCharBoundary(data.subarray(0, Math.min(end, this.#maxMessageBytes)))
      : data.subarray(0, end);
    if (this.#pendingBytes + bytes.length > this.#maxPendingBytes) {
      this.#stats.dropped++;
      return;
    }
    // Decode now: the receiver reuses `data`, and the string is the message's only copy.
    const raw: RawLine = {
      source: this.name,
      line: this.#out.decoder.decode(bytes),
      receivedAt: Date.now(),
      peer,
      format: "syslog",
    };
    if (truncated) raw.truncated = true;
    this.#queue.push({ raw, size: bytes.length });
    this.#pendingBytes += bytes.length;
    if (!this.#pumping) this.#pump = this.#drain();
  }

  /**
   * Hand queued messages to the channel one at a time, keeping their arrival order. The flag
   * is cleared in the same turn the queue is found empty (no await in between), so a message
   * arriving right then starts a new drain instead of waiting for the next message.
   */
  async #drain(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#head < this.#queue.length && !this.#stopping) {
        const m = this.#queue[this.#head];
        if (!(await this.#out.send(m.raw, m.size))) {
          this.#clearQueue();
          return;
        }
        this.#head++;
        // Compact once the handed-over prefix dominates, so the array does not grow forever
        // and a long queue is not copied again for every few messages.
        if (this.#head === this.#queue.length) {
          this.#queue = [];
          this.#head = 0;
        } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        this.#pendingBytes -= m.size;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Drop (and count) whatever is still queued. */
  #clearQueue(): void {
    this.#stats.dropped += this.#queue.length - this.#head;
    this.#queue = [];
    this.#head = 0;
    this.#pendingBytes = 0;
  }
}

/** MmsgReceiver errors after which node:dgram is tried: no FFI, or a hostname to resolve. */
const FALLBACK_CODES = new Set(["E_FFI", "E_SOCKET_ADDRESS"]);
