import { getLogger } from "@logtape/logtape";
import { monotonicNs } from "../../ffi/libc.ts";
import { readProcLink } from "../../ffi/procfs.ts";
import {
  type Channel,
  type ContainerRef,
  type ControlRoute,
  errorMessage,
  type Health,
  type HostEvent,
  type MetricSample,
  type Module,
  newEvent,
  sample,
} from "../core/mod.ts";
import type { SensorsConfig } from "./spec.ts";
import { SENSORS_OBJECT_PATH } from "./object_path.ts";
import { ProcessTable } from "./process_table.ts";
import type { ProcInfo } from "./records.ts";
import { type CommRecord, type SensorRecord, toEvent } from "./descriptors.ts";
import { Sensor, type SensorCounters } from "./sensor.ts";
import type { EventContext } from "./to_event.ts";
import { UserNames } from "./users.ts";
import { EventStreams } from "./event_streams.ts";
import * as metric from "./metrics.ts";

/**
 * How long the reader sleeps between reads. The kernel wakes it earlier only when an
 * eighth of the ring buffer is in use (see submit() in bpf/sensors.bpf.c), so this bounds
 * the event latency while keeping wakeups to a few dozen a second under load.
 */
const WAIT_MS = 15;
/** How often the kernel's process records are compared with /proc. */
const MASQUERADE_CHECK_MS = 30_000;
/** Window over which the lost-record rate is judged for health. */
const LOSS_WINDOW_MS = 10_000;
/** How long a rename waits for the exec that would explain it (see #drain). */
const RENAME_HOLD_MS = 100;

/**
 * What the sensors need from the container inventory: the container a task runs in, by
 * its cgroup's leaf name (`<id>` or `docker-<id>.scope`) or its mount namespace.
 */
export interface ContainerLookup {
  lookupByCgroup(name: string): ContainerRef | undefined;
  lookupByMntns?(inum: number): ContainerRef | undefined;
  /** Ask Docker about a cgroup the inventory has not seen yet (a container just started). */
  resolveCgroup?(name: string): Promise<ContainerRef | undefined>;
}

export interface SensorsChannels {
  /** HostEvents out. The module waits when the channel is full; the kernel then counts. */
  host?: Channel<HostEvent>;
}

export interface SensorsOptions {
  /** The process whose activity is never reported (default: this one). */
  agentPid?: number;
  containers?: ContainerLookup;
  /** The BPF object (default: the committed bpf/sensors.bpf.o). */
  objectPath?: string;
}

const CONTAINER_ID = /[0-9a-f]{64}/;

/**
 * Host sensors: loads bpf/sensors.bpf.o, attaches the programs of the enabled sensors,
 * and turns ring-buffer records into HostEvents carrying the parent's image and command
 * line and the container they came from. `GET /events` on the control API streams them.
 */
export class SensorsModule implements Module {
  readonly name = "sensors";
  #cfg: SensorsConfig;
  #ch: SensorsChannels;
  #opts: SensorsOptions;
  #sensor?: Sensor;
  #table: ProcessTable;
  #users = new UserNames();
  #streams = new EventStreams();
  #running = false;
  #loop?: Promise<void>;
  #wake?: () => void;
  #inflight?: Promise<void>;
  #timers: ReturnType<typeof setInterval>[] = [];
  #log = getLogger(["ironpost", "sensors"]);
  #wallOffsetNs = 0n;
  #hostMntns = 0;
  #delivered = 0;
  #masquerades = 0;
  #lossBase = { lost: 0n, seen: 0n, at: 0 };
  #lossRate = 0;
  #lastError?: string;
  #reported = new Set<string>();
  #pendingRenames = new Map<number, { rec: CommRecord; at: number }>();
  #context: EventContext;

