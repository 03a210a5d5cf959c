/**
 * mount(2) and statfs(2), which Deno has no API for: the agent mounts tracefs when the host
 * sensors need it and nothing mounted it, and tells filesystems apart by their magic number
 * (Deno cannot read /proc/self/mountinfo without --allow-all).
 *
 * Read it like a header: symbols, constants, thin wrappers that turn -1 and errno into a
 * `BpfError`. Which facility to mount where is decided in mod/kernel.
 */
import { BpfError, EINVAL } from "./errno.ts";
import { cstr, errno, firstExisting, LIBC_PATHS } from "./libc.ts";

const SYMBOLS = {
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "pointer"], result: "i32" },
  statfs: { parameters: ["buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
  return lib.symbols;
}

export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;

/** Filesystem magic numbers (linux/magic.h), as statfs reports them in f_type. */
export const FS_MAGIC = {
  tracefs: 0x74726163,
  debugfs: 0x64626720,
  bpf: 0xcafe4a11,
  securityfs: 0x73636673,
  cgroup2: 0x63677270,
  cgroup: 0x27e0eb,
  sysfs: 0x62656572,
  tmpfs: 0x01021994,
} as const;

/** struct statfs on x86-64 is 120 bytes; f_type (a long) comes first. */
const STATFS_SIZE = 120;

/** mount(2) a pseudo filesystem (no source device, no data). */
export function mountFs(fstype: string, target: string, flags: number): void {
  if (libc().mount(cstr(fstype), cstr(target), cstr(fstype), BigInt(flags), null) !== 0) {
    throw new BpfError("mount", errno() || EINVAL, `${fstype} on ${target}`);
  }
}

/** The magic number of the filesystem `path` is on, or undefined when statfs fails. */
export function fsMagic(path: string): number | undefined {
  const buf = new Uint8Array(STATFS_SIZE);
  if (libc().statfs(cstr(path), buf) !== 0) return undefined;
  return Number(new DataView(buf.buffer).getBigInt64(0, true));
}
