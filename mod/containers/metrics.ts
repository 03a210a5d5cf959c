/** The container inventory's metric families, declared once: the spec lists them, the inventory samples them. */
import { counter, gauge, type MetricFamily } from "../core/metrics.ts";

export const KNOWN = gauge("ironpost_containers_known", "Containers in the inventory");
export const DOCKER_CONNECTED = gauge(
  "ironpost_containers_docker_connected",
  "1 while the inventory follows Docker's events, 0 without Docker",
);
export const DOCKER_CONNECTS = counter(
  "ironpost_containers_docker_connects_total",
  "Successful connections to Docker",
);
export const DOCKER_FAILURES = counter(
  "ironpost_containers_docker_failures_total",
  "Failed connection attempts and lost connections to Docker",
);
export const EVENTS = counter(
  "ironpost_containers_events_total",
  "Docker container events applied",
);
export const RESOLVES = counter(
  "ironpost_containers_resolves_total",
  "On-demand inspects of unknown container ids, by result",
  ["result"],
);

/** Every family the container inventory exports. */
export const CONTAINER_METRICS: readonly MetricFamily[] = [
  KNOWN,
  DOCKER_CONNECTED,
  DOCKER_CONNECTS,
  DOCKER_FAILURES,
  EVENTS,
  RESOLVES,
];
