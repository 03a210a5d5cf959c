/**
 * Socket options of a UDP socket that Deno has no API for. `Deno.listenDatagram` takes no
 * buffer option, and node:dgram's `recvBufferSize` / `setRecvBufferSize()` are accepted by
 * Deno 2.x but only remembered in JavaScript: getRecvBufferSize() echoes the value while
 * `ss -uamn` still shows the kernel default (rb212992). What works is setsockopt(2) through
 * FFI on the socket's descriptor.
 *
 * The recvmmsg receiver (mmsg_receiver.ts) owns its descriptor. For a node:dgram socket Deno
 * does not expose it, and reading /proc/self needs `--allow-all` in Deno 2, so it is found
 * with FFI alone: the datagram socket whose getsockname() is the address node:dgram bound.
 * Only `--allow-ffi` (which may be scoped to libc's path) is needed. Linux only, like
 * Ironpost. The libc symbols are in ffi/libc.ts.
 */
import { errorMessage, IronpostError, parseIp } from "../../core/mod.ts";
import {
  AF_INET,
  AF_INET6,
  getSockName,
  getSockOptBytes,
  getSockOptInt,
  HOST_LITTLE_ENDIAN,
  openFileLimit,
  setSockOptInt,
  SK_MEMINFO_DROPS,
  SO_MEMINFO,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_TYPE,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "../../../ffi/libc.ts";

/** Never scan more descriptors than this, whatever RLIMIT_NOFILE says. */
const MAX_FD_SCAN = 1 << 16;

/** The outcome of `raiseReceiveBuffer`. */
export interface ReceiveBuffer {
  /**
   * The buffer size as set (SO_RCVBUF as requested). The kernel doubles it for its own
   * bookkeeping, so `ss -uamn` shows `rb` = 2 × this.
   */
  bytes: number;
  /** How: plain SO_RCVBUF (within net.core.rmem_max), SO_RCVBUFFORCE (CAP_NET_ADMIN), or not. */
  via: "SO_RCVBUF" | "SO_RCVBUFFORCE" | "already" | "none";
  /** Why it is below what was asked, when it is. */
  problem?: string;
}

/** The bound local address of a UDP socket, as node:dgram's `address()` reports it. */
export interface LocalUdpAddress {
  address: string;
  port: number;
}

/**
 * Options of one UDP socket of this process, reached through its descriptor. Close it
 * before the socket: afterwards the descriptor number may belong to something else.
 *
 * @example
 * ```ts ignore
 * import dgram from "node:dgram";
 * import { UdpSocketControl } from "./socket_buffer.ts";
 * const s = dgram.createSocket("udp4");
 * s.bind(5514, "127.0.0.1", () => {
 *   const ctl = UdpSocketControl.find(s.address());
 *   console.log(ctl.raiseReceiveBuffer(4 * 1024 * 1024)); // { bytes: 4194304, via: "SO_RCVBUF" }
 *   ctl.close();
 * });
 * ```
 */
export class UdpSocketControl {
  readonly fd: number;
  #open = true;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * Find the datagram socket bound to `local`. Throws `E_FFI` when FFI is not permitted and
   * `E_SOCKET_NOT_FOUND` when no descriptor matches.
   */
  static find(local: LocalUdpAddress): UdpSocketControl {
    const ip = parseIp(local.address);
    if (!ip) {
      throw new IronpostError("E_SOCKET_NOT_FOUND", `Not an IP address: "${local.address}"`);
    }
    const fd = withFfi(() => findFd(ip.family === 6 ? AF_INET6 : AF_INET, ip.bytes, local.port));
    if (fd === undefined) {
      throw new IronpostError(
        "E_SOCKET_NOT_FOUND",
        `No UDP socket of this process is bound to ${local.address}:${local.port}`,
        { address: local.address, port: local.port },
      );
    }
    return new UdpSocketControl(fd);
  }

  /** Control a descriptor the caller owns (and closes, after this). */
  static forFd(fd: number): UdpSocketControl {
    return new UdpSocketControl(fd);
  }

  /** SO_RCVBUF as set (half of what the kernel reports). */
  receiveBuffer(): number {
    this.#check();
    try {
      return getSockOptInt(this.fd, SOL_SOCKET, SO_RCVBUF) / 2;
    } catch {
      return 0;
    }
  }

  /**
   * Raise the receive buffer to at least `bytes`. Plain SO_RCVBUF is capped by
   * net.core.rmem_max; above it SO_RCVBUFFORCE is tried, which needs CAP_NET_ADMIN (rsyslog
   * does the same). Never lowers it.
   */
  raiseReceiveBuffer(bytes: number): ReceiveBuffer {
    if (this.receiveBuffer() >= bytes) return { bytes: this.receiveBuffer(), via: "already" };
    const value = Math.min(Math.max(0, Math.floor(bytes)), 0x7fffffff);
    const set = (opt: number) => {
      try {
        setSockOptInt(this.fd, SOL_SOCKET, opt, value);
        return true;
      } catch {
        return false;
      }
    };
    if (set(SO_RCVBUF) && this.receiveBuffer() >= bytes) {
      return { bytes: this.receiveBuffer(), via: "SO_RCVBUF" };
    }
    if (set(SO_RCVBUFFORCE) && this.receiveBuffer() >= bytes) {
      return { bytes: this.receiveBuffer(), via: "SO_RCVBUFFORCE" };
    }
    return {
      bytes: this.receiveBuffer(),
      via: "SO_RCVBUF",
      problem: "capped by net.core.rmem_max; SO_RCVBUFFORCE needs CAP_NET_ADMIN",
    };
  }

  /** Datagrams the kernel dropped on this socket, mostly for a full receive buffer. */
  drops(): number | undefined {
    if (!this.#open) return undefined;
    const info = new Uint32Array(SK_MEMINFO_DROPS + 1);
    try {
      const n = getSockOptBytes(this.fd, SOL_SOCKET, SO_MEMINFO, new Uint8Array(info.buffer));
      return n > SK_MEMINFO_DROPS * 4 ? info[SK_MEMINFO_DROPS] : undefined;
    } catch {
      return undefined;
    }
  }

  /** Forget the descriptor (it is not closed: its socket owns it). */
  close(): void {
    this.#open = false;
  }

  #check(): void {
    if (!this.#open) throw new IronpostError("E_SOCKET_CLOSED", "UdpSocketControl is closed");
  }
}

/**
 * Run libc calls, turning "FFI not permitted" (or libc missing) into `E_FFI`, which callers
 * treat as "no socket options here" rather than a failure.
 */
export function withFfi<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof IronpostError) throw err;
    throw new IronpostError(
      "E_FFI",
      `Cannot use libc for socket options: ${errorMessage(err)}`,
      { hint: "grant --allow-ffi (it may be scoped to libc's path)" },
      { cause: err },
    );
  }
}

/** The descriptor of the datagram socket bound to family/address/port, by getsockname(). */
function findFd(family: number, addr: Uint8Array, port: number): number | undefined {
  let limit = 1024;
  try {
    limit = Math.min(openFileLimit(), MAX_FD_SCAN);
  } catch (err) {
    if (!(err instanceof IronpostError)) throw err;
  }
  const sa = new Uint8Array(128);
  const view = new DataView(sa.buffer);
  const addrAt = family === AF_INET6 ? 8 : 4;
  for (let fd = 0; fd < limit; fd++) {
    if (getSockName(fd, sa) < 0) continue;
    if (view.getUint16(0, HOST_LITTLE_ENDIAN) !== family || view.getUint16(2, false) !== port) {
      continue;
    }
    if (!sa.subarray(addrAt, addrAt + addr.length).every((b, i) => b === addr[i])) continue;
    // A TCP listener may share the port number (syslog on 514/udp and 514/tcp).
    try {
      if (getSockOptInt(fd, SOL_SOCKET, SO_TYPE) === SOCK_DGRAM) return fd;
    } catch (err) {
      if (!(err instanceof IronpostError)) throw err;
    }
  }
  return undefined;
}
