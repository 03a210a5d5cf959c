/**
 * A bounded process table (pid → image, command line, parent), so each event can carry its
 * parent's image and command line as SigmaHQ's rules expect. Filled from exec records; a
 * process that started before the agent is read from /proc once on first use. The oldest
 * entries go first when the table is full (a Map keeps insertion order; a hit moves the
 * entry to the end).
 */
import { procArgv, readProcLink } from "../../ffi/procfs.ts";
import type { ExecRecord } from "./descriptors.ts";

export interface ProcEntry {
  pid: number;
  ppid: number;
  image: string;
  commandLine: string;
  cwd: string;
  uid: number;
  /** Kernel start time (ns since boot); 0 when read from /proc. */
  startNs: bigint;
}

/** Command line as one string: argv joined by spaces (the form SigmaHQ rules match). */
export function commandLine(argv: string[]): string {
  return argv.join(" ");
}

export class ProcessTable {
  readonly #capacity: number;
  readonly #entries = new Map<number, ProcEntry>();
  #procReads = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(16, capacity);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** /proc lookups made for processes the sensors did not see start. */
  get procReads(): number {
    return this.#procReads;
  }

  /** Record an exec: the process now runs `rec.exe` (a pid keeps its entry's place). */
  onExec(rec: ExecRecord): ProcEntry {
    const e: ProcEntry = {
      pid: rec.p.pid,
      ppid: rec.p.ppid,
      image: rec.exe || rec.filename,
      commandLine: commandLine(rec.argv),
      cwd: rec.cwd,
      uid: rec.p.uid,
      startNs: rec.p.startNs,
    };
    this.#put(e);
    return e;
  }

  /** The entry for `pid`, read from /proc when the sensors never saw it exec. */
  get(pid: number): ProcEntry | undefined {
    const e = this.#entries.get(pid);
    if (e) {
      this.#entries.delete(pid);
      this.#entries.set(pid, e);
      return e;
    }
    if (pid <= 0) return undefined;
    this.#procReads++;
    const exe = readProcLink(`/proc/${pid}/exe`);
    if (exe === undefined) return undefined;
    const argv = procArgv(pid) ?? [];
    const fresh: ProcEntry = {
      pid,
      ppid: 0,
      image: exe.replace(/ \(deleted\)$/, ""),
      commandLine: commandLine(argv),
      cwd: readProcLink(`/proc/${pid}/cwd`) ?? "",
      uid: -1,
      startNs: 0n,
    };
    this.#put(fresh);
    return fresh;
  }

  #put(e: ProcEntry): void {
    this.#entries.delete(e.pid);
    this.#entries.set(e.pid, e);
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
