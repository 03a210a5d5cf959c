import dgram from "node:dgram";
import { type Channel, errorMessage, type Health, IronpostError } from "../../core/mod.ts";
import { cutAtCharBoundary } from "./line_splitter.ts";
import { positiveInt } from "./options.ts";
import type { RawLine } from "./raw_line.ts";
import { settlesWithin } from "./sleeper.ts";
import { type ReceiveBuffer, UdpSocketControl } from "./socket_buffer.ts";
import { emitLine, emptyStats, type LineSource, type SourceStats } from "./source_stats.ts";

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
}

/** Counters of the UDP syslog source. */
export interface SyslogUdpStats extends SourceStats {
  /** Messages dropped because `maxPendingBytes` were already waiting for the channel. */
  dropped: number;
  /** Datagrams the kernel dropped (receive buffer full), by SO_MEMINFO; 0 without FFI. */
  kernelDrops: number;
  /** Receive buffer as set (the kernel accounts twice this). */
  recvBufferBytes: number;
}

interface Pending {
  bytes: Uint8Array;
  truncated: boolean;
  peer: string;
  receivedAt: number;
}

/**
 * Receives syslog over UDP (RFC 5426): one datagram is one message, a trailing newline is
 * stripped, `peer` is the sender's IP.
 *
 * It uses node:dgram, not `Deno.listenDatagram`, which is still behind `--unstable-net` in
 * Deno 2.x. The receive buffer is raised with setsockopt through FFI (socket_buffer.ts);
 * without `--allow-ffi` the source runs with the kernel default and reports degraded.
 * node:dgram reads as fast as datagrams come, so messages wait in a bounded in-process queue
 * while the output channel is full, and are handed over in arrival order.
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
  readonly #out: Channel<RawLine>;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  #socket?: dgram.Socket;
  #addr?: { hostname: string; port: number };
  #buffer?: ReceiveBuffer;
  /** The socket's descriptor through FFI, for its buffer and drop counter; absent without FFI. */
  #control?: UdpSocketControl;
  #queue: Pending[] = [];
  #head = 0;
  #pendingBytes = 0;
  #pump?: Promise<void>;
  /** A `#drain` is running. */
  #pumping = false;
  #outClosed = false;
  #stopping = false;
  #lastError?: string;
  #stats = { ...emptyStats(), dropped: 0 };

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
    this.#out = out;
  }

  /** The bound address (the real port when `port` was 0); undefined before `start()`. */
  get addr(): { hostname: string; port: number } | undefined {
    return this.#addr;
  }

  /** Bind and raise the receive buffer; throws `E_SYSLOG_BIND` when the port cannot be bound. */
  async start(): Promise<void> {
    if (this.#socket) return;
    this.#stopping = false;
    this.#outClosed = false;
    const socket = dgram.createSocket({ type: this.#hostname.includes(":") ? "udp6" : "udp4" });
    // Listen before binding: node:dgram starts reading at bind, and drops unheard messages.
    socket.on("message", (msg, rinfo) => this.#receive(msg, rinfo.address));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(this.#port, this.#hostname, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw new IronpostError(
        "E_SYSLOG_BIND",
        `Cannot bind UDP syslog to ${this.#hostname}:${this.#port}: ${String(err)}`,
        { hostname: this.#hostname, port: this.#port },
        { cause: err },
      );
    }
    const a = socket.address();
    this.#addr = { hostname: a.address, port: a.port };
    try {
      this.#control = UdpSocketControl.find(a);
      this.#buffer = this.#control.raiseReceiveBuffer(this.#recvBufferBytes);
    } catch (err) {
      this.#buffer = { bytes: 0, via: "none", problem: errorMessage(err) };
    }
    socket.on("error", (err) => this.#lastError = String(err));
    this.#socket = socket;
  }

  /** Close the socket, then hand over what was already received. */
  async stop(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    // The descriptor number is only ours while the socket is open.
    this.#control?.close();
    this.#control = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.#socket = undefined;
    if (this.#pump && !(await settlesWithin(this.#pump, this.#stopTimeoutMs))) {
      this.#lastError = `${this.#queue.length - this.#head} message(s) not handed over at stop`;
    }
    // Anything still queued is dropped, and counted, rather than sent after stop returns.
    this.#stopping = true;
    this.#clearQueue();
  }

  health(): Health {
    if (!this.#socket) return { state: "unhealthy", reason: "not running" };
    if (this.#outClosed) return { state: "unhealthy", reason: "output channel closed" };
    if (this.#lastError) return { state: "degraded", reason: this.#lastError };
    if (this.#buffer?.problem) {
      return {
        state: "degraded",
        reason: `receive buffer ${this.#buffer.bytes} bytes, asked ${this.#recvBufferBytes}: ` +
          this.#buffer.problem,
      };
    }
    return { state: "healthy" };
  }

  stats(): SyslogUdpStats {
    const kernelDrops = this.#control?.drops() ?? 0;
    return { ...this.#stats, kernelDrops, recvBufferBytes: this.#buffer?.bytes ?? 0 };
  }

  #receive(msg: Uint8Array, peer: string): void {
    if (this.#stopping || this.#outClosed) return;
    let end = msg.length;
    // A trailing LF (or CRLF, or NUL some senders add) is framing, not message.
    while (end > 0 && (msg[end - 1] === 10 || msg[end - 1] === 13 || msg[end - 1] === 0)) end--;
    if (end === 0) return;
    const truncated = end > this.#maxMessageBytes;
    // Copy (a Buffer's slice() would not): the datagram's buffer is sized for the largest
    // datagram, and a queued view would keep all of it alive.
    const bytes = new Uint8Array(
      truncated ? cutAtCharBoundary(msg.subarray(0, this.#maxMessageBytes)) : msg.subarray(0, end),
    );
    if (this.#pendingBytes + bytes.length > this.#maxPendingBytes) {
      this.#stats.dropped++;
      return;
    }
    this.#queue.push({ bytes, truncated, peer, receivedAt: Date.now() });
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
        const raw: RawLine = {
          source: this.name,
          line: this.#decoder.decode(m.bytes),
          receivedAt: m.receivedAt,
          peer: m.peer,
          format: "syslog",
        };
        if (m.truncated) raw.truncated = true;
        if (!(await emitLine(this.#out, raw, m.bytes.length, this.#stats))) {
          this.#outClosed = true;
          this.#clearQueue();
          return;
        }
        this.#head++;
        // Compact every 1024 messages handed over, so the array does not grow forever.
        if (this.#head === this.#queue.length || this.#head > 1024) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        this.#pendingBytes -= m.bytes.length;
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
