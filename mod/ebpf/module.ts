import { getLogger } from "@logtape/logtape";
import { monotonicNs } from "../../ffi/libc.ts";
import { BpfError } from "../../ffi/errno.ts";
import {
  type ActionEvent,
  type Channel,
  type Cidr,
  type ControlRoute,
  type DecisionEvent,
  errorMessage,
  formatIp,
  type Health,
  IronpostError,
  jsonResponse,
  maskBytes,
  type MetricSample,
  type Module,
  newEvent,
  type PacketEvent,
  parseIp,
  sample,
  sshClientAddress,
  type Store,
} from "../core/mod.ts";
import type { EbpfConfig } from "./spec.ts";
import { type Decision, DecisionTable } from "./decisions.ts";
import { XdpFilter } from "./filter.ts";
import type { XdpEventRecord } from "./layout.ts";
import { collectCidrs } from "./lists.ts";
import { BYTES, DECISIONS, EVENTS_DROPPED, LIST_ENTRIES, PACKETS } from "./metrics.ts";
import { checkBlockTtlSecs, parseBlockTtl } from "./ttl.ts";

import { XDP_OBJECT_PATH } from "./object_path.ts";

const CHECKPOINT = "ebpf.decisions";
const POLL_MS = 25;
const SWEEP_MS = 1000;

/** How a block request may go beyond the module's limits, and whom it must spare. */
export interface BlockOptions {
  /** Accept a block wider than `max_block_prefix_v4`/`_v6` (`ironpost block --force`). */
  force?: boolean;
  /**
   * Addresses the requester is connected from (the CLI's `SSH_CONNECTION` client address),
   * spared like the agent's own operator: a block containing one is refused, even forced.
   */
  operators?: string[];
}

export interface EbpfChannels {
  /** Ring-buffer records become PacketEvents here (trySend: the kernel cannot wait). */
  packets?: Channel<PacketEvent>;
  /** Every decision applied is audited as an ActionEvent. */
  actions?: Channel<ActionEvent>;
  /** Block/unblock requests from the response side. */
  decisions?: Channel<DecisionEvent>;
}

/**
 * The packet filter: loads bpf/xdp_filter.bpf.o on each configured interface (XDP, or TC
 * where XDP cannot run), keeps its allow/block lists and live decisions in the kernel maps,
 * and turns what the kernel reports into PacketEvents.
 */
export class EbpfModule implements Module {
  readonly name = "ebpf";
  #cfg: EbpfConfig;
  #ch: EbpfChannels;
  #store: Store;
  #filters: XdpFilter[] = [];
  #table: DecisionTable;
  #timers: ReturnType<typeof setInterval>[] = [];
  #consumer?: Promise<void>;
  #log = getLogger(["ironpost", "ebpf"]);
  #eventsDropped = 0;
  #eventsMalformed = 0;
  #persisting?: Promise<void>;
  #persistAgain = false;
  #lastError?: string;
  /** The allowlist in force (config and files), to say when a block is a no-op. */
  #allow: Cidr[] = [];
  /** The client address of the SSH session the agent was started from, if any. */
  #startOperator?: string;

  constructor(cfg: EbpfConfig, channels: EbpfChannels, store: Store) {
    this.#cfg = cfg;
    this.#ch = channels;
    this.#store = store;
    this.#table = new DecisionTable(cfg.max_decisions);
    this.#startOperator = sshClientAddress(readEnv("SSH_CONNECTION"));
  }

