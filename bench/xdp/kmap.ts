/**
 * Read one slot of an Ironpost `counters` map (per-CPU array of struct counter) by map id,
 * so the bench can watch a filter it did not load (the agent's) and poll a single slot
 * with one syscall instead of `XdpFilter.counters()`'s sixteen.
 */
import { libbpfPath, numPossibleCpus } from "../../ffi/libbpf.ts";
import { closeFd, cstr, firstExisting, LIBC_PATHS } from "../../ffi/libc.ts";
import { SIZE } from "../../mod/ebpf/layout.ts";
import { must } from "./sys.ts";

const lib = Deno.dlopen(libbpfPath(), {
  bpf_map_get_fd_by_id: { parameters: ["u32"], result: "i32" },
  bpf_map_lookup_elem: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_prog_load: {
    parameters: ["u32", "buffer", "buffer", "buffer", "usize", "buffer"],
    result: "i32",
  },
  bpf_enable_stats: { parameters: ["u32"], result: "i32" },
});

/** Counter slot of (reason, verdict): reason * 2 + verdict (bpf/xdp_filter.h). */
export const SLOT = {
  nonePass: 0 * 2 + 0,
  blocklistDrop: 2 * 2 + 1,
  decisionDrop: 3 * 2 + 1,
} as const;

export class CounterMap {
  readonly fd: number;
  #cpus = numPossibleCpus();
  #key = new Uint8Array(4);
  #value: Uint8Array<ArrayBuffer>;
  #view: DataView;

  constructor(mapId: number) {
    this.fd = mapFdById(mapId);
    this.#value = new Uint8Array(SIZE.counter * this.#cpus);
    this.#view = new DataView(this.#value.buffer);
  }

  /** Packets counted in `slot`, summed over CPUs. */
  packets(slot: number): bigint {
    new DataView(this.#key.buffer).setUint32(0, slot, true);
    if (lib.symbols.bpf_map_lookup_elem(this.fd, this.#key, this.#value) !== 0) {
      throw new Error(`lookup of counter slot ${slot} failed`);
    }
    let n = 0n;
    for (let i = 0; i < this.#cpus; i++) n += this.#view.getBigUint64(i * SIZE.counter, true);
    return n;
  }

  close(): void {
    closeFd(this.fd);
  }
}

/** Id of the XDP program attached to `dev` (for libxdp's multi-program mode, the dispatcher). */
export async function xdpProgId(dev: string): Promise<number> {
  const net = JSON.parse(await must("bpftool", ["-j", "net", "show", "dev", dev]));
  const prog = net?.[0]?.xdp?.[0]?.id;
  if (typeof prog !== "number") throw new Error(`no XDP program on ${dev}`);
  return prog;
}

/** Map name -> map id of the XDP program attached to `dev` (via bpftool). */
export async function progMaps(dev: string): Promise<Map<string, number>> {
  const prog = await xdpProgId(dev);
  const info = JSON.parse(await must("bpftool", ["-j", "prog", "show", "id", String(prog)]));
  const out = new Map<string, number>();
  for (const id of info.map_ids ?? []) {
    const m = JSON.parse(await must("bpftool", ["-j", "map", "show", "id", String(id)]));
    out.set(m.name, id);
  }
  return out;
}

/** Id of the `counters` map of the XDP program attached to `dev`. */
export async function countersMapId(dev: string): Promise<number> {
  const id = (await progMaps(dev)).get("counters");
  if (id === undefined) throw new Error(`the XDP program on ${dev} has no "counters" map`);
  return id;
}

/** A new fd for map `id` (the caller closes it). */
export function mapFdById(id: number): number {
  const fd = lib.symbols.bpf_map_get_fd_by_id(id);
  if (fd < 0) throw new Error(`bpf_map_get_fd_by_id(${id}) failed: ${fd}`);
  return fd;
}

const libc = Deno.dlopen(firstExisting(LIBC_PATHS), {
  sched_yield: { parameters: [], result: "i32" },
  gettid: { parameters: [], result: "i32" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
});

/** sched_yield(2): let anything else runnable on this CPU go first. */
export function yieldCpu(): void {
  libc.symbols.sched_yield();
}

/** Give the calling thread (only) nice value `n`, so its polling loop yields to real work. */
export function niceThread(n: number): void {
  libc.symbols.setpriority(0, /* PRIO_PROCESS: a tid names one thread */ libc.symbols.gettid(), n);
}

/**
 * `return XDP_DROP;` as a 2-instruction XDP program (mov64 r0, 1; exit): attached natively, the
 * cost every native-XDP drop pays on this path before any filter logic. Returns the prog fd.
 */
export function loadXdpDrop(): number {
  const insns = new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  const opts = new Uint8Array(16); // struct bpf_prog_load_opts, up to expected_attach_type
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, 16n, true);
  v.setUint32(12, 37, true); // BPF_XDP
  const fd = lib.symbols.bpf_prog_load(
    6, /* BPF_PROG_TYPE_XDP */
    cstr("iptb_drop"),
    cstr("GPL"),
    insns,
    2n,
    opts,
  );
  if (fd < 0) throw new Error(`bpf_prog_load(XDP_DROP) failed: ${fd}`);
  return fd;
}

/**
 * BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): the kernel times every BPF program run while the
 * returned fd is open (closing it, or exiting, turns that off again).
 */
export function enableBpfStats(): number {
  const fd = lib.symbols.bpf_enable_stats(0);
  if (fd < 0) throw new Error(`bpf_enable_stats failed: ${fd}`);
  return fd;
}

/** run_time_ns and run_cnt of program `id` (counted only while stats are enabled). */
export async function progRunStats(id: number): Promise<{ ns: number; runs: number }> {
  const p = JSON.parse(await must("bpftool", ["-j", "prog", "show", "id", String(id)]));
  return { ns: Number(p.run_time_ns ?? 0), runs: Number(p.run_cnt ?? 0) };
}
