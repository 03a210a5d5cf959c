/**
 * Where the shared libraries Ironpost opens live. Kept apart from the bindings so that
 * permission grants (which name these files) load no FFI code.
 */

/** Where Debian (and most distributions) keep libc. */
export const LIBC_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib64/libc.so.6",
];

/** Where Debian's libbpf1 (and other distributions' libbpf) put libbpf.so.1. */
export const LIBBPF_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libbpf.so.1",
  "/lib/x86_64-linux-gnu/libbpf.so.1",
  "/usr/lib64/libbpf.so.1",
  "/usr/lib/libbpf.so.1",
];

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

/** The libc the bindings open. */
export function libcPath(): string {
  return firstExisting(LIBC_PATHS);
}

/** The libbpf the bindings open. */
export function libbpfPath(): string {
  return firstExisting(LIBBPF_PATHS);
}
