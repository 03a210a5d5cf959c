/**
 * One descriptor per sensor record type: the BPF programs that produce it, the `[sensors]`
 * switch that turns them on, its record (type, size, decoder through the offsets of
 * layout.ts, which tests/sensors/layout_test.ts checks against the object's BTF), the
 * HostEvent it becomes and that event's Sigma category. `SENSORS` lists them; everything
 * else (which programs to load, decoding, events, counters) is read from that list.
 *
 * Adding a sensor: its programs in bpf/sensors.bpf.c, its record in bpf/sensors.h, the
 * record's offsets in layout.ts, a descriptor here (and in `SENSORS`), and a test in
 * tests/sensors/sensors_test.ts.
 */
import type { HostEvent } from "../core/mod.ts";
import {
  COMM_LEN,
  EXEC_F,
  FILE_F,
  FILE_OP,
  NET_OP,
  NET_RESULT,
  OFFSETS,
  REC,
  REC_ARGS_LEN,
  REC_PATH_LEN,
  SIZE,
} from "./layout.ts";
import { normalizePath, type ProcInfo, type RecordHeader, RecordReader } from "./records.ts";
import { type EventContext, hostEvent } from "./to_event.ts";

/** The `[sensors]` switch that loads a sensor's programs. */
export type SensorSwitch = "exec" | "file" | "network";

export interface SensorDescriptor<R extends { type: string } = { type: string }> {
  /** The decoded record's `type`, and the `type` label of its kernel counters. */
  readonly name: R["type"];
  /** Its `enum rec_type` value. */
  readonly rec: number;
  /** `sizeof` its record struct: a shorter record is not decoded. */
  readonly size: number;
  readonly switch: SensorSwitch;
  /** Its programs in bpf/sensors.bpf.c, by function name. */
  readonly programs: readonly string[];
  /** The Sigma logsource category of its events (see mod/logs/from_events.ts). */
  readonly category?: string;
  decode(r: RecordReader, h: RecordHeader): R | undefined;
  /** The HostEvent a record becomes; a sensor without one only feeds the agent's state. */
  toEvent?(ctx: EventContext, rec: R): HostEvent | undefined;
}

// --- exec: a process started ------------------------------------------------------------

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

export const EXEC: SensorDescriptor<ExecRecord> = {
  name: "exec",
  rec: REC.EXEC,
  size: SIZE.exec_rec,
  switch: "exec",
  // The execve tracepoints mark a thread as in exec, so the rename every exec does is not
  // reported as a process renaming itself.
  programs: ["on_exec", "enter_execve", "enter_execveat", "exit_execve", "exit_execveat"],
  category: "process_creation",
  decode(r, h) {
    const o = OFFSETS.exec_rec;
    return {
      ...r.head("exec", h, o.p),
      exe: r.cstring(o.exe, REC_PATH_LEN),
      filename: r.cstring(o.filename, REC_PATH_LEN),
      cwd: r.cstring(o.cwd, REC_PATH_LEN),
      // The kernel writes at most REC_ARGS_LEN bytes; a larger args_len (fuzzed: 0xffff in a
      // record with bytes after the struct) read past the field into whatever followed.
      argv: r.strings(o.args, Math.min(r.u16(o.args_len), REC_ARGS_LEN)),
      argc: r.u16(o.argc),
      argsTruncated: r.flag(o.flags, EXEC_F.ARGS_TRUNCATED),
      exeTruncated: r.flag(o.flags, EXEC_F.EXE_TRUNCATED),
    };
  },
  toEvent(ctx, rec) {
    const self = ctx.table.onExec(rec);
    return hostEvent(ctx, rec, self, {
      sensor: "process",
      action: "exec",
      fields: {},
      extra: {
        CurrentDirectory: rec.cwd,
        ExecFilename: rec.filename && rec.filename !== self.image ? rec.filename : undefined,
        ArgsTruncated: rec.argsTruncated || undefined,
      },
    });
  },
};

// --- exit: a process ended (not sent by this object; decoded for older/newer ones) ------

