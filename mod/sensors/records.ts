/**
 * What every sensor record (bpf/sensors.h) shares, and the reads its decoders are made of:
 * the header, the task that caused it (`struct proc_info`) and C strings. Each record type's
 * own decoder lives with its sensor in descriptors.ts.
 */
import { formatIp } from "../core/mod.ts";
import { CGROUP_NAME_LEN, COMM_LEN, OFFSETS, RECORD_VERSION, SIZE } from "./layout.ts";

/** The task that caused a record, as the kernel saw it. */
export interface ProcInfo {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  mntns: number;
  pidns: number;
  cgroupId: bigint;
  startNs: bigint;
  comm: string;
  /** Leaf name of the task's cgroup (e.g. `docker-<id>.scope`), empty for the root. */
  cgroup: string;
}

/** `struct rec_hdr`: which decoder applies, and when (CLOCK_MONOTONIC ns). */
export interface RecordHeader {
  type: number;
  /** The record's size as the kernel reserved it, header included. */
  size: number;
  tsNs: bigint;
}

/** One record's bytes with a view over them, as the decoders read it. */
export class RecordReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The header; undefined for a record too short for one or of another version. */
  header(): RecordHeader | undefined {
    if (this.bytes.length < SIZE.rec_hdr) return undefined;
    const o = OFFSETS.rec_hdr;
    if (this.view.getUint16(o.version, true) !== RECORD_VERSION) return undefined;
    return {
      type: this.view.getUint16(o.type, true),
      size: this.view.getUint32(o.size, true),
      tsNs: this.view.getBigUint64(o.ts_ns, true),
    };
  }

  u8(off: number): number {
    return this.bytes[off];
  }

  u16(off: number): number {
    return this.view.getUint16(off, true);
  }

  /** A port or other field the kernel keeps in network order. */
  be16(off: number): number {
    return this.view.getUint16(off, false);
  }

  u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  i32(off: number): number {
    return this.view.getInt32(off, true);
  }

  u64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }

  /** Whether `bit` is set in the u32 flags at `off`. */
  flag(off: number, bit: number): boolean {
    return (this.u32(off) & bit) !== 0;
  }

  /** A NUL-terminated string in a `char[len]` field. */
  cstring(off: number, len: number): string {
    return cstring(this.bytes, off, len);
  }

  /** NUL-separated strings (argv as read from the process's memory) in `len` bytes. */
  strings(off: number, len: number): string[] {
    const parts = dec.decode(this.bytes.subarray(off, off + len)).split("\0");
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    return parts;
  }

  /** An IPv4 (first 4 bytes) or IPv6 address in a `__u8[16]` field. */
  ip(off: number, family: 4 | 6): string {
    return formatIp(this.bytes.slice(off, off + (family === 4 ? 4 : 16)));
  }

  /** What every record with a `struct proc_info` (at `p`) starts with. */
  head<T extends string>(
    type: T,
    h: RecordHeader,
    p: number,
  ): { type: T; tsNs: bigint; p: ProcInfo } {
    return { type, tsNs: h.tsNs, p: this.proc(p) };
  }

  /** The `struct proc_info` at `base`. */
  proc(base: number): ProcInfo {
    const o = OFFSETS.proc_info;
    return {
      pid: this.u32(base + o.pid),
      tid: this.u32(base + o.tid),
      ppid: this.u32(base + o.ppid),
      uid: this.u32(base + o.uid),
      gid: this.u32(base + o.gid),
      euid: this.u32(base + o.euid),
      mntns: this.u32(base + o.mntns),
      pidns: this.u32(base + o.pidns),
      cgroupId: this.u64(base + o.cgroup_id),
      startNs: this.u64(base + o.start_ns),
      comm: this.cstring(base + o.comm, COMM_LEN),
      cgroup: this.cstring(base + o.cgroup, CGROUP_NAME_LEN),
    };
  }
}

const dec = new TextDecoder();

/** A NUL-terminated string in `len` bytes at `off` (all of them when there is no NUL). */
export function cstring(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return dec.decode(z < 0 ? s : s.subarray(0, z));
}

/**
 * Collapse `//`, `.` and `..` in a path the kernel joined from a directory and a relative
 * name (the kernel does not resolve them, the filesystem does).
 */
export function normalizePath(path: string): string {
  if (!path.includes("/.") && !path.includes("//")) return path;
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}
