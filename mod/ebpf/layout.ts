/**
 * TypeScript mirror of bpf/xdp_filter.h: sizes, offsets, encoders and decoders of every map
 * key/value and of the ring-buffer record. tests/ebpf/layout_test.ts checks these numbers
 * against the BTF of the built object, so C/TS drift fails a test instead of corrupting maps.
 */
import { type Cidr, formatIp } from "../core/mod.ts";

export const EVENT_VERSION = 1;

/** enum ironpost_reason, indexed by value. */
export const REASONS = [
  "none",
  "allowlist",
  "blocklist",
  "decision",
  "syn_flood",
  "port_scan",
  "not_ip",
  "malformed",
] as const;
export type Reason = (typeof REASONS)[number];
export const VERDICTS = ["pass", "drop"] as const;
export const COUNTER_SLOTS = REASONS.length * 2;

export const SIZE = {
  lpm_v4_key: 8,
  lpm_v6_key: 20,
  decision: 16,
  counter: 16,
  xdp_event: 64,
  xdp_config: 40,
} as const;

/** Offsets of struct xdp_event fields. */
export const EVENT_OFFSETS = {
  version: 0,
  size: 2,
  reason: 4,
  verdict: 5,
  family: 6,
  proto: 7,
  ifindex: 8,
  dport: 12,
  count: 16,
  ts_ns: 24,
  src: 32,
  dst: 48,
} as const;

/** Offsets of struct xdp_config fields. */
export const CONFIG_OFFSETS = {
  syn_rate: 0,
  syn_burst: 8,
  scan_window_ns: 16,
  scan_threshold: 24,
  scan_block: 28,
  sample_rate: 32,
} as const;

/** Settings written into .rodata before load. */
export interface XdpConfig {
  synRate: number;
  synBurst: number;
  scanWindowNs: bigint;
  scanThreshold: number;
  scanBlock: boolean;
  sampleRate: number;
}

export function encodeConfig(c: XdpConfig): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(SIZE.xdp_config);
  const v = new DataView(out.buffer);
  v.setBigUint64(CONFIG_OFFSETS.syn_rate, BigInt(c.synRate), true);
  v.setBigUint64(CONFIG_OFFSETS.syn_burst, BigInt(c.synBurst), true);
  v.setBigUint64(CONFIG_OFFSETS.scan_window_ns, c.scanWindowNs, true);
  v.setUint32(CONFIG_OFFSETS.scan_threshold, c.scanThreshold, true);
  v.setUint32(CONFIG_OFFSETS.scan_block, c.scanBlock ? 1 : 0, true);
  v.setUint32(CONFIG_OFFSETS.sample_rate, c.sampleRate, true);
  return out;
}

/** LPM trie key of a network: struct lpm_v4_key or lpm_v6_key. */
export function encodeLpmKey(c: Cidr): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(c.family === 4 ? SIZE.lpm_v4_key : SIZE.lpm_v6_key);
  new DataView(out.buffer).setUint32(0, c.prefix, true);
  out.set(c.bytes, 4);
  return out;
}

export function encodeDecision(expiresNs: bigint, reasonId: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(SIZE.decision);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, expiresNs, true);
  v.setUint32(8, reasonId, true);
  return out;
}

/** One ring-buffer record, decoded. */
export interface XdpEventRecord {
  reason: Reason;
  verdict: "pass" | "drop";
  family: 4 | 6;
  proto: number;
  ifindex: number;
  dport: number;
  count: number;
  tsNs: bigint;
  src: string;
  dst: string;
}

/** Decode a record; undefined for another version or a short record (counted by the caller). */
export function decodeEvent(rec: Uint8Array): XdpEventRecord | undefined {
  if (rec.length < SIZE.xdp_event) return undefined;
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  if (v.getUint16(EVENT_OFFSETS.version, true) !== EVENT_VERSION) return undefined;
  const family = v.getUint8(EVENT_OFFSETS.family) === 6 ? 6 : 4;
  const n = family === 4 ? 4 : 16;
  return {
    reason: REASONS[v.getUint8(EVENT_OFFSETS.reason)] ?? "none",
    verdict: v.getUint8(EVENT_OFFSETS.verdict) === 1 ? "drop" : "pass",
    family,
    proto: v.getUint8(EVENT_OFFSETS.proto),
    ifindex: v.getUint32(EVENT_OFFSETS.ifindex, true),
    dport: v.getUint16(EVENT_OFFSETS.dport, false), // network order
    count: v.getUint32(EVENT_OFFSETS.count, true),
    tsNs: v.getBigUint64(EVENT_OFFSETS.ts_ns, true),
    src: formatIp(rec.slice(EVENT_OFFSETS.src, EVENT_OFFSETS.src + n)),
    dst: formatIp(rec.slice(EVENT_OFFSETS.dst, EVENT_OFFSETS.dst + n)),
  };
}

/** Sum a per-CPU `struct counter` value (one 16-byte slot per possible CPU). */
export function sumCounters(value: Uint8Array, cpus: number): { packets: bigint; bytes: bigint } {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let packets = 0n, bytes = 0n;
  for (let i = 0; i < cpus; i++) {
    packets += v.getBigUint64(i * SIZE.counter, true);
    bytes += v.getBigUint64(i * SIZE.counter + 8, true);
  }
  return { packets, bytes };
}
