/**
 * One loaded and attached copy of bpf/xdp_filter.bpf.o on one interface, and the map
 * operations the module needs. Policy (what goes in the lists, when decisions expire)
 * stays in module.ts.
 */
import * as bpf from "../../ffi/libbpf.ts";
import { BpfError, ENOENT } from "../../ffi/errno.ts";
import { closeFd, ifNameToIndex } from "../../ffi/libc.ts";
import type { Cidr } from "../core/mod.ts";
import { cidrKey } from "./lists.ts";
import {
  COUNTER_SLOTS,
  decodeEvent,
  encodeConfig,
  encodeDecision,
  encodeLpmKey,
  REASONS,
  SIZE,
  sumCounters,
  VERDICTS,
  type XdpConfig,
  type XdpEventRecord,
} from "./layout.ts";

export type AttachMode = "xdp-native" | "xdp-generic" | "tcx" | "tc-legacy";

/** The programs of one filter attached to one interface, detached together. */
export interface Attachment {
  readonly mode: AttachMode;
  /** Why the attach mode is not the one asked for (auto fell back), if it is not. */
  readonly fallback?: string;
  /** Detach: close the links, remove classic tc filters and the hook they made. */
  detach(): void;
}

export interface XdpAttachOptions {
  /** The loaded XDP program's fd. */
  program: number;
  ifindex: number;
  /** The interface's name, for messages. */
  ifname: string;
  /** auto: native, or generic where the driver has no XDP (not when it is busy or denied). */
  mode: "auto" | "native" | "generic";
}

/** Attach an XDP program with a BPF link (it goes when the agent's last fd does). */
export function attachXdp(o: XdpAttachOptions): Attachment {
  const where = `interface ${o.ifname}`;
  const link = (flags: number) =>
    bpf.linkCreate(o.program, o.ifindex, bpf.ATTACH.XDP, flags, where);
  if (o.mode === "generic") return linked("xdp-generic", [link(bpf.XDP_FLAGS.SKB_MODE)]);
  try {
    return linked("xdp-native", [link(bpf.XDP_FLAGS.DRV_MODE)]);
  } catch (err) {
    if (
      o.mode === "native" || !(err instanceof BpfError) || err.code === "EPERM" ||
      err.code === "EBUSY"
    ) {
      throw err;
    }
    return linked(
      "xdp-generic",
      [link(bpf.XDP_FLAGS.SKB_MODE)],
      `native XDP is not available on ${o.ifname} (${err.code}); running in generic mode, which costs more CPU per packet`,
    );
  }
}

export interface TcAttachOptions {
  /** The loaded ingress and egress programs' fds. */
  ingress: number;
  egress: number;
  ifindex: number;
  /** The interface's name, for messages. */
  ifname: string;
}

/**
 * Attach ingress and egress TC programs with tcx links, or, on kernels before 6.6 (no tcx),
 * as classic clsact filters, which are removed on detach but outlive a killed agent.
 */
export function attachTc(o: TcAttachOptions): Attachment {
  const where = `interface ${o.ifname}`;
  const links: number[] = [];
  try {
    links.push(bpf.linkCreate(o.ingress, o.ifindex, bpf.ATTACH.TCX_INGRESS, 0, where));
    links.push(bpf.linkCreate(o.egress, o.ifindex, bpf.ATTACH.TCX_EGRESS, 0, where));
    return linked("tcx", links);
  } catch (err) {
    for (const l of links.splice(0)) closeFd(l);
    if (!(err instanceof BpfError) || err.code === "EPERM") throw err;
    const both = bpf.TC.INGRESS | bpf.TC.EGRESS;
    bpf.tcHookCreate(o.ifindex, both);
    const filters = [
      bpf.tcAttach(o.ifindex, bpf.TC.INGRESS, o.ingress),
      bpf.tcAttach(o.ifindex, bpf.TC.EGRESS, o.egress),
    ];
    return {
      mode: "tc-legacy",
      fallback:
        `tcx links are not available (${err.code}); using classic tc filters, which a killed agent leaves attached`,
      detach() {
        for (const f of filters) bpf.tcDetach(f);
        bpf.tcHookDestroy(o.ifindex, both);
      },
    };
  }
}

