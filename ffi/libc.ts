/**
 * The few libc functions Ironpost needs that Deno has no API for: for the eBPF code,
 * interface indexes, the monotonic clock BPF programs use (bpf_ktime_get_ns), closing link
 * fds, and errno; for UDP syslog, BSD sockets with the options Deno does not expose
 * (SO_RCVBUF, SO_MEMINFO) and recvmmsg(2), which reads many datagrams in one call.
 *
 * Read it like a header: symbols, constants and struct layouts (x86-64 Linux), then thin
 * typed wrappers that turn -1 and errno into a `BpfError`. Policy lives in the callers.
 */
import { BpfError, EINVAL } from "./errno.ts";
import { firstExisting, LIBC_PATHS } from "./paths.ts";

export { firstExisting, LIBC_PATHS };

const SYMBOLS = {
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // errno's address as a number, read with memcpy: UnsafePointerView needs unscoped
  // --allow-ffi, and the socket calls must work with --allow-ffi scoped to libc's path.
  errno_address: { name: "__errno_location", parameters: [], result: "usize" },
  // memset(buf, 0, 0) returns buf: a buffer's address without Deno.UnsafePointer.of, which
  // (like UnsafePointerView) needs unscoped --allow-ffi.
  buffer_address: { name: "memset", parameters: ["buffer", "i32", "usize"], result: "usize" },
  copy_from_address: { name: "memcpy", parameters: ["buffer", "usize", "usize"], result: "usize" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // Blocks until a datagram arrives (MSG_WAITFORONE), so it runs on a thread of Deno's
  // blocking pool and returns a Promise; errno is that thread's, not readable here.
  // Blocks until the BPF ring buffer has data or the timeout passes (the host sensors'
  // reader), on a thread of Deno's blocking pool like recvmmsg.
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  recvmmsg: {
    parameters: ["i32", "buffer", "u32", "i32", "pointer"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
  return lib.symbols;
}

/** The calling thread's errno (valid right after a failed call). */
export function errno(): number {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** Interface index of `name`; throws ENODEV naming the interface. */
export function ifNameToIndex(name: string): number {
  const idx = libc().if_nametoindex(cstr(name));
  if (idx === 0) throw new BpfError("if_nametoindex", errno() || 19, `interface "${name}"`);
  return idx;
}

const CLOCK_MONOTONIC = 1;

/** CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns(). */
export function monotonicNs(): bigint {
  const ts = new BigInt64Array(2);
  if (libc().clock_gettime(CLOCK_MONOTONIC, new Uint8Array(ts.buffer)) !== 0) {
    throw new BpfError("clock_gettime", errno());
  }
  return ts[0] * 1_000_000_000n + ts[1];
}

/** close(2) a file descriptor (a BPF link fd: closing it detaches the program). */
export function closeFd(fd: number): void {
  if (libc().close(fd) !== 0) throw new BpfError("close", errno(), `fd ${fd}`);
}

/** A NUL-terminated copy of `s` for C. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

// --- sockets ----------------------------------------------------------------------------

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_RCVBUF = 8;
export const SO_RCVTIMEO = 20;
export const SO_RCVBUFFORCE = 33;
export const SO_MEMINFO = 55;
/** Index of the drop counter in SO_MEMINFO's u32 array (linux/sock_diag.h SK_MEMINFO_DROPS). */
export const SK_MEMINFO_DROPS = 8;
export const SHUT_RD = 0;
/** Set in a received message's flags when the datagram was longer than its buffer. */
export const MSG_TRUNC = 0x20;
/** recvmmsg: block for the first datagram only, then take what is queued. */
export const MSG_WAITFORONE = 0x10000;
export const RLIMIT_NOFILE = 7;
export const ENOTCONN = 107;
/** sockaddr's family field (and the rest of the structs) are in host byte order. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** struct sockaddr_in: family u16, port u16 (network order), addr[4], zero[8]. */
export const SOCKADDR_IN_SIZE = 16;
/** struct sockaddr_in6: family u16, port u16, flowinfo u32, addr[16], scope_id u32. */
export const SOCKADDR_IN6_SIZE = 28;
/** struct iovec: base pointer, length (size_t). */
export const IOVEC_SIZE = 16;
/**
 * struct mmsghdr: a struct msghdr (name ptr @0, namelen u32 @8, iov ptr @16, iovlen @24,
 * control ptr @32, controllen @40, flags i32 @48; 56 bytes) then msg_len u32 @56, padded.
 */
export const MMSGHDR_SIZE = 64;
export const MSGHDR = {
  name: 0,
  namelen: 8,
  iov: 16,
  iovlen: 24,
  control: 32,
  controllen: 40,
  flags: 48,
  /** mmsghdr.msg_len: bytes received into this message. */
  len: 56,
} as const;

/** errno of the calling thread, read without UnsafePointerView (see `errno_address`). */
function lastErrno(): number {
  const v = new Int32Array(1);
  libc().copy_from_address(new Uint8Array(v.buffer), libc().errno_address(), 4n);
  return v[0];
}

/**
 * Socket errnos that ffi/errno.ts (written for BPF calls) does not name, with their usual
 * cause; the error's code stays `errno N` for those, so the name goes in its message.
 */
const SOCKET_ERRNO: Record<number, string> = {
  88: "ENOTSOCK: not a socket",
  97: "EAFNOSUPPORT: address family not supported",
  98: "EADDRINUSE: another socket is bound to this address and port",
  99: "EADDRNOTAVAIL: no local interface has this address",
  105: "ENOBUFS: no buffer space",
  107: "ENOTCONN: not connected",
};

function checkSock(call: string, rc: number, what: string): number {
  if (rc < 0) {
    const e = lastErrno() || EINVAL;
    throw new BpfError(call, e, what, SOCKET_ERRNO[e] ?? "");
  }
  return rc;
}

function u32Bytes(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new Uint32Array([n]).buffer);
}

/**
 * The address of `buf`'s first byte, for pointers stored inside structs passed to C. Valid
 * while `buf` is alive: ArrayBuffer backing stores do not move.
 */
export function bufferAddress(buf: Uint8Array<ArrayBuffer>): bigint {
  return BigInt(libc().buffer_address(buf, 0, 0n));
}

/** socket(2), close-on-exec; returns the descriptor. */
export function socketOpen(family: number, type: number): number {
  return checkSock("socket", libc().socket(family, type | SOCK_CLOEXEC, 0), `family ${family}`);
}

/** bind(2) to a sockaddr built by the caller; `what` names the address in the error. */
export function socketBind(fd: number, sockaddr: Uint8Array<ArrayBuffer>, what: string): void {
  checkSock("bind", libc().bind(fd, sockaddr, sockaddr.length), what);
}

/** shutdown(2); on a UDP socket SHUT_RD wakes a blocked receive (which then returns 0). */
export function socketShutdown(fd: number, how: number): void {
  checkSock("shutdown", libc().shutdown(fd, how), `fd ${fd}`);
}

/** setsockopt(2) with an int value. */
export function setSockOptInt(fd: number, level: number, opt: number, value: number): void {
  const v = new Uint8Array(new Int32Array([value]).buffer);
  checkSock("setsockopt", libc().setsockopt(fd, level, opt, v, 4), `fd ${fd} option ${opt}`);
}

/** setsockopt(2) with a struct value (such as a timeval). */
export function setSockOptBytes(
  fd: number,
  level: number,
  opt: number,
  value: Uint8Array<ArrayBuffer>,
): void {
  checkSock(
    "setsockopt",
    libc().setsockopt(fd, level, opt, value, value.length),
    `fd ${fd} option ${opt}`,
  );
}

/** getsockopt(2) of an int option. */
export function getSockOptInt(fd: number, level: number, opt: number): number {
  const v = new Int32Array(1);
  checkSock(
    "getsockopt",
    libc().getsockopt(fd, level, opt, new Uint8Array(v.buffer), u32Bytes(4)),
    `fd ${fd} option ${opt}`,
  );
  return v[0];
}

/** getsockopt(2) into `out`; returns the length the kernel wrote. */
export function getSockOptBytes(
  fd: number,
  level: number,
  opt: number,
  out: Uint8Array<ArrayBuffer>,
): number {
  const len = new Uint32Array([out.length]);
  checkSock(
    "getsockopt",
    libc().getsockopt(fd, level, opt, out, new Uint8Array(len.buffer)),
    `fd ${fd} option ${opt}`,
  );
  return len[0];
}

/**
 * getsockname(2) into `out` (128 bytes hold any sockaddr); returns its length, or -1 when
 * `fd` is not a socket (no error: callers probe descriptors with it).
 */
export function getSockName(fd: number, out: Uint8Array<ArrayBuffer>): number {
  const len = new Uint32Array([out.length]);
  return libc().getsockname(fd, out, new Uint8Array(len.buffer)) === 0 ? len[0] : -1;
}

/** The soft limit on open descriptors (RLIMIT_NOFILE). */
export function openFileLimit(): number {
  const lim = new BigUint64Array(2);
  checkSock("getrlimit", libc().getrlimit(RLIMIT_NOFILE, new Uint8Array(lim.buffer)), "NOFILE");
  return lim[0] > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(lim[0]);
}

/**
 * recvmmsg(2) on a thread of Deno's blocking pool: up to `vlen` datagrams into the mmsghdr
 * array at the start of `msgvec` (whose pointers the caller set, see `bufferAddress`), with
 * no timeout argument (SO_RCVTIMEO bounds the wait). Resolves to the count, or -1: errno
 * belongs to the pool thread and cannot be read here, so the caller checks SO_ERROR.
 */
export function recvmmsgAsync(
  fd: number,
  msgvec: Uint8Array<ArrayBuffer>,
  vlen: number,
  flags: number,
): Promise<number> {
  return libc().recvmmsg(fd, msgvec, vlen, flags, null);
}

/**
 * epoll_wait(2) for one event on a thread of Deno's blocking pool: resolves with the number
 * of ready descriptors (0 on timeout, -1 on error such as EINTR, which callers treat as a
 * spurious wakeup).
 */
export function epollWaitAsync(epfd: number, timeoutMs: number): Promise<number> {
  const events = new Uint8Array(12); // one struct epoll_event (packed on x86-64)
  return libc().epoll_wait(epfd, events, 1, timeoutMs);
}
