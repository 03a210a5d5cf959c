import { IronpostError } from "../mod/core/mod.ts";

/** Linux errno values the code compares against, by name (asm-generic/errno-base.h). */
export const EPERM = 1;
export const ENOENT = 2;
export const EAGAIN = 11;
export const EEXIST = 17;
export const EINVAL = 22;

/** Linux errno values the eBPF code meets, by name. */
export const ERRNO: Record<number, string> = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  4: "EINTR",
  7: "E2BIG",
  9: "EBADF",
  [EAGAIN]: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  [EEXIST]: "EEXIST",
  19: "ENODEV",
  [EINVAL]: "EINVAL",
  28: "ENOSPC",
  30: "EROFS",
  38: "ENOSYS",
  71: "EPROTO",
  90: "EMSGSIZE",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  104: "ECONNRESET",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  95: "EOPNOTSUPP",
  524: "ENOTSUPP",
};

/** What usually causes each errno in a BPF or netlink call, for the user. */
const HINTS: Record<string, string> = {
  EPERM: "needs root or CAP_BPF+CAP_NET_ADMIN (and CAP_PERFMON for tracing)",
  EACCES: "rejected by the verifier or by a security module; see the verifier log",
  ENOENT: "not found",
  ENODEV: "no such network interface",
  EBUSY: "another program is already attached there (remove it, or use a different mode)",
  EEXIST: "already exists",
  EINVAL: "invalid argument (often: the kernel does not support this attach type or mode)",
  E2BIG: "too big (map or program larger than the kernel allows)",
  ENOMEM: "out of memory or over the locked-memory limit",
  EOPNOTSUPP: "not supported by this driver or kernel (try generic XDP or tc mode)",
  ENOTSUPP: "not supported by this kernel",
  ENOSYS: "the kernel has no bpf() syscall",
  EADDRINUSE: "the address is already in use (another listener on that port?)",
  EADDRNOTAVAIL: "no interface has that address",
  EAFNOSUPPORT: "address family not supported",
  ECONNREFUSED: "nothing listens there",
};

/**
 * A failed libbpf or libc call: `code` is the errno name, `errno` its number, and the
 * message says which call, on what, and the likely cause.
 */
export class BpfError extends IronpostError {
  readonly errno: number;
  readonly call: string;

  constructor(call: string, errno: number, what = "", detail = "") {
    const name = ERRNO[errno] ?? `errno ${errno}`;
    const hint = HINTS[name] ?? "";
    super(
      name,
      `${call}${what ? ` (${what})` : ""} failed: ${name}${hint ? `: ${hint}` : ""}` +
        (detail ? `\n${detail}` : ""),
      { call, errno, what },
    );
    this.name = "BpfError";
    this.errno = errno;
    this.call = call;
  }
}
