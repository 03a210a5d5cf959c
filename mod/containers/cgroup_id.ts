/**
 * The kernel's id of a cgroup v2 directory: its inode number (kernfs node id), which is
 * what `bpf_get_current_cgroup_id()` reports. Deno refuses /sys paths unless it runs with
 * --allow-all, so the inode is read with statx(2) through libc (under --allow-ffi), falling
 * back to `Deno.statSync` (which works under --allow-all, as in tests).
 *
 * Belongs beside ffi/procfs.ts (a `statIno` there); kept here until it moves.
 */
import { firstExisting, LIBC_PATHS } from "../../ffi/libc.ts";

const SYMBOLS = {
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

const AT_FDCWD = -100;
const STATX_INO = 0x100;
// struct statx is the same on every architecture: stx_mask (u32) at 0, stx_ino (u64) at 32.
const STATX_SIZE = 256;
const STX_INO_OFFSET = 32;

let statx: ((path: string) => bigint | undefined) | null | undefined;

function ffiStatx(): ((path: string) => bigint | undefined) | null {
  if (statx === undefined) {
    try {
      const lib = Deno.dlopen(firstExisting(LIBC_PATHS), SYMBOLS);
      const enc = new TextEncoder();
      statx = (path) => {
        const cpath = enc.encode(path + "\0");
        const buf = new Uint8Array(STATX_SIZE);
        if (lib.symbols.statx(AT_FDCWD, cpath, 0, STATX_INO, buf) !== 0) return undefined;
        const v = new DataView(buf.buffer);
        if ((v.getUint32(0, true) & STATX_INO) === 0) return undefined;
        return v.getBigUint64(STX_INO_OFFSET, true);
      };
    } catch {
      statx = null; // no --allow-ffi
    }
  }
  return statx;
}

/**
 * The inode number of `path` (a cgroup directory), or undefined when it is gone or cannot
 * be read.
 */
export function inodeOf(path: string): bigint | undefined {
  const viaFfi = ffiStatx();
  if (viaFfi) return viaFfi(path);
  try {
    const ino = Deno.statSync(path).ino;
    return ino === null ? undefined : BigInt(ino);
  } catch {
    return undefined;
  }
}
