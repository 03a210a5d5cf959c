/** The guard's Prometheus metric families; `GuardModule.metrics()` samples them. */
import { counter, gauge, type MetricFamily } from "../core/mod.ts";

export const ACTIONS = counter(
  "ironpost_guard_actions_total",
  "Response actions decided, by action and outcome",
  ["action", "outcome"],
);
export const QUEUE_DEPTH = gauge(
  "ironpost_guard_queue_depth",
  "Actions held while Docker is unreachable",
);
export const QUEUE_DROPPED = counter(
  "ironpost_guard_queue_dropped_total",
  "Actions not held because the queue was full (audited as failed)",
);
export const POLICIES = gauge("ironpost_guard_policies", "Response policies loaded");
export const ALERTS_SEEN = counter(
  "ironpost_guard_alerts_total",
  "Alerts the guard evaluated, by whether a policy matched",
  ["matched"],
);

export const GUARD_METRICS: readonly MetricFamily[] = [
  ACTIONS,
  QUEUE_DEPTH,
  QUEUE_DROPPED,
  POLICIES,
  ALERTS_SEEN,
];