  async start(): Promise<void> {
    const object = await Deno.readFile(XDP_OBJECT_PATH);
    const allow = await collectCidrs(this.#cfg.allowlist, this.#cfg.allowlist_files);
    const block = await collectCidrs(this.#cfg.blocklist, this.#cfg.blocklist_files);
    const capacity = Math.max(2_000_000, allow.length, block.length);
    this.#allow = allow;
    if (this.#startOperator) {
      this.#log.info("the operator's address {ip} (SSH_CONNECTION at start) cannot be blocked", {
        ip: this.#startOperator,
      });
    }
    try {
      for (const ifname of this.#cfg.interface) {
        const f = XdpFilter.open(object, {
          ifname,
          mode: this.#cfg.mode,
          xdpMode: this.#cfg.xdp_mode,
          maxDecisions: this.#cfg.max_decisions,
          listCapacity: capacity,
          config: {
            synRate: this.#cfg.syn_rate_per_sec,
            synBurst: this.#cfg.syn_burst,
            scanWindowNs: BigInt(this.#cfg.portscan_window_secs) * 1_000_000_000n,
            scanThreshold: this.#cfg.portscan_threshold,
            scanBlock: this.#cfg.portscan_action === "block",
            sampleRate: this.#cfg.event_sample_rate,
          },
        });
        this.#filters.push(f);
        // Allowlist first: the operator's way in is there before any block is.
        f.replaceList("allow", allow);
        f.replaceList("block", block);
        if (f.fallback) this.#log.warn("{ifname}: {reason}", { ifname, reason: f.fallback });
        this.#log.info("filter attached to {ifname} ({mode}): {allow} allowed, {block} blocked", {
          ifname,
          mode: f.mode,
          allow: allow.length,
          block: block.length,
        });
      }
    } catch (err) {
      this.#closeFilters();
      throw explain(err);
    }
    await this.#restoreDecisions();
    this.#timers.push(setInterval(() => this.#poll(), POLL_MS));
    this.#timers.push(setInterval(() => this.#sweep(), SWEEP_MS));
    const input = this.#ch.decisions;
    if (input) {
      this.#consumer = (async () => {
        for await (const d of input) await this.#fromChannel(d);
      })();
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    this.#poll();
    // Decisions already queued are applied before detach, then persisted.
    await this.#consumer;
    this.#closeFilters();
    await this.#persist();
  }

  health(): Health {
    if (this.#filters.length === 0) return { state: "unhealthy", reason: "no filter attached" };
    if (this.#lastError) return { state: "degraded", reason: this.#lastError };
    const fallbacks = this.#filters.map((f) => f.fallback).filter(Boolean);
    if (fallbacks.length > 0) return { state: "degraded", reason: fallbacks.join("; ") };
    return { state: "healthy" };
  }

  async reload(section: unknown): Promise<void> {
    const cfg = section as EbpfConfig;
    const allow = await collectCidrs(cfg.allowlist, cfg.allowlist_files);
    const block = await collectCidrs(cfg.blocklist, cfg.blocklist_files);
    this.#allow = allow;
    for (const f of this.#filters) {
      const a = f.replaceList("allow", allow);
      const b = f.replaceList("block", block);
      this.#log.info("SIGHUP: {ifname} allowlist +{aa}/-{ar}, blocklist +{ba}/-{br}", {
        ifname: f.ifname,
        aa: a.added,
        ar: a.removed,
        ba: b.added,
        br: b.removed,
      });
    }
    for (
      const key of [
        "interface",
        "mode",
        "xdp_mode",
        "syn_rate_per_sec",
        "syn_burst",
        "portscan_threshold",
        "portscan_window_secs",
        "portscan_action",
        "event_sample_rate",
        "max_decisions",
      ] as const
    ) {
      if (JSON.stringify(cfg[key]) !== JSON.stringify(this.#cfg[key])) {
        this.#log.warn("SIGHUP: ebpf.{key} changed; it takes effect after a restart", { key });
      }
    }
    this.#cfg = {
      ...this.#cfg,
      allowlist: cfg.allowlist,
      blocklist: cfg.blocklist,
      allowlist_files: cfg.allowlist_files,
      blocklist_files: cfg.blocklist_files,
      max_block_prefix_v4: cfg.max_block_prefix_v4,
      max_block_prefix_v6: cfg.max_block_prefix_v6,
    };
  }

  /**
   * Block `cidrText` for `ttlSecs` (0: until unblocked; at most 365 d). Takes effect in the
   * kernel before it returns; persisted so it survives a restart with the time it has left.
   *
   * Refused (nothing applied) with `E_TTL` for a TTL out of range, `E_BLOCK_TOO_WIDE` for a
   * network wider than `max_block_prefix_v4`/`_v6` unless `opts.force`, and
   * `E_BLOCK_OPERATOR` for one containing the operator's own address (the SSH client the
   * agent was started from, or one of `opts.operators`), forced or not.
   */
  block(
    cidrText: string,
    ttlSecs: number,
    reason: string,
    alertId?: string,
    opts: BlockOptions = {},
  ): Decision {
    const net = DecisionTable.parse(cidrText);
    if (typeof net === "string") {
      throw new IronpostError("E_DECISION", `Cannot block ${cidrText}: ${net}`, { cidr: cidrText });
    }
    checkBlockTtlSecs(ttlSecs);
    this.#checkWidth(net, opts.force ?? false);
    this.#checkOperators(net, opts.operators ?? []);
    if (!this.#table.get(net) && this.#table.size >= this.#table.capacity) {
      throw new IronpostError(
        "E_DECISION_FULL",
        `Cannot block ${cidrText}: ${this.#table.size} decisions already held (ebpf.max_decisions)`,
        { cidr: cidrText },
      );
    }
    const now = Date.now();
    const expiresAt = ttlSecs > 0 ? now + ttlSecs * 1000 : 0;
    this.#install(net, expiresAt, reason);
    const d = this.#table.set(net, { expiresAt, reason, createdAt: now, alertId });
    this.#schedulePersist();
    return d;
  }

  /** Remove a decision; false when there was none for exactly this network. */
  unblock(cidrText: string): boolean {
    const net = DecisionTable.parse(cidrText);
    if (typeof net === "string") {
      throw new IronpostError("E_DECISION", `Cannot unblock ${cidrText}: ${net}`, {
        cidr: cidrText,
      });
    }
    for (const f of this.#filters) f.deleteDecision(net);
    const had = this.#table.delete(net);
    if (had) this.#schedulePersist();
    return had;
  }

  decisions(): Decision[] {
    return this.#table.list();
  }

  /**
   * What the allowlist does to a block of `cidrText`: an entry containing it makes the block
   * a no-op (the allowlist wins over every block); entries inside it stay passed.
   */
  allowlistWarnings(cidrText: string): string[] {
    const net = DecisionTable.parse(cidrText);
    if (typeof net === "string") return [];
    const text = cidrText_(net);
    const inside: string[] = [];
    for (const a of this.#allow) {
      if (contains(a, net)) {
        return [
          `allowlist entry ${
            cidrText_(a)
          } contains ${text}: the allowlist wins over every block, so this block drops nothing`,
        ];
      }
      if (contains(net, a)) inside.push(cidrText_(a));
    }
    if (inside.length === 0) return [];
    const shown = inside.slice(0, 5).join(", ") + (inside.length > 5 ? ", …" : "");
    return [
      `${inside.length} allowlist entr${
        inside.length === 1 ? "y" : "ies"
      } inside ${text} (${shown}) stay passed: the allowlist wins over every block`,
    ];
  }

  /** Refuse a network wider than the configured limit for its family, unless forced. */
  #checkWidth(net: Cidr, force: boolean): void {
    const key = net.family === 4 ? "max_block_prefix_v4" : "max_block_prefix_v6";
    const limit = this.#cfg[key] ?? (net.family === 4 ? 8 : 32);
    if (net.prefix >= limit || force) return;
    const size = 2n ** BigInt((net.family === 4 ? 32 : 128) - net.prefix);
    throw new IronpostError(
      "E_BLOCK_TOO_WIDE",
      `Refusing to block ${cidrText_(net)}: wider than /${limit} (ebpf.${key}); it would drop ${
        net.family === 4 ? size.toString() : `2^${128 - net.prefix}`
      } addresses${
        net.prefix === 0 ? ", every source not allowlisted" : ""
      }. Pass --force (ironpost block --force) to block it anyway`,
      { cidr: cidrText_(net), limit, key },
    );
  }

  /** Refuse a network containing an operator's address, forced or not. */
  #checkOperators(net: Cidr, requesters: string[]): void {
    const candidates: [string | undefined, string][] = [
      [this.#startOperator, "the SSH session the agent was started from"],
      ...requesters.map((ip): [string | undefined, string] => [
        sshClientAddress(ip),
        "the SSH session this request came from",
      ]),
    ];
    for (const [ip, whose] of candidates) {
      if (!ip) continue;
      const a = parseIp(ip);
      if (!a || a.family !== net.family) continue;
      const masked = maskBytes(a.bytes, net.prefix);
      if (!masked.every((b, i) => b === net.bytes[i])) continue;
      throw new IronpostError(
        "E_BLOCK_OPERATOR",
        `Refusing to block ${
          cidrText_(net)
        }: it contains ${ip}, the operator's own address (${whose}, SSH_CONNECTION); ` +
          `the operator's source is never blocked, not even with --force`,
        { cidr: cidrText_(net), operator: ip },
      );
    }
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    let kernelDrops = 0n;
    for (const f of this.#filters) {
      for (const c of f.counters()) {
        const labels = { verdict: c.verdict, reason: c.reason, interface: f.ifname };
        out.push(sample(PACKETS, c.packets, labels), sample(BYTES, c.bytes, labels));
      }
      kernelDrops += f.eventDrops();
      for (const list of ["allow", "block"] as const) {
        out.push(sample(LIST_ENTRIES, f.listSize(list), { list, interface: f.ifname }));
      }
    }
    out.push(
      sample(DECISIONS, this.#table.size),
      sample(EVENTS_DROPPED, kernelDrops, { where: "kernel" }),
      sample(EVENTS_DROPPED, this.#eventsDropped, { where: "channel" }),
      sample(EVENTS_DROPPED, this.#eventsMalformed, { where: "decode" }),
    );
    return out;
  }

  routes(): ControlRoute[] {
    return [
      {
        method: "GET",
        path: "/decisions",
        handle: () => jsonResponse(200, { decisions: this.decisions() }),
      },
      {
        method: "POST",
        path: "/decisions",
        handle: async (req) => {
          const q = new URL(req.url).searchParams;
          const cidr = q.get("cidr") ?? "";
          const reason = q.get("reason") || "manual block (ironpost block)";
          try {
            const ttlText = q.get("ttl");
            if (ttlText === null) {
              throw new IronpostError(
                "E_TTL",
                `a block needs a ttl: a duration from 1s to 365d, or "permanent"`,
              );
            }
            const ttl = parseBlockTtl(ttlText);
            const d = this.block(cidr, ttl, reason, undefined, {
              force: truthy(q.get("force")),
              operators: q.getAll("operator"),
            });
            const warnings = this.allowlistWarnings(d.cidr);
            for (const w of warnings) {
              this.#log.warn("block {cidr}: {warning}", { cidr, warning: w });
            }
            await this.#audit("block_ip", d.cidr, d.reason, "done");
            return jsonResponse(201, { decision: d, warnings });
          } catch (err) {
            const code = err instanceof IronpostError ? err.code : "E_DECISION";
            if (code.startsWith("E_BLOCK_")) {
              this.#log.warn("refused block {cidr}: {error}", { cidr, error: errorMessage(err) });
              await this.#audit("block_ip", cidr, reason, "failed", undefined, errorMessage(err));
            }
            return jsonResponse(400, { error: errorMessage(err), code });
          }
        },
      },
      {
        method: "DELETE",
        path: "/decisions",
        handle: async (req) => {
          const cidr = new URL(req.url).searchParams.get("cidr") ?? "";
          try {
            if (!this.unblock(cidr)) return jsonResponse(404, { error: `no decision for ${cidr}` });
            await this.#audit("unblock_ip", cidr, "manual unblock (ironpost unblock)", "done");
            return jsonResponse(200, { removed: cidr });
          } catch (err) {
            return jsonResponse(400, { error: errorMessage(err) });
          }
        },
      },
    ];
  }

  #install(
    net: Cidr,
    expiresAt: number,
    reason: string,
  ) {
    const remainingMs = expiresAt === 0 ? 0 : expiresAt - Date.now();
    const expiresNs = expiresAt === 0
      ? 0n
      : monotonicNs() + BigInt(Math.max(1, remainingMs)) * 1_000_000n;
    const id = this.#table.reasonId(reason);
    for (const f of this.#filters) f.putDecision(net, expiresNs, id);
  }

  async #fromChannel(d: DecisionEvent): Promise<void> {
    try {
      if (d.op === "block") {
        // Same limits as the CLI's, never forced: a rule cannot take the host off the net.
        const applied = this.block(d.cidr, d.ttlSecs ?? 0, d.reason, d.alertId);
        for (const w of this.allowlistWarnings(applied.cidr)) {
          this.#log.warn("block {cidr}: {warning}", { cidr: applied.cidr, warning: w });
        }
        await this.#audit("block_ip", applied.cidr, d.reason, "done", d.alertId);
      } else {
        const had = this.unblock(d.cidr);
        await this.#audit("unblock_ip", d.cidr, d.reason, had ? "done" : "skipped", d.alertId);
      }
    } catch (err) {
      this.#log.error("decision {op} {cidr} failed: {error}", {
        op: d.op,
        cidr: d.cidr,
        error: errorMessage(err),
      });
      await this.#audit(
        d.op === "block" ? "block_ip" : "unblock_ip",
        d.cidr,
        d.reason,
        "failed",
        d.alertId,
        errorMessage(err),
      );
    }
  }

  async #audit(
    action: "block_ip" | "unblock_ip",
    target: string,
    reason: string,
    outcome: ActionEvent["outcome"],
    alertId?: string,
    error?: string,
  ): Promise<void> {
    await this.#ch.actions?.send(
      newEvent<ActionEvent>({ kind: "action", action, target, outcome, reason, alertId, error }),
    );
  }

  async #restoreDecisions(): Promise<void> {
    const { decisions, skipped } = DecisionTable.fromJSON(
      await this.#store.getCheckpoint(CHECKPOINT),
    );
    const now = Date.now();
    let restored = 0;
    for (const d of decisions) {
      if (d.expiresAt !== 0 && d.expiresAt <= now) continue;
      const net = DecisionTable.parse(d.cidr);
      if (typeof net === "string") continue;
      this.#install(net, d.expiresAt, d.reason);
      this.#table.set(net, d);
      restored++;
    }
    if (restored || skipped) {
      this.#log.info(
        "restored {restored} decision(s) with their remaining TTL ({skipped} unreadable)",
        { restored, skipped },
      );
    }
  }

  #poll(): void {
    for (const f of this.#filters) {
      try {
        f.pollEvents((rec) => this.#onRecord(f, rec));
      } catch (err) {
        this.#lastError = `reading events on ${f.ifname}: ${errorMessage(err)}`;
      }
    }
  }

  #onRecord(f: XdpFilter, rec: XdpEventRecord | undefined): void {
    if (!rec) {
      this.#eventsMalformed++;
      return;
    }
    if (
      rec.reason !== "blocklist" && rec.reason !== "decision" && rec.reason !== "syn_flood" &&
      rec.reason !== "port_scan"
    ) return;
    const event = newEvent<PacketEvent>({
      kind: "packet",
      reason: rec.reason,
      verdict: rec.verdict,
      interface: f.ifname,
      srcIp: rec.src,
      dstIp: rec.dst,
      protocol: rec.proto === 6
        ? "tcp"
        : rec.proto === 17
        ? "udp"
        : rec.proto === 1 || rec.proto === 58
        ? "icmp"
        : "other",
      ...(rec.dport ? { dstPort: rec.dport } : {}),
      count: rec.reason === "port_scan" ? 1 : rec.count,
      ...(rec.reason === "port_scan" ? { ports: rec.count } : {}),
    });
    if (!this.#ch.packets?.trySend(event)) this.#eventsDropped++;
  }

  #sweep(): void {
    const gone = this.#table.expired(Date.now());
    for (const d of gone) {
      for (const f of this.#filters) f.deleteDecision(d.net);
      this.#table.delete(d.net);
    }
    if (gone.length > 0) this.#schedulePersist();
  }

  #schedulePersist(): void {
    if (this.#persisting) {
      this.#persistAgain = true;
      return;
    }
    this.#persisting = (async () => {
      do {
        this.#persistAgain = false;
        await this.#persist();
      } while (this.#persistAgain);
      this.#persisting = undefined;
    })();
  }

  async #persist(): Promise<void> {
    try {
      await this.#store.setCheckpoint(CHECKPOINT, this.#table.toJSON());
    } catch (err) {
      this.#lastError = `persisting decisions: ${errorMessage(err)}`;
    }
  }

  #closeFilters(): void {
    for (const f of this.#filters.splice(0)) {
      try {
        f.close();
      } catch (err) {
        this.#log.error("detaching from {ifname}: {error}", {
          ifname: f.ifname,
          error: errorMessage(err),
        });
      }
    }
  }
}

function truthy(v: string | null): boolean {
  return v !== null && ["1", "true", "yes", ""].includes(v.toLowerCase());
}

function cidrText_(net: Cidr): string {
  return `${formatIp(net.bytes)}/${net.prefix}`;
}

/** Whether `outer` contains every address of `inner`. */
function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const masked = maskBytes(inner.bytes, outer.prefix);
  return masked.every((b, i) => b === outer.bytes[i]);
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted: nothing to spare
  }
}

/** Add what a user needs to fix the common start failures. */
function explain(err: unknown): unknown {
  if (!(err instanceof BpfError)) return err;
  let uid = -1;
  try {
    uid = Deno.uid() ?? -1;
  } catch { /* no sys permission */ }
  const extra = err.code === "EPERM"
    ? ` (the agent runs as uid ${uid}; run it as root or grant CAP_BPF and CAP_NET_ADMIN)`
    : "";
  return new IronpostError(err.code, `eBPF filter: ${err.message}${extra}`, { ...err.context }, {
    cause: err,
  });
}
