/**
 * What every sensor's `HostEvent` shares, with the field names SigmaHQ's Linux rules use:
 * the process (ProcessId, Image, CommandLine, User), its parent (ParentProcessId,
 * ParentImage, ParentCommandLine), the time and the container. Each sensor adds its own
 * fields in descriptors.ts.
 */
import { type ContainerRef, type HostEvent, newEvent } from "../core/mod.ts";
import type { ProcInfo } from "./records.ts";
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

export type Fields = HostEvent["fields"];

/** What a sensor says about one record: its kind, action and own fields. */
export interface EventParts {
  sensor: HostEvent["sensor"];
  action: HostEvent["action"];
  /** Fields before the process's (their order is the event's JSON order). */
  fields: Fields;
  /**
   * Fields after the process's; a key already in `fields` is replaced in place, an
   * undefined value is left out.
   */
  extra?: Record<string, Fields[string] | undefined>;
}

/**
 * The HostEvent of a record caused by task `p` at `tsNs`: `self` is the process table's
 * entry for it (its image and command line; the comm when the table has none).
 */
export function hostEvent(
  ctx: EventContext,
  rec: { tsNs: bigint; p: ProcInfo },
  self: ProcEntry | undefined,
  parts: EventParts,
): HostEvent {
  const { p } = rec;
  const fields = parts.fields;
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
  for (const [k, v] of Object.entries(parts.extra ?? {})) if (v !== undefined) fields[k] = v;
  return newEvent<HostEvent>({
    kind: "host",
    sensor: parts.sensor,
    action: parts.action,
    ts: ctx.wallTime(rec.tsNs),
    pid: p.pid,
    ppid: p.ppid,
    uid: p.uid,
    image: self?.image ?? p.comm,
    commandLine: self?.commandLine,
    container: ctx.container(p),
    fields,
  });
}
