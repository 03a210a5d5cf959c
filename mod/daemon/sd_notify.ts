/**
 * sd_notify(3) for `Type=notify`: READY, STATUS, RELOADING, STOPPING and WATCHDOG datagrams
 * to the unix socket systemd names in `NOTIFY_SOCKET`.
 *
 * Sent with Deno's own datagram API (`Deno.listenDatagram` with `transport: "unixpacket"`,
 * which is SOCK_DGRAM on a unix socket and needs `--unstable-net`), so the agent needs no
 * `--allow-ffi` for it. That API binds a path before it can send, so the notifier binds
 * `<control_socket>.notify` (in the directory the agent already owns) and unlinks it at once;
 * the socket stays usable. It cannot address abstract sockets (`NOTIFY_SOCKET=@name`): those
 * are reported once and notifications are off. systemd's own managers use paths
 * (`/run/systemd/notify`, `$XDG_RUNTIME_DIR/systemd/notify`).
 *
 * Permissions: the flags `derivePermissions` returns always allow `/run/systemd/notify` (the
 * system manager's socket, so a compiled binary whose flags were fixed at build time works
 * under the shipped unit) and the `NOTIFY_SOCKET` set when they are derived (`deno task start`
 * or `ironpost start` under a user manager).
 * @module
 */
import { errorMessage } from "../core/mod.ts";
import { log } from "./logging.ts";

/** The system manager's notify socket: granted in every set of derived flags. */
export const SYSTEM_NOTIFY_SOCKET = "/run/systemd/notify";

/** Where the notifier binds its own end, beside the control socket. */
export function notifyBindPath(controlSocket: string): string {
  return `${controlSocket}.notify`;
}

/** `NOTIFY_SOCKET` when it is readable and set (undefined without --allow-env for it). */
export function notifySocketFromEnv(): string | undefined {
  try {
    return Deno.env.get("NOTIFY_SOCKET") || undefined;
  } catch {
    return undefined;
  }
}

interface DatagramAddr {
  transport: "unixpacket";
  path: string;
}
interface DatagramConn {
  send(p: Uint8Array, addr: DatagramAddr): Promise<number>;
  close(): void;
}
type ListenDatagram = (opts: DatagramAddr) => DatagramConn;

/** Microseconds of CLOCK_MONOTONIC now, when it can be told (see `monotonicClock`). */
export type MonotonicUsec = () => bigint | undefined;

/**
 * CLOCK_MONOTONIC in microseconds without FFI, as an upper bound within a second: Deno reads
 * /proc only with --allow-all, so the base is `Deno.osUptime()` (sysinfo(2)'s whole seconds of
 * CLOCK_BOOTTIME, which the kernel rounds up; CLOCK_BOOTTIME equals CLOCK_MONOTONIC unless the
 * host was suspended and is never behind it), advanced by `performance.now()`. Never earlier
 * than the true value, so systemd never takes the message for a stale one. Needs
 * --allow-sys=osUptime (in the derived flags); without it MONOTONIC_USEC is left out.
 */
export function monotonicClock(): MonotonicUsec {
  let base: number | undefined;
  try {
    base = Deno.osUptime() * 1e6 - performance.now() * 1e3;
  } catch {
    // no --allow-sys=osUptime
  }
  return () => base === undefined ? undefined : BigInt(Math.round(base + performance.now() * 1e3));
}

export interface NotifierOptions {
  /** The socket to notify (NOTIFY_SOCKET). */
  socket: string;
  /** Path this end binds (unlinked right after binding). */
  bindPath: string;
  /** WATCHDOG_USEC, when systemd expects keep-alives. */
  watchdogUsec?: number;
  monotonic?: MonotonicUsec;
}

/** A connected notifier; every method is best effort and never throws. */
export class SdNotifier {
  readonly socket: string;
  readonly watchdogUsec: number | undefined;
  #conn: DatagramConn | undefined;
  #monotonic: MonotonicUsec;
  #timer: ReturnType<typeof setInterval> | undefined;
  #warned = false;
  #lastStatus = "";

