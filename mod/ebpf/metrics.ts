/** The packet filter's Prometheus metric families; `EbpfModule.metrics()` samples them. */
import { counter, gauge, type MetricFamily } from "../core/mod.ts";

/** Per interface, per (verdict, reason) of bpf/xdp_filter.h. */
type PacketLabels = "verdict" | "reason" | "interface";

export const PACKETS = counter<PacketLabels>(
  "ironpost_xdp_packets_total",
  "Packets seen by the XDP/TC filter by verdict and reason",
  ["verdict", "reason", "interface"],
);
export const BYTES = counter<PacketLabels>(
  "ironpost_xdp_bytes_total",
  "Bytes seen by the XDP/TC filter by verdict and reason",
  ["verdict", "reason", "interface"],
);
export const LIST_ENTRIES = gauge(
  "ironpost_xdp_list_entries",
  "CIDRs in the allow and block lists",
  ["list", "interface"],
);
export const DECISIONS = gauge("ironpost_xdp_decisions", "Live block decisions");
/** Filter events lost, by where: ring buffer full (kernel), packets channel full, undecodable. */
export const EVENTS_DROPPED = counter(
  "ironpost_xdp_events_dropped_total",
  "Filter events lost: kernel ring buffer full, packets channel full, or undecodable",
  ["where"],
);

/** Every family the filter reports. */
export const EBPF_METRICS: readonly MetricFamily<string>[] = [
  PACKETS,
  BYTES,
  LIST_ENTRIES,
  DECISIONS,
  EVENTS_DROPPED,
];
