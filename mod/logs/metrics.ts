/**
 * The log pipeline's metric families, declared once: the spec exports `LOG_METRICS`, the
 * module samples the named families.
 * @module
 */
import { counter, type MetricFamily } from "../core/mod.ts";

export const LOG_LINES = counter("ironpost_log_lines_total", "Lines read by a log source", [
  "source",
]);
export const LOG_BYTES = counter("ironpost_log_bytes_total", "Bytes read by a log source", [
  "source",
]);
export const LOG_LINES_TRUNCATED = counter(
  "ironpost_log_lines_truncated_total",
  "Lines cut at max_line_bytes / syslog_max_message_bytes",
  ["source"],
);
export const SYSLOG_UDP_KERNEL_DROPS = counter(
  "ironpost_log_syslog_udp_kernel_drops_total",
  "Datagrams the kernel dropped on a UDP syslog socket (receive buffer full), by SO_MEMINFO",
  ["source"],
);
export const LOG_EVENTS = counter("ironpost_log_events_total", "Events evaluated by the rules");
export const RULE_MATCHES = counter(
  "ironpost_rule_matches_total",
  "Rule matches (before correlation)",
);
export const ALERTS = counter("ironpost_alerts_total", "Alerts raised by the log pipeline");
export const ALERTS_SUPPRESSED = counter(
  "ironpost_alerts_suppressed_total",
  "Repeats of an alert within suppress_window_secs, counted not sent",
);
export const CORRELATION_EVICTIONS = counter(
  "ironpost_correlation_evictions_total",
  "Correlation groups evicted at correlation_max_groups",
);
export const RULE_RELOADS = counter(
  "ironpost_rule_reloads_total",
  "SIGHUP rule reloads by result",
  [
    "result",
  ],
);

/** Every family the log pipeline exports. */
export const LOG_METRICS: readonly MetricFamily[] = [
  LOG_LINES,
  LOG_BYTES,
  LOG_LINES_TRUNCATED,
  SYSLOG_UDP_KERNEL_DROPS,
  LOG_EVENTS,
  RULE_MATCHES,
  ALERTS,
  ALERTS_SUPPRESSED,
  CORRELATION_EVICTIONS,
  RULE_RELOADS,
];
