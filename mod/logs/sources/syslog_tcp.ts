import { type Channel, errorMessage, type Health, IronpostError } from "../../core/mod.ts";
import { LineSplitter } from "./line_splitter.ts";
import { type Frame, OctetCountingDecoder } from "./octet_counting.ts";
import { positiveInt } from "./options.ts";
import type { RawLine } from "./raw_line.ts";
import { settlesWithin } from "./sleeper.ts";
import { emptyStats, LineOutput, type LineSource, type SourceStats } from "./source_stats.ts";

export interface SyslogTcpOptions {
  /** Address to listen on. Default "127.0.0.1" (listening on all interfaces is a choice to make). */
  hostname?: string;
  /** Port; 0 picks a free one (see `addr`). */
  port: number;
  /** Longer messages are cut and flagged `truncated`. Default 65536. */
  maxMessageBytes?: number;
  /** Connections open at once; more are closed as soon as accepted, and counted. Default 256. */
  maxConnections?: number;
  /**
   * Connections open at once from one peer address; more from it are closed as soon as
   * accepted, and counted, so one client cannot hold every slot. Default 16.
   */
  maxConnectionsPerSource?: number;
  /** A connection that sends nothing for this long is closed. Default 300000 (5 min). */
  idleTimeoutMs?: number;
  /** How long `stop()` waits for messages being handed to the channel. Default 5000. */
  stopTimeoutMs?: number;
  /** Module-facing name and `RawLine.source`. Default "syslog-tcp". */
  name?: string;
}

/** Counters of the TCP syslog source. */
export interface SyslogTcpStats extends SourceStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted and served since start. */
  accepted: number;
  /** Connections closed at once because `maxConnections` were open. */
  refused: number;
  /** Connections closed at once because their peer had `maxConnectionsPerSource` open. */
  refusedPerSource: number;
  /** Connections closed for being idle. */
  idleClosed: number;
  /** Connections closed on a malformed octet-counted frame. */
  framingErrors: number;
}

const READ_BYTES = 65536;
/** How long a per-source refusal keeps health degraded. */
const PER_SOURCE_HEALTH_MS = 60_000;

/**
 * Receives syslog over TCP (RFC 6587). Framing is detected per connection from its first
 * byte: a digit means octet counting (`MSG-LEN SP MSG`), anything else LF-terminated lines
 * (a CR before the LF is dropped). A connection is read only while the output channel
 * accepts, so a slow pipeline slows senders through TCP flow control instead of losing
 * messages.
 *
 * @example
 * ```ts ignore
 * import { Channel } from "../../core/mod.ts";
 * import { type RawLine, SyslogTcpSource } from "./mod.ts";
 * const out = new Channel<RawLine>("raw", 1024);
 * const src = new SyslogTcpSource({ hostname: "0.0.0.0", port: 514 }, out);
 * await src.start();
 * ```
 */