export interface ExitRecord {
  type: "exit";
  tsNs: bigint;
  pid: number;
  exitCode: number;
  startNs: bigint;
}

export const EXIT: SensorDescriptor<ExitRecord> = {
  name: "exit",
  rec: REC.EXIT,
  size: SIZE.exit_rec,
  switch: "exec",
  programs: ["on_exit"],
  decode(r, { tsNs }) {
    const o = OFFSETS.exit_rec;
    return {
      type: "exit",
      tsNs,
      pid: r.u32(o.pid),
      exitCode: r.i32(o.exit_code),
      startNs: r.u64(o.start_ns),
    };
  },
};

// --- file: written, read (sensitive), removed, renamed or re-permissioned ---------------

export type FileOp = Lowercase<keyof typeof FILE_OP>;

const FILE_OPS = new Map<number, FileOp>(
  Object.entries(FILE_OP).map(([name, value]) => [value, name.toLowerCase() as FileOp]),
);

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

export const FILE: SensorDescriptor<FileRecord> = {
  name: "file",
  rec: REC.FILE,
  size: SIZE.file_rec,
  switch: "file",
  programs: [
    "enter_open",
    "enter_openat",
    "enter_openat2",
    "enter_creat",
    "exit_open",
    "exit_openat",
    "exit_openat2",
    "exit_creat",
    "enter_unlink",
    "enter_unlinkat",
    "enter_chmod",
    "enter_fchmod",
    "enter_fchmodat",
    "enter_fchmodat2",
    "enter_chown",
    "enter_lchown",
    "enter_fchown",
    "enter_fchownat",
    "enter_rename",
    "enter_renameat",
    "enter_renameat2",
  ],
  category: "file_event",
  decode(r, h) {
    const o = OFFSETS.file_rec;
    const op = FILE_OPS.get(r.u32(o.op));
    if (!op) return undefined;
    return {
      ...r.head("file", h, o.p),
      op,
      path: normalizePath(r.cstring(o.path, REC_PATH_LEN)),
      path2: r.cstring(o.path2, REC_PATH_LEN),
      watched: r.flag(o.flags, FILE_F.WATCHED),
      sensitive: r.flag(o.flags, FILE_F.SENSITIVE),
      truncated: r.flag(o.flags, FILE_F.TRUNCATED),
      created: r.flag(o.flags, FILE_F.CREATED),
      openFlags: r.u32(o.open_flags),
      mode: r.u32(o.mode),
    };
  },
  toEvent(ctx, rec) {
    const self = ctx.table.get(rec.p.pid);
    const renamed = rec.op === "rename";
    return hostEvent(ctx, rec, self, {
      sensor: "file",
      action: rec.op,
      fields: { TargetFilename: rec.path, FileOperation: rec.op },
      extra: {
        SourceFilename: renamed ? rec.path : undefined,
        // The new name as the caller gave it, against the process's cwd when relative.
        TargetFilename: renamed ? normalizePath(underCwd(rec.path2, self?.cwd)) : undefined,
        Watched: rec.watched || undefined,
        Sensitive: rec.sensitive || undefined,
        PathTruncated: rec.truncated || undefined,
        Created: rec.created || undefined,
        Mode: rec.op === "chmod" ? `0${rec.mode.toString(8)}` : undefined,
        // chown: the kernel puts the uid in `mode` and the gid in `open_flags`.
        NewUid: rec.op === "chown" ? rec.mode | 0 : undefined,
        NewGid: rec.op === "chown" ? rec.openFlags | 0 : undefined,
      },
    });
  },
};

function underCwd(path: string, cwd: string | undefined): string {
  return path.startsWith("/") || !cwd ? path : `${cwd}/${path}`;
}

// --- network: an outbound connect or an inbound accept ----------------------------------

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