  constructor(cfg: SensorsConfig, channels: SensorsChannels, opts: SensorsOptions = {}) {
    this.#cfg = cfg;
    this.#ch = channels;
    this.#opts = opts;
    this.#table = new ProcessTable(Number(cfg.process_table_size));
    this.#context = {
      table: this.#table,
      users: this.#users,
      container: (p) => this.#container(p),
      wallTime: (ts) => new Date(Number((ts + this.#wallOffsetNs) / 1_000_000n)).toISOString(),
    };
  }

  async start(): Promise<void> {
    const object = await Deno.readFile(this.#opts.objectPath ?? SENSORS_OBJECT_PATH);
    this.#syncClock();
    const mnt = readProcLink("/proc/1/ns/mnt")?.match(/\[(\d+)\]/);
    this.#hostMntns = mnt ? Number(mnt[1]) : 0;
    this.#sensor = Sensor.open(object, {
      exec: this.#cfg.exec,
      file: this.#cfg.file,
      network: this.#cfg.network,
      agentPid: this.#opts.agentPid ?? Deno.pid,
      trustedExecPrefixes: this.#cfg.trusted_exec_prefixes,
      watchPaths: this.#cfg.watch_paths,
      sensitiveReadPrefixes: this.#cfg.sensitive_read_prefixes,
      ignorePaths: this.#cfg.ignore_paths,
      ignoreComms: this.#cfg.ignore_comms,
      ringbufBytes: Number(this.#cfg.ringbuf_bytes),
      processTableSize: Number(this.#cfg.process_table_size),
    });
    this.#running = true;
    this.#loop = this.#run();
    this.#timers.push(setInterval(() => this.#syncClock(), 60_000));
    this.#timers.push(setInterval(() => this.checkMasquerade(), MASQUERADE_CHECK_MS));
    this.#timers.push(setInterval(() => this.#judgeLoss(), LOSS_WINDOW_MS));
    this.#log.info("host sensors attached: {sensors}", {
      sensors: ["exec", "file", "network"].filter((s) =>
        this.#cfg[s as "exec" | "file" | "network"]
      ).join(", "),
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#wake?.();
    await this.#loop;
    // The epoll wait runs on a pool thread: let it return before its fd is closed.
    await this.#inflight;
    // What is still in the ring buffer is handed over before the programs go.
    if (this.#sensor) {
      try {
        await this.#drain(true);
      } finally {
        this.#sensor.close();
        this.#sensor = undefined;
      }
    }
    this.#streams.closeAll();
  }

  health(): Health {
    if (!this.#sensor) return { state: "unhealthy", reason: this.#lastError ?? "not started" };
    const threshold = Number(this.#cfg.loss_threshold_percent);
    if (this.#lossRate * 100 > threshold) {
      return {
        state: "degraded",
        reason: `${(this.#lossRate * 100).toFixed(1)}% of kernel records lost in the last ` +
          `${LOSS_WINDOW_MS / 1000} s (threshold ${threshold}%): raise sensors.ringbuf_bytes ` +
          `or add trusted_exec_prefixes / ignore_paths`,
      };
    }
    if (this.#lastError) return { state: "degraded", reason: this.#lastError };
    return { state: "healthy" };
  }

  /** Kernel counters per record type, plus what reached the channel. */
  counters(): SensorCounters[] {
    return this.#sensor?.counters() ?? [];
  }

  get delivered(): number {
    return this.#delivered;
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const c of this.counters()) {
      for (const kind of ["emitted", "filtered", "lost"] as const) {
        out.push(sample(metric.RECORDS[kind], c[kind], { type: c.type }));
      }
    }
    out.push(
      sample(metric.EVENTS_DELIVERED, this.#delivered),
      sample(metric.PROCESS_TABLE_ENTRIES, this.#table.size),
      sample(metric.MASQUERADES, this.#masquerades),
      sample(metric.STREAM_DROPPED, this.#streams.dropped),
    );
    return out;
  }

  routes(): ControlRoute[] {
    return [{
      method: "GET",
      path: "/events",
      handle: (req) => this.#streams.open(new URL(req.url).searchParams),
    }];
  }

  /**
   * Compare the kernel's record of each process (exe at exec) with what /proc shows now;
   * a difference (prctl PR_SET_MM_EXE_FILE, a swapped binary) is reported once per process.
   * Returns how many were reported.
   */
  async checkMasquerade(): Promise<number> {
    if (!this.#sensor) return 0;
    const found: HostEvent[] = [];
    for (const k of this.#sensor.kernelProcesses()) {
      const now = readProcLink(`/proc/${k.pid}/exe`);
      if (now === undefined || k.exe === "") continue;
      const shown = now.replace(/ \(deleted\)$/, "");
      const key = `${k.pid}:${k.startNs}`;
      if (shown === k.exe || this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#masquerades++;
      found.push(newEvent<HostEvent>({
        kind: "host",
        sensor: "process",
        action: "masquerade",
        pid: k.pid,
        image: k.exe,
        fields: { Image: k.exe, ProcImage: shown, Comm: k.comm, ProcessId: k.pid },
      }));
    }
    if (this.#reported.size > 100_000) this.#reported.clear();
    for (const e of found) await this.#emit(e);
    return found.length;
  }

  #syncClock(): void {
    this.#wallOffsetNs = BigInt(Date.now()) * 1_000_000n - monotonicNs();
  }

  #container(p: ProcInfo): ContainerRef | undefined {
    const inv = this.#opts.containers;
    if (!inv) return undefined;
    if (CONTAINER_ID.test(p.cgroup)) {
      const c = inv.lookupByCgroup(p.cgroup);
      if (c) return c;
    }
    if (p.mntns !== this.#hostMntns && inv.lookupByMntns) return inv.lookupByMntns(p.mntns);
    return undefined;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let n = 0;
      try {
        n = await this.#drain();
      } catch (err) {
        this.#lastError = `reading the ring buffer: ${errorMessage(err)}`;
        this.#log.error(this.#lastError);
      }
      if (n === 0 && this.#running) {
        // Sleep in epoll: the kernel wakes us when records pile up, else WAIT_MS passes.
        this.#inflight = this.#sensor?.wait(WAIT_MS);
        await Promise.race([
          this.#inflight,
          new Promise<void>((resolve) => (this.#wake = resolve)),
        ]);
      }
    }
  }

  /**
   * Consume what is in the ring buffer and hand it on, in order. A rename is held back
   * briefly: the kernel renames every process at exec (to the new program's name) just
   * before it reports the exec, and that rename is not news; one not followed by an exec of
   * the same name within RENAME_HOLD_MS is a process renaming itself.
   */
  async #drain(final = false): Promise<number> {
    const batch: SensorRecord[] = [];
    this.#sensor?.poll((r) => batch.push(r));
    for (const r of batch) {
      if (r.type === "comm") {
        const earlier = this.#pendingRenames.get(r.p.pid);
        if (earlier) await this.#emitRecord(earlier.rec);
        this.#pendingRenames.set(r.p.pid, { rec: r, at: Date.now() });
        continue;
      }
      if (r.type === "exec") {
        const pending = this.#pendingRenames.get(r.p.pid);
        if (pending && pending.rec.newComm === r.p.comm) this.#pendingRenames.delete(r.p.pid);
      }
      await this.#emitRecord(r);
    }
    const now = Date.now();
    for (const [pid, { rec, at }] of this.#pendingRenames) {
      if (!final && now - at < RENAME_HOLD_MS) continue;
      this.#pendingRenames.delete(pid);
      await this.#emitRecord(rec);
    }
    return batch.length;
  }

  async #emitRecord(r: SensorRecord): Promise<void> {
    // A container started moments ago may not be in the inventory yet: ask Docker once
    // (the inventory rate-limits and caches misses) before the event is built.
    if (r.type !== "exit" && this.#opts.containers?.resolveCgroup) {
      const name = r.p.cgroup;
      if (CONTAINER_ID.test(name) && !this.#opts.containers.lookupByCgroup(name)) {
        await this.#opts.containers.resolveCgroup(name);
      }
    }
    const e = toEvent(this.#context, r);
    if (e) await this.#emit(e);
  }

  async #emit(e: HostEvent): Promise<void> {
    this.#streams.publish(e);
    if (this.#ch.host) {
      try {
        await this.#ch.host.send(e);
      } catch (err) {
        this.#lastError = `host channel: ${errorMessage(err)}`;
        return;
      }
    }
    this.#delivered++;
  }

  #judgeLoss(): void {
    let lost = 0n;
    let seen = 0n;
    for (const c of this.counters()) {
      lost += c.lost;
      seen += c.emitted + c.lost;
    }
    const dLost = lost - this.#lossBase.lost;
    const dSeen = seen - this.#lossBase.seen;
    this.#lossRate = dSeen > 0n ? Number(dLost) / Number(dSeen) : 0;
    this.#lossBase = { lost, seen, at: Date.now() };
  }
}