function linked(mode: AttachMode, links: number[], fallback?: string): Attachment {
  return {
    mode,
    fallback,
    detach() {
      for (const fd of links) closeFd(fd);
    },
  };
}

export interface FilterOptions {
  ifname: string;
  mode: "xdp" | "tc";
  xdpMode: XdpAttachOptions["mode"];
  config: XdpConfig;
  maxDecisions: number;
  /** Most entries in each allow/block trie (LPM tries allocate on insert, so this is a cap). */
  listCapacity: number;
}

/** The lists a filter holds, keyed for diffing. */
type ListKind = "allow" | "block";

const LISTS = ["allow_v4", "allow_v6", "block_v4", "block_v6"];
const DECISION_MAPS = ["decisions_v4", "decisions_v6"];
const MAPS = [...LISTS, ...DECISION_MAPS, "counters", "event_drops", "events"];

export class XdpFilter {
  readonly ifname: string;
  readonly ifindex: number;
  readonly mode: AttachMode;
  /** Why the attach mode is not the one asked for (auto fell back), if it is not. */
  readonly fallback?: string;
  #obj: bpf.OpenedObject;
  #fds: Record<string, number>;
  #attachment: Attachment;
  #ring?: bpf.RingBuffer;
  #lists: Record<ListKind, Map<string, Cidr>> = { allow: new Map(), block: new Map() };
  #cpus: number;
  #closed = false;

  private constructor(
    ifname: string,
    ifindex: number,
    obj: bpf.OpenedObject,
    fds: Record<string, number>,
    attachment: Attachment,
  ) {
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.mode = attachment.mode;
    this.fallback = attachment.fallback;
    this.#obj = obj;
    this.#fds = fds;
    this.#attachment = attachment;
    this.#cpus = bpf.numPossibleCpus();
  }

  /** Load the object with `opts.config` and attach it to `opts.ifname`. */
  static open(object: Uint8Array, opts: FilterOptions): XdpFilter {
    const ifindex = ifNameToIndex(opts.ifname);
    const o = bpf.objectOpenMem(object, "xdp_filter");
    try {
      const maps = bpf.listMaps(o.obj);
      const rodata = [...maps].find(([name]) => name.endsWith(".rodata"))?.[1];
      if (!rodata) {
        throw new BpfError("find .rodata", ENOENT, "xdp_filter.bpf.o has no .rodata map");
      }
      bpf.mapSetInitialValue(rodata, encodeConfig(opts.config));
      for (const name of LISTS) {
        bpf.mapSetMaxEntries(bpf.findMap(o.obj, name), opts.listCapacity);
      }
      for (const name of DECISION_MAPS) {
        bpf.mapSetMaxEntries(bpf.findMap(o.obj, name), opts.maxDecisions);
      }
      const xdp = bpf.findProgram(o.obj, "xdp_filter");
      const tcIn = bpf.findProgram(o.obj, "tc_ingress");
      const tcOut = bpf.findProgram(o.obj, "tc_egress");
      bpf.programSetAutoload(xdp, opts.mode === "xdp");
      bpf.programSetAutoload(tcIn, opts.mode === "tc");
      bpf.programSetAutoload(tcOut, opts.mode === "tc");
      bpf.objectLoad(o, "xdp_filter.bpf.o");

      const fds: Record<string, number> = {};
      for (const name of MAPS) fds[name] = bpf.mapFd(bpf.findMap(o.obj, name));
      const where = { ifindex, ifname: opts.ifname };
      const attachment = opts.mode === "xdp"
        ? attachXdp({ ...where, program: bpf.programFd(xdp), mode: opts.xdpMode })
        : attachTc({ ...where, ingress: bpf.programFd(tcIn), egress: bpf.programFd(tcOut) });
      return new XdpFilter(opts.ifname, ifindex, o, fds, attachment);
    } catch (err) {
      bpf.objectClose(o.obj);
      throw err;
    }
  }

