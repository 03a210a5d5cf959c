/** Health of one module, or of the whole agent (the worst of its modules). */
export type HealthState = "healthy" | "degraded" | "unhealthy";

export interface Health {
  state: HealthState;
  /** Why it is not healthy; empty when healthy. */
  reason?: string;
}

/** One Prometheus sample a module contributes to `/metrics`. */
export interface MetricSample {
  /** Full metric name, `ironpost_` prefix included; counters end in `_total`. */
  name: string;
  type: "counter" | "gauge";
  help: string;
  labels?: Record<string, string>;
  value: number;
}

/** An endpoint a module adds to the control API (e.g. the packet filter's `/decisions`). */
export interface ControlRoute {
  method: "GET" | "POST" | "DELETE";
  path: string;
  handle(req: Request): Response | Promise<Response>;
}

/** A JSON answer, as the control API and module routes give it (pretty, newline-ended). */
export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * The contract every capability implements. A module is constructed from its own config
 * section and the channels the orchestrator hands it; it never imports another module.
 */
export interface Module {
  readonly name: string;
  /** Acquire resources and begin producing/consuming. Throw to abort agent start. */
  start(): Promise<void>;
  /** Release everything. Consumers return once their input channels are drained. */
  stop(): Promise<void>;
  health(): Health;
  /** Apply what can change live after SIGHUP (rules, policies, lists). */
  reload?(section: unknown): Promise<void>;
  metrics?(): MetricSample[];
  /** Control API endpoints this module serves while it runs. */
  routes?(): ControlRoute[];
}

const RANK: Record<HealthState, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The worst of several health states. */
export function worstHealth(states: Iterable<HealthState>): HealthState {
  let worst: HealthState = "healthy";
  for (const s of states) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** Numeric value of a health state for gauges: 0 healthy, 1 degraded, 2 unhealthy. */
export function healthRank(state: HealthState): number {
  return RANK[state];
}
