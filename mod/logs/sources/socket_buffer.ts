/**
 * Raising a UDP socket's receive buffer, which Deno has no API for: `Deno.listenDatagram`
 * takes no buffer option, and node:dgram's `recvBufferSize` / `setRecvBufferSize()` are
 * accepted by Deno 2.x but only remembered in JavaScript (getRecvBufferSize() echoes them
 * while `ss -uamn` still shows the kernel default, rb212992). What works is setsockopt(2)
 * through FFI on the socket's descriptor, found by its inode in /proc/self/net/udp{,6} and
 * /proc/self/fd. Linux only (like Ironpost).
 */
import { parseIp } from "../../core/mod.ts";
import { firstExisting, LIBC_PATHS } from "../../../ffi/libc.ts";

const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;

const SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The outcome of `raiseReceiveBuffer`. */
export interface ReceiveBuffer {
  /**
   * The buffer size as set (SO_RCVBUF as requested). The kernel doubles it for its own
   * bookkeeping, so `ss -uamn` shows `rb` = 2 × this.
   */
  bytes: number;
  /** How it was set: plain SO_RCVBUF (within net.core.rmem_max), or SO_RCVBUFFORCE (root). */
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
 * Set the receive buffer of this process's UDP socket bound to `local` to at least `bytes`.
 * Plain SO_RCVBUF is capped by net.core.rmem_max; above it SO_RCVBUFFORCE is tried, which
 * needs CAP_NET_ADMIN (rsyslog does the same). Never throws: without FFI permission or the
 * socket, the result says why.
 */
export function raiseReceiveBuffer(local: LocalUdpAddress, bytes: number): ReceiveBuffer {
  let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
  try {
    const inode = udpSocketInode(local);
    if (inode === undefined) {
      return { bytes: 0, via: "none", problem: "socket not found in /proc/self/net/udp" };
    }
    const fd = socketFd(inode);
    if (fd === undefined) return { bytes: 0, via: "none", problem: "socket fd not found" };
    lib = Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
    const sym = lib.symbols;
    const get = (): number => {
      const v = new Int32Array(1);
      const len = new Uint32Array([4]);
      const rc = sym.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, asBytes(v), asBytes(len));
      return rc === 0 ? v[0] / 2 : 0;
    };
    const set = (opt: number): boolean =>
      sym.setsockopt(fd, SOL_SOCKET, opt, asBytes(new Int32Array([clampInt(bytes)])), 4) === 0;
    if (get() >= bytes) return { bytes: get(), via: "already" };
    if (set(SO_RCVBUF) && get() >= bytes) return { bytes: get(), via: "SO_RCVBUF" };
    if (set(SO_RCVBUFFORCE) && get() >= bytes) return { bytes: get(), via: "SO_RCVBUFFORCE" };
    return {
      bytes: get(),
      via: "SO_RCVBUF",
      problem: "capped by net.core.rmem_max; SO_RCVBUFFORCE needs CAP_NET_ADMIN",
    };
  } catch (err) {
    const why = err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied
      ? "needs --allow-ffi and read access to /proc/self"
      : err instanceof Error
      ? err.message
      : String(err);
    return { bytes: 0, via: "none", problem: `cannot set SO_RCVBUF: ${why}` };
  } finally {
    lib?.close();
  }
}

/**
 * Datagrams the kernel dropped for this socket (the `drops` column of /proc/net/udp):
 * what overflowed the receive buffer. Undefined when the socket is not found.
 */
export function udpDrops(local: LocalUdpAddress): number | undefined {
  const row = udpRow(local);
  return row ? Number(row[12] ?? 0) : undefined;
}

function udpSocketInode(local: LocalUdpAddress): string | undefined {
  return udpRow(local)?.[9];
}

/** The /proc/self/net/udp{,6} row (split on blanks) of the socket bound to `local`. */
function udpRow(local: LocalUdpAddress): string[] | undefined {
  const ip = parseIp(local.address);
  if (!ip) return undefined;
  const want = `${procHex(ip.bytes)}:${local.port.toString(16).toUpperCase().padStart(4, "0")}`;
  const table = Deno.readTextFileSync(`/proc/self/net/${ip.family === 6 ? "udp6" : "udp"}`);
  for (const line of table.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want) return f;
  }
  return undefined;
}

/** The kernel prints each 32-bit word of an address in host byte order. */
function procHex(bytes: Uint8Array): string {
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  let out = "";
  for (let w = 0; w < bytes.length; w += 4) {
    const word = [...bytes.subarray(w, w + 4)];
    if (little) word.reverse();
    out += word.map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join("");
  }
  return out;
}

function socketFd(inode: string): number | undefined {
  const target = `socket:[${inode}]`;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${e.name}`) === target) return Number(e.name);
    } catch {
      // closed between listing and reading
    }
  }
  return undefined;
}

function clampInt(n: number): number {
  return Math.min(Math.max(0, Math.floor(n)), 0x7fffffff);
}

function asBytes(a: Int32Array | Uint32Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(a.buffer as ArrayBuffer);
}
