/**
 * Socket options of a UDP socket that Deno has no API for. `Deno.listenDatagram` takes no
 * buffer option, and node:dgram's `recvBufferSize` / `setRecvBufferSize()` are accepted by
 * Deno 2.x but only remembered in JavaScript: getRecvBufferSize() echoes the value while
 * `ss -uamn` still shows the kernel default (rb212992). What works is setsockopt(2) through
 * FFI on the socket's descriptor.
 *
 * Deno does not expose that descriptor, and reading /proc/self needs `--allow-all` in Deno
 * 2, so the descriptor is found with FFI alone: the datagram socket whose getsockname()
 * is the address node:dgram bound. Only `--allow-ffi` (which may be scoped to libc's path)
 * is needed. Linux only, like Ironpost.
 */
import { IronpostError, parseIp } from "../../core/mod.ts";
import { firstExisting, LIBC_PATHS } from "../../../ffi/libc.ts";

const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SO_MEMINFO = 55;
const SOCK_DGRAM = 2;
const AF_INET = 2;
const AF_INET6 = 10;
const RLIMIT_NOFILE = 7;
/** Index of the drop counter in SO_MEMINFO's array (linux/sock_diag.h SK_MEMINFO_DROPS). */
const SK_MEMINFO_DROPS = 8;
/** sockaddr's family field is in host byte order. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Never scan more descriptors than this, whatever RLIMIT_NOFILE says. */
const MAX_FD_SCAN = 1 << 16;

const SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

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
  #lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

  private constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>, fd: number) {
    this.#lib = lib;
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
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
    } catch (err) {
      throw new IronpostError(
        "E_FFI",
        `Cannot load libc for socket options: ${err instanceof Error ? err.message : err}`,
        { hint: "grant --allow-ffi (it may be scoped to libc's path)" },
        { cause: err },
      );
    }
    const fd = findFd(lib.symbols, ip.family === 6 ? AF_INET6 : AF_INET, ip.bytes, local.port);
    if (fd === undefined) {
      lib.close();
      throw new IronpostError(
        "E_SOCKET_NOT_FOUND",
        `No UDP socket of this process is bound to ${local.address}:${local.port}`,
        { address: local.address, port: local.port },
      );
    }
    return new UdpSocketControl(lib, fd);
  }

  /** SO_RCVBUF as set (half of what the kernel reports). */
  receiveBuffer(): number {
    const v = new Int32Array(1);
    const rc = this.#sym().getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, bytesOf(v), len(4));
    return rc === 0 ? v[0] / 2 : 0;
  }

  /**
   * Raise the receive buffer to at least `bytes`. Plain SO_RCVBUF is capped by
   * net.core.rmem_max; above it SO_RCVBUFFORCE is tried, which needs CAP_NET_ADMIN (rsyslog
   * does the same). Never lowers it.
   */
  raiseReceiveBuffer(bytes: number): ReceiveBuffer {
    if (this.receiveBuffer() >= bytes) return { bytes: this.receiveBuffer(), via: "already" };
    const value = bytesOf(new Int32Array([Math.min(Math.max(0, Math.floor(bytes)), 0x7fffffff)]));
    const set = (opt: number) => this.#sym().setsockopt(this.fd, SOL_SOCKET, opt, value, 4) === 0;
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
    const info = new Uint32Array(SK_MEMINFO_DROPS + 1);
    const rc = this.#sym().getsockopt(this.fd, SOL_SOCKET, SO_MEMINFO, bytesOf(info), len(36));
    return rc === 0 ? info[SK_MEMINFO_DROPS] : undefined;
  }

  close(): void {
    this.#lib?.close();
    this.#lib = undefined;
  }

  #sym(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
    if (!this.#lib) throw new IronpostError("E_SOCKET_CLOSED", "UdpSocketControl is closed");
    return this.#lib.symbols;
  }
}

/** The descriptor of the datagram socket bound to family/address/port, by getsockname(). */
function findFd(
  sym: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"],
  family: number,
  addr: Uint8Array,
  port: number,
): number | undefined {
  const lim = new BigUint64Array(2);
  const limit = sym.getrlimit(RLIMIT_NOFILE, bytesOf(lim)) === 0
    ? Math.min(Number(lim[0]), MAX_FD_SCAN)
    : 1024;
  const sa = new Uint8Array(128);
  const view = new DataView(sa.buffer);
  const saLen = new Uint32Array(1);
  const type = new Int32Array(1);
  const addrAt = family === AF_INET6 ? 8 : 4;
  for (let fd = 0; fd < limit; fd++) {
    saLen[0] = sa.length;
    if (sym.getsockname(fd, sa, bytesOf(saLen)) !== 0) continue;
    if (view.getUint16(0, HOST_LITTLE_ENDIAN) !== family || view.getUint16(2, false) !== port) {
      continue;
    }
    if (!sa.subarray(addrAt, addrAt + addr.length).every((b, i) => b === addr[i])) continue;
    // A TCP listener may share the port number (syslog on 514/udp and 514/tcp).
    if (sym.getsockopt(fd, SOL_SOCKET, SO_TYPE, bytesOf(type), len(4)) !== 0) continue;
    if (type[0] === SOCK_DGRAM) return fd;
  }
  return undefined;
}

function len(n: number): Uint8Array<ArrayBuffer> {
  return bytesOf(new Uint32Array([n]));
}

function bytesOf(a: Int32Array | Uint32Array | BigUint64Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(a.buffer as ArrayBuffer);
}