export class SyslogTcpSource implements LineSource {
  readonly name: string;
  readonly #hostname: string;
  readonly #port: number;
  readonly #maxMessageBytes: number;
  readonly #maxConnections: number;
  readonly #maxPerSource: number;
  readonly #idleTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #out: LineOutput;
  #listener?: Deno.TcpListener;
  #addr?: { hostname: string; port: number };
  #acceptLoop?: Promise<void>;
  #conns = new Map<Deno.TcpConn, Promise<void>>();
  /** Open connections by peer address. */
  #perSource = new Map<string, number>();
  /** The last peer refused for its per-source limit, and when (for health). */
  #lastPerSourceRefusal?: { peer: string; at: number };
  #stopping = false;
  #lastError?: string;
  #stats = {
    ...emptyStats(),
    accepted: 0,
    refused: 0,
    refusedPerSource: 0,
    idleClosed: 0,
    framingErrors: 0,
  };

  constructor(opts: SyslogTcpOptions, out: Channel<RawLine>) {
    this.name = opts.name ?? "syslog-tcp";
    this.#hostname = opts.hostname ?? "127.0.0.1";
    this.#port = positiveInt("port", opts.port, 0);
    this.#maxMessageBytes = positiveInt("maxMessageBytes", opts.maxMessageBytes ?? 65536);
    this.#maxConnections = positiveInt("maxConnections", opts.maxConnections ?? 256);
    this.#maxPerSource = positiveInt("maxConnectionsPerSource", opts.maxConnectionsPerSource ?? 16);
    this.#idleTimeoutMs = positiveInt("idleTimeoutMs", opts.idleTimeoutMs ?? 300_000);
    this.#stopTimeoutMs = positiveInt("stopTimeoutMs", opts.stopTimeoutMs ?? 5000);
    this.#out = new LineOutput(out, this.#stats);
  }

  /** The bound address (the real port when `port` was 0); undefined before `start()`. */
  get addr(): { hostname: string; port: number } | undefined {
    return this.#addr;
  }

  /** Listen; throws `E_SYSLOG_BIND` when the port cannot be bound. */
  start(): Promise<void> {
    if (this.#listener) return Promise.resolve();
    this.#stopping = false;
    this.#out.closed = false;
    try {
      this.#listener = Deno.listen({
        hostname: this.#hostname,
        port: this.#port,
        transport: "tcp",
      });
    } catch (err) {
      throw new IronpostError(
        "E_SYSLOG_BIND",
        `Cannot listen for TCP syslog on ${this.#hostname}:${this.#port}: ${errorMessage(err)}`,
        { hostname: this.#hostname, port: this.#port },
        { cause: err },
      );
    }
    const a = this.#listener.addr;
    this.#addr = { hostname: a.hostname, port: a.port };
    this.#acceptLoop = this.#accept(this.#listener);
    return Promise.resolve();
  }

  /** Close the listener and every connection; wait for messages already being handed over. */
  async stop(): Promise<void> {
    const listener = this.#listener;
    if (!listener) return;
    this.#stopping = true;
    closeQuietly(listener);
    for (const conn of this.#conns.keys()) closeQuietly(conn);
    const all = Promise.all([this.#acceptLoop, ...this.#conns.values()]);
    if (!(await settlesWithin(all, this.#stopTimeoutMs))) {
      this.#lastError = "a message was still waiting for the output channel at stop";
    }
    this.#listener = undefined;
  }

  health(): Health {
    if (!this.#listener) return { state: "unhealthy", reason: "not running" };
    const closed = this.#out.health();
    if (closed) return closed;
    if (this.#lastError) return { state: "degraded", reason: this.#lastError };
    if (this.#conns.size >= this.#maxConnections) {
      return { state: "degraded", reason: `at the limit of ${this.#maxConnections} connections` };
    }
    const r = this.#lastPerSourceRefusal;
    if (r && Date.now() - r.at < PER_SOURCE_HEALTH_MS) {
      return {
        state: "degraded",
        reason: `connections from ${r.peer} refused at its limit of ${this.#maxPerSource}`,
      };
    }
    return { state: "healthy" };
  }

  stats(): SyslogTcpStats {
    return { ...this.#stats, connections: this.#conns.size };
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    while (!this.#stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.#stopping || err instanceof Deno.errors.BadResource) return;
        // EMFILE and the like: note it and keep accepting after a pause.
        this.#lastError = `accept: ${errorMessage(err)}`;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (this.#stopping) {
        closeQuietly(conn);
        return;
      }
      if (this.#conns.size >= this.#maxConnections) {
        this.#stats.refused++;
        this.#stats.droppedConnections++;
        closeQuietly(conn);
        continue;
      }
      const peer = conn.remoteAddr.hostname;
      const fromPeer = this.#perSource.get(peer) ?? 0;
      if (fromPeer >= this.#maxPerSource) {
        this.#stats.refusedPerSource++;
        this.#stats.droppedConnections++;
        this.#lastPerSourceRefusal = { peer, at: Date.now() };
        closeQuietly(conn);
        continue;
      }
      this.#perSource.set(peer, fromPeer + 1);
      this.#stats.accepted++;
      const served = this.#serve(conn).finally(() => {
        this.#conns.delete(conn);
        const left = (this.#perSource.get(peer) ?? 1) - 1;
        if (left > 0) this.#perSource.set(peer, left);
        else this.#perSource.delete(peer);
      });
      this.#conns.set(conn, served);
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const peer = conn.remoteAddr.hostname;
    const buf = new Uint8Array(READ_BYTES);
    let lines: LineSplitter | undefined;
    let octets: OctetCountingDecoder | undefined;
    try {
      while (!this.#stopping && !this.#out.closed) {
        const n = await this.#read(conn, buf);
        if (n === null) break;
        const chunk = buf.subarray(0, n);
        if (!lines && !octets) {
          const c = chunk[0];
          if (c >= 0x31 && c <= 0x39) octets = new OctetCountingDecoder(this.#maxMessageBytes);
          else lines = new LineSplitter(this.#maxMessageBytes, { stripCr: true });
        }
        if (octets) {
          const { frames, error } = octets.push(chunk);
          if (!(await this.#emitAll(frames, peer))) return;
          if (error) {
            this.#stats.framingErrors++;
            this.#stats.droppedConnections++;
            this.#lastError = `framing error from ${peer}: ${error}`;
            return;
          }
        } else if (!(await this.#emitAll(lines!.push(chunk), peer))) return;
      }
      // A sender may close right after its last line without a final LF.
      const rest = this.#stopping ? undefined : lines?.flush();
      if (rest) await this.#emitAll([rest], peer);
    } catch (err) {
      if (!this.#stopping) this.#lastError = `connection from ${peer}: ${errorMessage(err)}`;
    } finally {
      closeQuietly(conn);
    }
  }

  /** Read, closing the connection if nothing arrives within the idle timeout. */
  async #read(conn: Deno.TcpConn, buf: Uint8Array): Promise<number | null> {
    let idle = false;
    const timer = setTimeout(() => {
      idle = true;
      closeQuietly(conn);
    }, this.#idleTimeoutMs);
    try {
      return await conn.read(buf);
    } catch (err) {
      if (idle || this.#stopping) return null;
      throw err;
    } finally {
      clearTimeout(timer);
      if (idle) {
        this.#stats.idleClosed++;
        this.#stats.droppedConnections++;
      }
    }
  }

  async #emitAll(frames: Frame[], peer: string): Promise<boolean> {
    for (const f of frames) {
      // Even while stopping: these bytes were read off the socket and exist nowhere else.
      if (f.bytes.length === 0) continue;
      const raw: RawLine = {
        source: this.name,
        line: this.#out.decoder.decode(f.bytes),
        receivedAt: Date.now(),
        peer,
        format: "syslog",
      };
      if (f.truncated) raw.truncated = true;
      if (!(await this.#out.send(raw, f.bytes.length))) return false;
    }
    return true;
  }
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}
