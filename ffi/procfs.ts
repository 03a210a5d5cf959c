/**
 * Reading /proc and /sys through libc. Deno refuses every /proc and /sys path unless it runs
 * with --allow-all, which the agent never does; the modules that need them already hold
 * --allow-ffi, so they read the few files they need (exe, cmdline, cgroup, ns links, the
 * kernel's BTF and LSM list) with open/read, readlink and stat here. Read it like a header: symbols, then thin wrappers; a missing process
 * is `undefined`, not an error, since processes come and go between event and lookup.
 */
import { firstExisting, LIBC_PATHS } from "./libc.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  stat: { parameters: ["buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
  return lib.symbols;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function cpath(path: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(path.length * 3 + 1);
  const { written } = enc.encodeInto(path, b);
  return b.subarray(0, written + 1) as Uint8Array<ArrayBuffer>;
}

/** The bytes of a small /proc file (at most `max`), or undefined when it cannot be read. */
export function readProcFile(path: string, max = 65536): Uint8Array | undefined {
  const fd = libc().open(cpath(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return undefined;
  try {
    const buf = new Uint8Array(max);
    let len = 0;
    while (len < max) {
      const n = Number(libc().read(fd, buf.subarray(len), BigInt(max - len)));
      if (n <= 0) break;
      len += n;
    }
    return buf.slice(0, len);
  } finally {
    libc().close(fd);
  }
}

/** The target of a /proc symlink (`exe`, `cwd`, `ns/mnt`), or undefined. */
export function readProcLink(path: string): string | undefined {
  const buf = new Uint8Array(4096);
  const n = Number(libc().readlink(cpath(path), buf, BigInt(buf.length)));
  return n < 0 ? undefined : dec.decode(buf.subarray(0, n));
}

/**
 * The inode number of a path (stat(2), following links), or undefined when it does not
 * exist. Through libc so that the sensors can pre-filter reads of /etc/shadow by inode
 * without Deno read access to it.
 */
export function statIno(path: string): bigint | undefined {
  const st = new Uint8Array(144); // struct stat on x86-64
  if (libc().stat(cpath(path), st) !== 0) return undefined;
  return new DataView(st.buffer).getBigUint64(8, true); // st_ino
}

/** What a path is (stat(2), following links), or undefined when it does not exist. */
export function statKind(path: string): "file" | "dir" | "other" | undefined {
  const st = new Uint8Array(144);
  if (libc().stat(cpath(path), st) !== 0) return undefined;
  const fmt = new DataView(st.buffer).getUint32(24, true) & 0o170000; // st_mode & S_IFMT
  return fmt === 0o100000 ? "file" : fmt === 0o040000 ? "dir" : "other";
}

/** The argv of a live process, or undefined. */
export function procArgv(pid: number): string[] | undefined {
  const raw = readProcFile(`/proc/${pid}/cmdline`);
  if (!raw || raw.length === 0) return undefined;
  const parts = dec.decode(raw).split("\0");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** The path of `/proc/libc` for `--allow-ffi` grants. */
export function procfsLibraryPath(): string {
  return firstExisting(LIBC_PATHS);
}
