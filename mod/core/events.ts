import { monotonicFactory } from "ulid";

/** Severity of an alert, shared by Sigma levels, OSV scores and response policies. */
export type Severity = "info" | "low" | "medium" | "high" | "critical";

/** Ordered from least to most severe, for `>=` comparisons. */
export const SEVERITIES: readonly Severity[] = ["info", "low", "medium", "high", "critical"];

/** Fields every event carries. `id` is a ULID, so ids sort by creation time. */
export interface EventBase {
  id: string;
  /** RFC 3339 timestamp in UTC. */
  ts: string;
  host: string;
}

/** What the XDP/TC filter reports: a blocked source, a flood or a scan. */
export interface PacketEvent extends EventBase {
  kind: "packet";
  reason: "blocklist" | "decision" | "syn_flood" | "port_scan";
  verdict: "drop" | "pass";
  interface: string;
  srcIp: string;
  dstIp?: string;
  protocol: "tcp" | "udp" | "icmp" | "other";
  dstPort?: number;
  /** Packets seen for this source and reason since the last event (kernel-side sampling). */
  count: number;
  /** Distinct destination ports, for port scans. */
  ports?: number;
}

/** Container attribution shared by host events, alerts and actions. */
export interface ContainerRef {
  id: string;
  name: string;
  image: string;
  labels?: Record<string, string>;
}

export type HostAction =
  | "exec"
  | "rename"
  | "masquerade"
  | "open_write"
  | "open_read"
  | "unlink"
  | "chmod"
  | "chown"
  | "connect"
  | "accept";

/** What the kernel sensors report about a process, file or connection. */
export interface HostEvent extends EventBase {
  kind: "host";
  sensor: "process" | "file" | "network";
  /**
   * What happened: `exec` (a process started), `rename` (it changed its own name),
   * `masquerade` (its /proc view disagrees with the kernel's record); file `open_write`,
   * `open_read`, `unlink`, `rename`, `chmod`, `chown`; network `connect`, `accept`.
   * Only `exec` is a Sigma `process_creation`.
   */
  action: HostAction;
  pid: number;
  ppid?: number;
  uid?: number;
  image: string;
  commandLine?: string;
  container?: ContainerRef;
  /** Sigma field names (`TargetFilename`, `DestinationIp`, …) to their values. */
  fields: Record<string, string | number | boolean>;
}

/** A rule (Sigma, correlation or vulnerability) fired. */
export interface AlertEvent extends EventBase {
  kind: "alert";
  ruleId: string;
  title: string;
  severity: Severity;
  /** Producer that raised it: `log_pipeline`, `sbom`, … */
  source: string;
  tags: string[];
  description?: string;
  srcIp?: string;
  user?: string;
  container?: ContainerRef;
  /** The event(s) that matched, kept for the audit trail. */
  evidence: unknown[];
}

/** What a response can do: to a source address, or to a container. */
export type ActionKind =
  | "alert_only"
  | "block_ip"
  | "unblock_ip"
  | "pause"
  | "unpause"
  | "stop"
  | "kill"
  | "isolate"
  | "reconnect"
  | "disconnect";

/**
 * How a decided action ended: `planned` (decided, about to run), `done`, `would` (dry run:
 * decided and audited, not run), `failed` (after its retries), `suppressed` (a cooldown, the
 * rate cap or a protection stopped it), `gone` (the target vanished), `queued` (Docker is
 * down; it runs when Docker returns), `expired` (it waited too long for Docker), `skipped`
 * (nothing to do, e.g. an unblock of a source that was not blocked). `dry_run` is the
 * packet filter's older word for `would`.
 */
export type ActionOutcome =
  | "planned"
  | "done"
  | "would"
  | "failed"
  | "suppressed"
  | "gone"
  | "queued"
  | "expired"
  | "skipped"
  | "dry_run";

/** What the response side decided and did, for the audit trail. */
export interface ActionEvent extends EventBase {
  kind: "action";
  action: ActionKind;
  /** A container id or name, or an address/CIDR. */
  target: string;
  outcome: ActionOutcome;
  alertId?: string;
  /** Why: the policy and rule that asked for it, or why it was suppressed. */
  reason: string;
  error?: string;
  /** The response policy that decided it. */
  policyId?: string;
  /** Docker's (or the packet filter's) answer, as it gave it. */
  detail?: string;
  /** How long the action took, retries included. */
  durationMs?: number;
  container?: ContainerRef;
}

/**
 * A request to block or unblock a source in the packet filter, from the response side
 * (guard policies) or the operator (`ironpost block`).
 */
export interface DecisionEvent extends EventBase {
  kind: "decision";
  op: "block" | "unblock";
  /** An address or CIDR, v4 or v6. */
  cidr: string;
  /** Seconds until the block expires; 0 or absent: until unblocked. */
  ttlSecs?: number;
  reason: string;
  alertId?: string;
}

/** The closed union every channel carries a member of. */
export type IronpostEvent = PacketEvent | HostEvent | AlertEvent | ActionEvent | DecisionEvent;

const nextUlid = monotonicFactory();
let hostName: string | undefined;

/** This machine's host name, read once (needs `--allow-sys=hostname`). */
export function localHost(): string {
  if (hostName === undefined) {
    try {
      hostName = Deno.hostname();
    } catch {
      hostName = "unknown";
    }
  }
  return hostName;
}

/**
 * Fill in `id`, `ts` and `host` for a new event.
 *
 * @example
 * ```ts
 * import { type AlertEvent, newEvent } from "./events.ts";
 * const alert = newEvent<AlertEvent>({
 *   kind: "alert", ruleId: "r1", title: "t", severity: "high",
 *   source: "test", tags: [], evidence: [],
 * });
 * console.assert(alert.id.length === 26);
 * ```
 */
export function newEvent<E extends IronpostEvent>(
  fields: Omit<E, "id" | "ts" | "host"> & Partial<EventBase>,
): E {
  return {
    id: fields.id ?? nextUlid(),
    ts: fields.ts ?? new Date().toISOString(),
    host: fields.host ?? localHost(),
    ...fields,
  } as E;
}

/** True when `a` is at least as severe as `b`. */
export function severityAtLeast(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b);
}
