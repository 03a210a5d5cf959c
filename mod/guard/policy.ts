/**
 * Response policies: what the container guard does when an alert arrives. A policy is an id,
 * a match on the alert (and the container it names) and an ordered list of actions. They are
 * written in TOML files in `container.policy_dir` (see `policy_load.ts` for the format) and
 * evaluated in file order, then in-file order; the first policy that matches wins unless it
 * says `continue = true`.
 * @module
 */
import type { Cidr, Diagnostic, Severity } from "../core/mod.ts";

/** Which alerts a policy can match by where they happened. */
export type PolicyTarget = "host" | "container" | "any";

/** The policy target values, in the order the docs list them. */
export const POLICY_TARGETS: readonly PolicyTarget[] = ["host", "container", "any"];

/** One `source_cidrs` entry: as written (for messages) and parsed (for matching). */
export interface SourceCidr {
  text: string;
  cidr: Cidr;
}

/**
 * What an alert must look like for a policy to apply. Every present key must hold (they are
 * ANDed); a list holds when any of its entries does. An empty match matches every alert.
 */
export interface PolicyMatch {
  /** The alert's severity is at least this. */
  minSeverity?: Severity;
  /** `AlertEvent.ruleId` is one of these (a Sigma rule's `id`, or its title when it has none). */
  rules?: string[];
  /**
   * The alert carries one of these tags, or a dotted child of one: `attack.t1110` matches
   * `attack.t1110.001`, as a sub-technique is a case of its technique.
   */
  tags?: string[];
  /** `AlertEvent.srcIp` is within one of these; an alert without a source never matches. */
  sourceCidrs?: SourceCidr[];
  /** Globs (`*`, `?`; anchored, case-sensitive) on the container's name. */
  containers?: string[];
  /** Globs on the container's image as Docker shows it (`nginx:1.27`). */
  images?: string[];
  /** Every label must be set on the container to exactly this value. */
  labels?: Record<string, string>;
  /** `host`: the alert names no container; `container`: it names one; `any` (default). */
  target: PolicyTarget;
}

/** The action types a policy may list, in the order the docs list them. */
export const POLICY_ACTION_TYPES = [
  "alert_only",
  "block_ip",
  "pause",
  "stop",
  "kill",
  "isolate",
] as const;

/** One action a policy asks for, run in the order listed. */
export type PolicyAction =
  /** Record the decision and do nothing else (a policy that only audits). */
  | { type: "alert_only" }
  /** A packet filter decision for the alert's source address, expiring after `ttlSecs`. */
  | { type: "block_ip"; ttlSecs: number }
  /** Freeze the container's processes (reversible with `guard release`). */
  | { type: "pause" }
  /** SIGTERM, then SIGKILL after `graceSecs` (Docker's stop). */
  | { type: "stop"; graceSecs: number }
  /** Send `signal` (a `SIG…` name) to the container's main process. */
  | { type: "kill"; signal: string }
  /** Disconnect the container from every network, remembering which, to reconnect on release. */
  | { type: "isolate" };

/** A policy action's type. */
export type PolicyActionType = PolicyAction["type"];

/** Action types that act on the alert's container, so need the alert to name one. */
export const CONTAINER_ACTIONS: ReadonlySet<PolicyActionType> = new Set([
  "pause",
  "stop",
  "kill",
  "isolate",
]);

/** One loaded policy. */
export interface Policy {
  /** Unique across every file of the policy directory: `[a-z0-9][a-z0-9._-]*`. */
  id: string;
  description?: string;
  /** Decide and audit as "would", do nothing (on top of the global `container.dry_run`). */
  dryRun: boolean;
  /** Keep evaluating later policies after this one matched. */
  continue: boolean;
  /** Overrides `container.cooldown_secs` for this policy's actions. */
  cooldownSecs?: number;
  match: PolicyMatch;
  /** At least one, in order. */
  actions: PolicyAction[];
  /** Where it is written, for messages: the file and the line of its `[[policy]]`. */
  file: string;
  line?: number;
}

/** Every policy of a policy directory, in evaluation order, and what loading found wrong. */
export interface PolicySet {
  policies: Policy[];
  /** Errors and warnings; a policy with an error is left out of `policies`. */
  diagnostics: Diagnostic[];
}
