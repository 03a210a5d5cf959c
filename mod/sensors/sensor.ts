/**
 * The host sensors' BPF programs and maps, managed as one unit: open the committed object,
 * write the load-time settings, size the maps, load, fill the filter maps, attach the
 * programs of the enabled sensors, read the ring buffer and the counters, detach.
 * Policy (what to report, how to turn records into events) lives in module.ts.
 */
import * as bpf from "../../ffi/libbpf.ts";
import { BpfError, EAGAIN } from "../../ffi/errno.ts";
import { statIno } from "../../ffi/procfs.ts";
import { epollWaitAsync } from "../../ffi/libc.ts";
import { IronpostError } from "../core/mod.ts";
import {
  COMM_LEN,
  COUNTER_KINDS,
  COUNTER_SLOTS,
  ENABLE,
  encodeComm,
  encodeConfig,
  encodePathKey,
  MATCH,
  OFFSETS,
  REC_PATH_LEN,
  SIZE,
} from "./layout.ts";
import { decodeRecord, programsFor, type SensorRecord, SENSORS } from "./descriptors.ts";
import { cstring } from "./records.ts";

export interface SensorOptions {
  exec: boolean;
  file: boolean;
  network: boolean;
  /** Never reported: the agent's own process id. */
  agentPid: number;
  trustedExecPrefixes: string[];
  watchPaths: string[];
  sensitiveReadPrefixes: string[];
  ignorePaths: string[];
  ignoreComms: string[];
  ringbufBytes: number;
  processTableSize: number;
}

export class SensorError extends IronpostError {}

/** Prefix keys for one configured path: `p*` is a raw prefix; else the path and below. */
export function prefixKeys(path: string): string[] {
  if (path.endsWith("*")) return [path.slice(0, -1)];
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (p === "/") return ["/"];
  return [`${p}\0`, `${p}/`];
}

export interface SensorCounters {
  type: string;
  emitted: bigint;
  filtered: bigint;
  lost: bigint;
}

export class Sensor {
  #obj: bpf.Pointer;
  #links: bpf.Pointer[] = [];
  #ring?: bpf.RingBuffer;
  #fds: Record<string, number>;
  #cpus: number;
  #undecodable = 0;
  #closed = false;
  #epfd?: number;
  #onRecord: (r: SensorRecord) => void = () => {};

  private constructor(obj: bpf.Pointer, fds: Record<string, number>, cpus: number) {
    this.#obj = obj;
    this.#fds = fds;
    this.#cpus = cpus;
  }

  /**
   * Load and attach. On any failure everything acquired so far is released. The verifier
   * gives up with EAGAIN when a signal arrives while it works (a profiler, a busy
   * supervisor); the load is then tried again from a fresh open, a few times.
   */
  static open(object: Uint8Array, o: SensorOptions): Sensor {
    for (let attempt = 1;; attempt++) {
      try {
        return Sensor.#open(object, o);
      } catch (err) {
        if (!(err instanceof BpfError && err.errno === EAGAIN) || attempt >= 5) throw err;
      }
    }
  }

