/**
 * The few libc functions the eBPF code needs that Deno has no API for: interface indexes,
 * the monotonic clock BPF programs use (bpf_ktime_get_ns), closing link fds, and errno.
 */
import { BpfError } from "./errno.ts";

/** Where Debian (and most distributions) keep libc. */
export const LIBC_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib64/libc.so.6",
];

const SYMBOLS = {
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
  return lib.symbols;
}

/** The first path that exists; libraries are opened by absolute path so --allow-ffi can name it. */
export function firstExisting(paths: readonly string[]): string {
  for (const p of paths) {
    try {
      Deno.statSync(p);
      return p;
    } catch {
      // try the next one
    }
  }
  return paths[0];
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