  /**
   * Make a list hold exactly `next`: add what is new first, then delete what is gone, so the
   * list is never emptier than both the old and the new one during a reload.
   */
  replaceList(kind: ListKind, next: Cidr[]): { added: number; removed: number } {
    const cur = this.#lists[kind];
    const want = new Map<string, Cidr>();
    for (const c of next) want.set(cidrKey(c), c);
    const adds: [string, Cidr][] = [];
    for (const e of want) if (!cur.has(e[0])) adds.push(e);
    const removes: [string, Cidr][] = [];
    for (const e of cur) if (!want.has(e[0])) removes.push(e);
    const one = new Uint8Array([1]);
    for (const family of [4, 6] as const) {
      const batch = adds.filter(([, c]) => c.family === family).map(([, c]) => c);
      this.#bulkInsert(this.#fds[`${kind}_v${family}`], batch, family, one);
    }
    for (const [k, c] of adds) cur.set(k, c);
    for (const [k, c] of removes) {
      bpf.mapDelete(this.#fds[`${kind}_v${c.family}`], encodeLpmKey(c));
      cur.delete(k);
    }
    return { added: adds.length, removed: removes.length };
  }

  listSize(kind: ListKind): number {
    return this.#lists[kind].size;
  }

  putDecision(c: Cidr, expiresNs: bigint, reasonId: number): void {
    bpf.mapUpdate(
      this.#fds[`decisions_v${c.family}`],
      encodeLpmKey(c),
      encodeDecision(expiresNs, reasonId),
    );
  }

  deleteDecision(c: Cidr): boolean {
    return bpf.mapDelete(this.#fds[`decisions_v${c.family}`], encodeLpmKey(c));
  }

  /** Packets and bytes per (verdict, reason), summed over CPUs. */
  counters(): { verdict: string; reason: string; packets: bigint; bytes: bigint }[] {
    const out = [];
    const key = new Uint8Array(4);
    const value = new Uint8Array(SIZE.counter * this.#cpus);
    for (let slot = 0; slot < COUNTER_SLOTS; slot++) {
      new DataView(key.buffer).setUint32(0, slot, true);
      if (!bpf.mapLookup(this.#fds.counters, key, value)) continue;
      const sum = sumCounters(value, this.#cpus);
      out.push({ reason: REASONS[slot >> 1], verdict: VERDICTS[slot & 1], ...sum });
    }
    return out;
  }

  /** Ring-buffer records the kernel could not reserve room for. */
  eventDrops(): bigint {
    const value = new Uint8Array(8 * this.#cpus);
    if (!bpf.mapLookup(this.#fds.event_drops, new Uint8Array(4), value)) return 0n;
    const v = new DataView(value.buffer);
    let n = 0n;
    for (let i = 0; i < this.#cpus; i++) n += v.getBigUint64(i * 8, true);
    return n;
  }

  /** Read every record waiting in the ring buffer, without blocking. */
  pollEvents(onEvent: (e: XdpEventRecord | undefined) => void): number {
    this.#ring ??= bpf.ringBufferNew(this.#fds.events, (rec) => onEvent(decodeEvent(rec)));
    return bpf.ringBufferConsume(this.#ring);
  }

  /** Detach (closing the links) and free everything. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ring) bpf.ringBufferFree(this.#ring);
    this.#attachment.detach();
    bpf.objectClose(this.#obj.obj);
  }

  #bulkInsert(fd: number, list: Cidr[], family: 4 | 6, one: Uint8Array<ArrayBuffer>): void {
    if (list.length === 0) return;
    if (list.length >= 64) {
      // struct lpm_v4_key / lpm_v6_key packed back to back, written in place.
      const keySize = family === 4 ? SIZE.lpm_v4_key : SIZE.lpm_v6_key;
      const keys = new Uint8Array(list.length * keySize);
      const view = new DataView(keys.buffer);
      for (let i = 0; i < list.length; i++) {
        view.setUint32(i * keySize, list[i].prefix, true);
        keys.set(list[i].bytes, i * keySize + 4);
      }
      const values = new Uint8Array(list.length).fill(1);
      try {
        bpf.mapUpdateBatch(fd, keys, values, list.length);
        return;
      } catch (err) {
        // LPM tries gained batch ops late; fall back to one update per entry.
        if (
          !(err instanceof BpfError) || !["EINVAL", "ENOTSUPP", "EOPNOTSUPP"].includes(err.code)
        ) throw err;
      }
    }
    for (const c of list) bpf.mapUpdate(fd, encodeLpmKey(c), one);
  }
}