  static #open(object: Uint8Array, o: SensorOptions): Sensor {
    const opened = bpf.objectOpenMem(object, "sensors", 16 << 20);
    let sensor: Sensor | undefined;
    try {
      const maps = bpf.listMaps(opened.obj);
      const rodata = [...maps.entries()].find(([n]) => n.endsWith(".rodata"))?.[1];
      if (!rodata) throw new SensorError("E_SENSORS_OBJECT", "sensors object has no .rodata");
      const enable = (o.exec ? ENABLE.EXEC : 0) | (o.file ? ENABLE.FILE : 0) |
        (o.network ? ENABLE.NET : 0);
      // Wake the reader early only when an eighth of the ring is in use.
      bpf.mapSetInitialValue(rodata, encodeConfig(o.agentPid, enable, o.ringbufBytes / 8));
      bpf.mapSetMaxEntries(maps.get("events")!, o.ringbufBytes);
      bpf.mapSetMaxEntries(maps.get("procs")!, o.processTableSize);
      // Only the programs of the enabled sensors (descriptors.ts) load; the rest is maps.
      const wanted = programsFor(o);
      const programs = bpf.listPrograms(opened.obj);
      for (const [name, prog] of programs) bpf.programSetAutoload(prog, wanted.has(name));
      bpf.objectLoad(opened, "sensors");
      const fds: Record<string, number> = {};
      for (const [name, map] of maps) fds[name] = bpf.mapFd(map);
      sensor = new Sensor(opened.obj, fds, bpf.numPossibleCpus());
      sensor.#fill(o);
      for (const [name, prog] of programs) {
        if (wanted.has(name)) sensor.#links.push(bpf.programAttach(prog, name));
      }
      return sensor;
    } catch (err) {
      if (sensor) sensor.close();
      else bpf.objectClose(opened.obj);
      throw err;
    }
  }

  #fill(o: SensorOptions): void {
    const put = (map: string, key: Uint8Array<ArrayBuffer>, value: number) => {
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, value, true);
      bpf.mapUpdate(this.#fds[map], key, v);
    };
    const trie = (map: string, paths: string[], value: number) => {
      for (const p of paths) for (const k of prefixKeys(p)) put(map, encodePathKey(k), value);
    };
    trie("trusted_exec", o.trustedExecPrefixes, MATCH.TRUSTED_EXEC);
    trie("watch_paths", o.watchPaths, MATCH.WATCH);
    trie("ignore_paths", o.ignorePaths, MATCH.IGNORE);
    trie("sensitive_paths", o.sensitiveReadPrefixes, MATCH.SENSITIVE);
    // Reads are pre-filtered in the kernel by the inode of each sensitive prefix (or of a
    // directory above it); a prefix that does not exist yet is matched once it is created
    // and the agent reloads.
    for (const p of o.sensitiveReadPrefixes) {
      const path = p.endsWith("*") ? p.slice(0, p.lastIndexOf("/") + 1) || "/" : p;
      const ino = statIno(path);
      if (ino === undefined) continue; // absent for now
      const key = new Uint8Array(8);
      new DataView(key.buffer).setBigUint64(0, ino, true);
      put("sensitive_inodes", key, 1);
    }
    for (const c of o.ignoreComms) put("ignore_comms", encodeComm(c), 1);
  }

  /**
   * Read every record waiting in the ring buffer; returns how many. Records this build
   * cannot decode are counted (`undecodable`) and skipped.
   */
  poll(onRecord: (r: SensorRecord) => void): number {
    // libbpf keeps the first callback; each poll's handler is swapped in behind it.
    this.#onRecord = onRecord;
    const n = bpf.ringBufferConsume(this.#ringBuffer());
    this.#onRecord = () => {};
    return n;
  }

  /**
   * Wait until the ring buffer has records or `timeoutMs` pass (epoll on a pool thread, so
   * the event loop stays free and an idle agent does not poll).
   */
  async wait(timeoutMs: number): Promise<void> {
    this.#epfd ??= bpf.ringBufferEpollFd(this.#ringBuffer());
    await epollWaitAsync(this.#epfd, timeoutMs);
  }

  /** The ring buffer's reader, made on first use; it decodes into the current handler. */
  #ringBuffer(): bpf.RingBuffer {
    this.#ring ??= bpf.ringBufferNew(this.#fds.events, (raw) => {
      const r = decodeRecord(raw);
      if (r) this.#onRecord(r);
      else this.#undecodable++;
    });
    return this.#ring;
  }

  get undecodable(): number {
    return this.#undecodable;
  }

  /** Per-record-type counters summed over CPUs. */
  counters(): SensorCounters[] {
    const value = new Uint8Array(8 * this.#cpus);
    const sums: bigint[] = new Array(COUNTER_SLOTS).fill(0n);
    for (let slot = 0; slot < COUNTER_SLOTS; slot++) {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, slot, true);
      if (!bpf.mapLookup(this.#fds.counters, key, value)) continue;
      const v = new DataView(value.buffer);
      for (let c = 0; c < this.#cpus; c++) sums[slot] += v.getBigUint64(c * 8, true);
    }
    const out: SensorCounters[] = [];
    for (const { name, rec } of SENSORS) {
      const at = (k: (typeof COUNTER_KINDS)[number]) => sums[rec * 3 + COUNTER_KINDS.indexOf(k)];
      out.push({ type: name, emitted: at("emitted"), filtered: at("filtered"), lost: at("lost") });
    }
    return out;
  }

  /** The kernel's record of each live process it saw exec: pid → (exe, comm, uid, start). */
  *kernelProcesses(): Generator<{ pid: number; exe: string; comm: string; startNs: bigint }> {
    const key = new Uint8Array(4);
    const next = new Uint8Array(4);
    const value = new Uint8Array(SIZE.proc_entry);
    let first = true;
    while (bpf.mapNextKey(this.#fds.procs, first ? null : key, next)) {
      first = false;
      key.set(next);
      if (!bpf.mapLookup(this.#fds.procs, key, value)) continue;
      const v = new DataView(value.buffer);
      yield {
        pid: new DataView(key.buffer).getUint32(0, true),
        exe: cstring(value, OFFSETS.proc_entry.exe, REC_PATH_LEN),
        comm: cstring(value, OFFSETS.proc_entry.comm, COMM_LEN),
        startNs: v.getBigUint64(OFFSETS.proc_entry.start_ns, true),
      };
    }
  }

  /** Detach every program and free the object (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#links) bpf.linkDestroy(l);
    this.#links = [];
    if (this.#ring) bpf.ringBufferFree(this.#ring);
    this.#ring = undefined;
    bpf.objectClose(this.#obj);
  }
}