  private constructor(opts: NotifierOptions, conn: DatagramConn) {
    this.socket = opts.socket;
    this.watchdogUsec = opts.watchdogUsec;
    this.#conn = conn;
    this.#monotonic = opts.monotonic ?? monotonicClock();
  }

  /**
   * The notifier the environment asks for: undefined when `NOTIFY_SOCKET` is unset, and
   * (with one warning saying why) when it cannot be used.
   */
  static fromEnv(bindPath: string): SdNotifier | undefined {
    const socket = notifySocketFromEnv();
    if (!socket) return undefined;
    const logger = log("daemon");
    if (socket.startsWith("@")) {
      logger.warn(
        "NOTIFY_SOCKET {socket} is an abstract socket, which Deno's datagram API cannot " +
          "address; systemd notifications are off",
        { socket },
      );
      return undefined;
    }
    let watchdogUsec: number | undefined;
    try {
      const usec = Number(Deno.env.get("WATCHDOG_USEC") ?? "");
      const pid = Deno.env.get("WATCHDOG_PID");
      if (usec > 0 && (!pid || Number(pid) === Deno.pid)) watchdogUsec = usec;
    } catch {
      // no --allow-env for them: no watchdog
    }
    try {
      return SdNotifier.open({ socket, bindPath, watchdogUsec });
    } catch (e) {
      logger.warn("systemd notifications are off: {error}", { error: errorMessage(e) });
      return undefined;
    }
  }

  /** Bind `bindPath`, unlink it, and return a notifier sending to `socket`. */
  static open(opts: NotifierOptions): SdNotifier {
    const listen = (Deno as unknown as { listenDatagram?: ListenDatagram }).listenDatagram;
    if (typeof listen !== "function") {
      throw new Error("Deno.listenDatagram is unavailable (run with --unstable-net)");
    }
    try {
      Deno.removeSync(opts.bindPath);
    } catch {
      // not there: the usual case
    }
    const conn = listen({ transport: "unixpacket", path: opts.bindPath });
    try {
      Deno.removeSync(opts.bindPath);
    } catch {
      // already gone
    }
    return new SdNotifier(opts, conn);
  }

  /** Send one datagram of `KEY=value` lines. */
  async notify(fields: Record<string, string | number | bigint>): Promise<void> {
    if (!this.#conn) return;
    const text = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("\n");
    try {
      await this.#conn.send(new TextEncoder().encode(text), {
        transport: "unixpacket",
        path: this.socket,
      });
    } catch (e) {
      if (!this.#warned) {
        this.#warned = true;
        log("daemon").warn("sd_notify to {socket} failed: {error}", {
          socket: this.socket,
          error: errorMessage(e),
        });
      }
    }
  }

  ready(status?: string): Promise<void> {
    if (status !== undefined) this.#lastStatus = status;
    return this.notify(status === undefined ? { READY: 1 } : { READY: 1, STATUS: status });
  }

  /** STATUS=, sent only when it changed. */
  async status(text: string): Promise<void> {
    if (text === this.#lastStatus) return;
    this.#lastStatus = text;
    await this.notify({ STATUS: text });
  }

  reloading(): Promise<void> {
    const usec = this.#monotonic();
    return this.notify(
      usec === undefined ? { RELOADING: 1 } : { RELOADING: 1, MONOTONIC_USEC: usec },
    );
  }

  stopping(): Promise<void> {
    return this.notify({ STOPPING: 1 });
  }

  /**
   * WATCHDOG=1 every WATCHDOG_USEC/2 while `alive()` answers true. A blocked event loop
   * sends nothing, and a check that throws or says false skips the keep-alive, so systemd
   * restarts an agent that stopped working.
   */
  startWatchdog(alive: () => boolean): void {
    if (!this.watchdogUsec || this.#timer !== undefined) return;
    const every = Math.max(1, Math.floor(this.watchdogUsec / 2000));
    const tick = () => {
      let ok = false;
      try {
        ok = alive();
      } catch {
        ok = false;
      }
      if (ok) void this.notify({ WATCHDOG: 1 });
    };
    tick();
    this.#timer = setInterval(tick, every);
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      this.#conn?.close();
    } catch {
      // closed already
    }
    this.#conn = undefined;
  }
}
