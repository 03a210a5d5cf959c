/** Decoding of the sensors' ring-buffer records (bpf/sensors.h) into typed values. */
import { formatIp } from "../core/mod.ts";
import { CGROUP_NAME_LEN, EXEC_F, FILE_F, OFFSETS, REC, RECORD_VERSION, SIZE } from "./layout.ts";

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

export interface ExecRecord {
  type: "exec";
  tsNs: bigint;
  p: ProcInfo;
  exe: string;
  filename: string;
  cwd: string;
  argv: string[];
  argc: number;
  argsTruncated: boolean;
  exeTruncated: boolean;
}

export interface ExitRecord {
  type: "exit";
  tsNs: bigint;
  pid: number;
  exitCode: number;
  startNs: bigint;
}

export type FileOp = "open_write" | "open_read" | "unlink" | "rename" | "chmod" | "chown";

export interface FileRecord {
  type: "file";
  tsNs: bigint;
  p: ProcInfo;
  op: FileOp;
  path: string;
  /** rename: the new name as the caller gave it. */
  path2: string;
  watched: boolean;
  sensitive: boolean;
  truncated: boolean;
  created: boolean;
  openFlags: number;
  mode: number;
}

export interface NetRecord {
  type: "network";
  tsNs: bigint;
  p: ProcInfo;
  op: "connect" | "accept";
  family: 4 | 6;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** connect: whether the handshake completed; accept: always true. */
  established: boolean;
}

export interface CommRecord {
  type: "comm";
  tsNs: bigint;
  p: ProcInfo;
  oldComm: string;
  newComm: string;
}

export type SensorRecord = ExecRecord | ExitRecord | FileRecord | NetRecord | CommRecord;

const FILE_OPS: Record<number, FileOp> = {
  1: "open_write",
  2: "open_read",
  3: "unlink",
  4: "rename",
  5: "chmod",
  6: "chown",
};

const dec = new TextDecoder();

function cstring(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return dec.decode(z < 0 ? s : s.subarray(0, z));
}

function procInfo(b: Uint8Array, v: DataView, base: number): ProcInfo {
  const o = OFFSETS.proc_info;
  return {
    pid: v.getUint32(base + o.pid, true),
    tid: v.getUint32(base + o.tid, true),
    ppid: v.getUint32(base + o.ppid, true),
    uid: v.getUint32(base + o.uid, true),
    gid: v.getUint32(base + o.gid, true),
    euid: v.getUint32(base + o.euid, true),
    mntns: v.getUint32(base + o.mntns, true),
    pidns: v.getUint32(base + o.pidns, true),
    cgroupId: v.getBigUint64(base + o.cgroup_id, true),
    startNs: v.getBigUint64(base + o.start_ns, true),
    comm: cstring(b, base + o.comm, 16),
    cgroup: cstring(b, base + o.cgroup, CGROUP_NAME_LEN),
  };
}

/** NUL-separated argv as read from the process's memory. */
function splitArgs(b: Uint8Array, off: number, len: number): string[] {
  const raw = dec.decode(b.subarray(off, off + len));
  const parts = raw.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

function ip(b: Uint8Array, off: number, family: 4 | 6): string {
  return formatIp(b.slice(off, off + (family === 4 ? 4 : 16)));
}

/**
 * Decode one record; undefined for a version or type this build does not know, or a
 * record shorter than its type's size (the reader counts those and goes on).
 */
export function decodeRecord(rec: Uint8Array): SensorRecord | undefined {
  if (rec.length < SIZE.rec_hdr) return undefined;
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  if (v.getUint16(0, true) !== RECORD_VERSION) return undefined;
  const type = v.getUint16(2, true);
  const tsNs = v.getBigUint64(8, true);
  switch (type) {
    case REC.EXEC: {
      if (rec.length < SIZE.exec_rec) return undefined;
      const o = OFFSETS.exec_rec;
      const flags = v.getUint32(o.flags, true);
      return {
        type: "exec",
        tsNs,
        p: procInfo(rec, v, o.p),
        exe: cstring(rec, o.exe, 256),
        filename: cstring(rec, o.filename, 256),
        cwd: cstring(rec, o.cwd, 256),
        argv: splitArgs(rec, o.args, v.getUint16(o.args_len, true)),
        argc: v.getUint16(o.argc, true),
        argsTruncated: (flags & EXEC_F.ARGS_TRUNCATED) !== 0,
        exeTruncated: (flags & EXEC_F.EXE_TRUNCATED) !== 0,
      };
    }
    case REC.EXIT: {
      if (rec.length < SIZE.exit_rec) return undefined;
      const o = OFFSETS.exit_rec;
      return {
        type: "exit",
        tsNs,
        pid: v.getUint32(o.pid, true),
        exitCode: v.getInt32(o.exit_code, true),
        startNs: v.getBigUint64(o.start_ns, true),
      };
    }
    case REC.FILE: {
      if (rec.length < SIZE.file_rec) return undefined;
      const o = OFFSETS.file_rec;
      const op = FILE_OPS[v.getUint32(o.op, true)];
      if (!op) return undefined;
      const flags = v.getUint32(o.flags, true);
      return {
        type: "file",
        tsNs,
        p: procInfo(rec, v, o.p),
        op,
        path: normalizePath(cstring(rec, o.path, 256)),
        path2: cstring(rec, o.path2, 256),
        watched: (flags & FILE_F.WATCHED) !== 0,
        sensitive: (flags & FILE_F.SENSITIVE) !== 0,
        truncated: (flags & FILE_F.TRUNCATED) !== 0,
        created: (flags & FILE_F.CREATED) !== 0,
        openFlags: v.getUint32(o.open_flags, true),
        mode: v.getUint32(o.mode, true),
      };
    }
    case REC.NET: {
      if (rec.length < SIZE.net_rec) return undefined;
      const o = OFFSETS.net_rec;
      const family = rec[o.family] === 6 ? 6 : 4;
      return {
        type: "network",
        tsNs,
        p: procInfo(rec, v, o.p),
        op: rec[o.op] === 2 ? "accept" : "connect",
        family,
        srcIp: ip(rec, o.saddr, family),
        srcPort: v.getUint16(o.sport, false),
        dstIp: ip(rec, o.daddr, family),
        dstPort: v.getUint16(o.dport, false),
        established: rec[o.op] === 2 || v.getUint16(o.result, true) === 1,
      };
    }
    case REC.COMM: {
      if (rec.length < SIZE.comm_rec) return undefined;
      const o = OFFSETS.comm_rec;
      return {
        type: "comm",
        tsNs,
        p: procInfo(rec, v, o.p),
        oldComm: cstring(rec, o.old_comm, 16),
        newComm: cstring(rec, o.new_comm, 16),
      };
    }
  }
  return undefined;
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
