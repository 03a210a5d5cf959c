/**
 * Sensor records to `HostEvent`s with the field names SigmaHQ's Linux rules use:
 * `process_creation` (Image, CommandLine, ParentImage, ParentCommandLine, User,
 * CurrentDirectory, ProcessId, ParentProcessId), `file_event` (TargetFilename, Image) and
 * `network_connection` (DestinationIp, DestinationPort, SourceIp, SourcePort, Initiated).
 */
import { type ContainerRef, type HostEvent, newEvent } from "../core/mod.ts";
import { normalizePath } from "./records.ts";
import type { CommRecord, ExecRecord, FileRecord, NetRecord, ProcInfo } from "./records.ts";
import type { ProcEntry, ProcessTable } from "./process_table.ts";
import type { UserNames } from "./users.ts";

export interface EventContext {
  table: ProcessTable;
  users: UserNames;
  /** The container a record's task runs in, or undefined for the host. */
  container(p: ProcInfo): ContainerRef | undefined;
  /** CLOCK_MONOTONIC ns → wall-clock ISO time (the kernel stamps records with the former). */
  wallTime(tsNs: bigint): string;
}

type Fields = HostEvent["fields"];

function common(ctx: EventContext, p: ProcInfo, self: ProcEntry | undefined, fields: Fields) {
  const parent = ctx.table.get(p.ppid);
  fields.ProcessId = p.pid;
  fields.ParentProcessId = p.ppid;
  fields.User = ctx.users.name(p.uid);
  fields.Uid = p.uid;
  fields.Comm = p.comm;
  if (self) {
    fields.Image = self.image;
    if (self.commandLine) fields.CommandLine = self.commandLine;
  }
  if (parent) {
    fields.ParentImage = parent.image;
    if (parent.commandLine) fields.ParentCommandLine = parent.commandLine;
  }
  return { parent };
}

/** A process started. */
export function execEvent(ctx: EventContext, rec: ExecRecord): HostEvent {
  const self = ctx.table.onExec(rec);
  const fields: Fields = {};
  common(ctx, rec.p, self, fields);
  fields.CurrentDirectory = rec.cwd;
  if (rec.filename && rec.filename !== self.image) fields.ExecFilename = rec.filename;
  if (rec.argsTruncated) fields.ArgsTruncated = true;
  return newEvent<HostEvent>({
    kind: "host",
    sensor: "process",
    action: "exec",
    ts: ctx.wallTime(rec.tsNs),
    pid: rec.p.pid,
    ppid: rec.p.ppid,
    uid: rec.p.uid,
    image: self.image,
    commandLine: self.commandLine,
    container: ctx.container(rec.p),
    fields,
  });
}

/** A process renamed itself (prctl or /proc/<pid>/comm). */
export function commEvent(ctx: EventContext, rec: CommRecord): HostEvent {
  const self = ctx.table.get(rec.p.pid);
  const fields: Fields = { OldName: rec.oldComm, NewName: rec.newComm };
  common(ctx, rec.p, self, fields);
  return newEvent<HostEvent>({
    kind: "host",
    sensor: "process",
    action: "rename",
    ts: ctx.wallTime(rec.tsNs),
    pid: rec.p.pid,
    ppid: rec.p.ppid,
    uid: rec.p.uid,
    image: self?.image ?? rec.p.comm,
    commandLine: self?.commandLine,
    container: ctx.container(rec.p),
    fields,
  });
}

const FILE_ACTIONS = {
  open_write: "open_write",
  open_read: "open_read",
  unlink: "unlink",
  rename: "rename",
  chmod: "chmod",
  chown: "chown",
} as const;

/** A file written, read (sensitive), removed, renamed or re-permissioned. */
export function fileEvent(ctx: EventContext, rec: FileRecord): HostEvent {
  const self = ctx.table.get(rec.p.pid);
  const fields: Fields = { TargetFilename: rec.path, FileOperation: rec.op };
  common(ctx, rec.p, self, fields);
  if (rec.op === "rename") {
    fields.SourceFilename = rec.path;
    const to = rec.path2.startsWith("/") || !self?.cwd ? rec.path2 : `${self.cwd}/${rec.path2}`;
    fields.TargetFilename = normalizePath(to);
  }
  if (rec.watched) fields.Watched = true;
  if (rec.sensitive) fields.Sensitive = true;
  if (rec.truncated) fields.PathTruncated = true;
  if (rec.created) fields.Created = true;
  if (rec.op === "chmod") fields.Mode = `0${rec.mode.toString(8)}`;
  if (rec.op === "chown") {
    fields.NewUid = rec.mode | 0;
    fields.NewGid = rec.openFlags | 0;
  }
  return newEvent<HostEvent>({
    kind: "host",
    sensor: "file",
    action: FILE_ACTIONS[rec.op],
    ts: ctx.wallTime(rec.tsNs),
    pid: rec.p.pid,
    ppid: rec.p.ppid,
    uid: rec.p.uid,
    image: self?.image ?? rec.p.comm,
    commandLine: self?.commandLine,
    container: ctx.container(rec.p),
    fields,
  });
}

/** An outbound connect or an inbound accept. */
export function netEvent(ctx: EventContext, rec: NetRecord): HostEvent {
  const self = ctx.table.get(rec.p.pid);
  const initiated = rec.op === "connect";
  const fields: Fields = {
    Initiated: initiated,
    Protocol: "tcp",
    SourceIp: rec.srcIp,
    SourcePort: rec.srcPort,
    DestinationIp: rec.dstIp,
    DestinationPort: rec.dstPort,
    DestinationIsIpv6: rec.family === 6,
    Established: rec.established,
  };
  common(ctx, rec.p, self, fields);
  return newEvent<HostEvent>({
    kind: "host",
    sensor: "network",
    action: rec.op,
    ts: ctx.wallTime(rec.tsNs),
    pid: rec.p.pid,
    ppid: rec.p.ppid,
    uid: rec.p.uid,
    image: self?.image ?? rec.p.comm,
    commandLine: self?.commandLine,
    container: ctx.container(rec.p),
    fields,
  });
}
