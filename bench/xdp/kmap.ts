/**
 * Read one slot of an Ironpost `counters` map (per-CPU array of struct counter) by map id,
 * so the bench can watch a filter it did not load (the agent's) and poll a single slot
 * with one syscall instead of `XdpFilter.counters()`'s sixteen.
 */
import { libbpfPath, numPossibleCpus } from "../../ffi/libbpf.ts";
import { closeFd } from "../../ffi/libc.ts";
import { SIZE } from "../../mod/ebpf/layout.ts";
import { must } from "./sys.ts";

const lib = Deno.dlopen(libbpfPath(), {
  bpf_map_get_fd_by_id: { parameters: ["u32"], result: "i32" },
  bpf_map_lookup_elem: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
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
    this.fd = lib.symbols.bpf_map_get_fd_by_id(mapId);
    if (this.fd < 0) throw new Error(`bpf_map_get_fd_by_id(${mapId}) failed: ${this.fd}`);
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

/** Id of the `counters` map of the XDP program attached to `dev` (via bpftool). */
export async function countersMapId(dev: string): Promise<number> {
  const net = JSON.parse(await must("bpftool", ["-j", "net", "show", "dev", dev]));
  const prog = net?.[0]?.xdp?.[0]?.id;
  if (typeof prog !== "number") throw new Error(`no XDP program on ${dev}`);
  const info = JSON.parse(await must("bpftool", ["-j", "prog", "show", "id", String(prog)]));
  for (const id of info.map_ids ?? []) {
    const m = JSON.parse(await must("bpftool", ["-j", "map", "show", "id", String(id)]));
    if (m.name === "counters") return id;
  }
  throw new Error(`program ${prog} on ${dev} has no "counters" map`);
}