export const NETWORK: SensorDescriptor<NetRecord> = {
  name: "network",
  rec: REC.NET,
  size: SIZE.net_rec,
  switch: "network",
  programs: ["on_sock_state", "exit_accept4", "exit_accept"],
  category: "network_connection",
  decode(r, h) {
    const o = OFFSETS.net_rec;
    const family = r.u8(o.family) === 6 ? 6 : 4;
    const accept = r.u8(o.op) === NET_OP.ACCEPT;
    return {
      ...r.head("network", h, o.p),
      op: accept ? "accept" : "connect",
      family,
      srcIp: r.ip(o.saddr, family),
      srcPort: r.be16(o.sport),
      dstIp: r.ip(o.daddr, family),
      dstPort: r.be16(o.dport),
      established: accept || r.u16(o.result) === NET_RESULT.ESTABLISHED,
    };
  },
  toEvent(ctx, rec) {
    return hostEvent(ctx, rec, ctx.table.get(rec.p.pid), {
      sensor: "network",
      action: rec.op,
      fields: {
        Initiated: rec.op === "connect",
        Protocol: "tcp",
        SourceIp: rec.srcIp,
        SourcePort: rec.srcPort,
        DestinationIp: rec.dstIp,
        DestinationPort: rec.dstPort,
        DestinationIsIpv6: rec.family === 6,
        Established: rec.established,
      },
    });
  },
};

// --- comm: a process renamed itself (prctl or /proc/<pid>/comm) -------------------------

export interface CommRecord {
  type: "comm";
  tsNs: bigint;
  p: ProcInfo;
  oldComm: string;
  newComm: string;
}

export const COMM: SensorDescriptor<CommRecord> = {
  name: "comm",
  rec: REC.COMM,
  size: SIZE.comm_rec,
  switch: "exec",
  programs: ["on_rename"],
  // Not a process creation: Ironpost's own category (see mod/logs/from_events.ts).
  category: "process_anomaly",
  decode(r, h) {
    const o = OFFSETS.comm_rec;
    return {
      ...r.head("comm", h, o.p),
      oldComm: r.cstring(o.old_comm, COMM_LEN),
      newComm: r.cstring(o.new_comm, COMM_LEN),
    };
  },
  toEvent(ctx, rec) {
    return hostEvent(ctx, rec, ctx.table.get(rec.p.pid), {
      sensor: "process",
      action: "rename",
      fields: { OldName: rec.oldComm, NewName: rec.newComm },
    });
  },
};

// --- the list ---------------------------------------------------------------------------

/** Every sensor, in `enum rec_type` order. */
export const SENSORS = [EXEC, EXIT, FILE, NETWORK, COMM] as const;

type RecordOf<D> = D extends SensorDescriptor<infer R> ? R : never;
/** A decoded record of any sensor. */
export type SensorRecord = RecordOf<(typeof SENSORS)[number]>;

const BY_REC = new Map<number, SensorDescriptor<SensorRecord>>(SENSORS.map((d) => [d.rec, d]));
const BY_NAME = new Map<string, SensorDescriptor<SensorRecord>>(SENSORS.map((d) => [d.name, d]));

/**
 * Decode one record; undefined for a version or type this build does not know, or a
 * record shorter than its type's size or than its header says (the reader counts those and
 * goes on).
 */
export function decodeRecord(bytes: Uint8Array): SensorRecord | undefined {
  const r = new RecordReader(bytes);
  const h = r.header();
  const d = h && BY_REC.get(h.type);
  // The header's size is checked too (fuzzed: a record whose header says more bytes than
  // arrived, or fewer than its struct, was decoded from what happened to be there).
  if (!d || bytes.length < d.size || h.size < d.size || bytes.length < h.size) return undefined;
  return d.decode(r, h);
}

/** The HostEvent of a decoded record, or undefined when its sensor sends none. */
export function toEvent(ctx: EventContext, rec: SensorRecord): HostEvent | undefined {
  return BY_NAME.get(rec.type)?.toEvent?.(ctx, rec);
}

/** The program names of the sensors whose switch is on. */
export function programsFor(on: Record<SensorSwitch, boolean>): Set<string> {
  return new Set(SENSORS.filter((d) => on[d.switch]).flatMap((d) => d.programs));
}
