/**
 * Which policies an alert triggers and what their actions would do to what: the guard acts
 * on `planFor`'s answer, and `ironpost guard test --alert FILE` prints `describePlan`'s.
 */
import type { AlertEvent } from "../core/mod.ts";
import { matches, mismatch } from "./match.ts";
import { CONTAINER_ACTIONS, type Policy, type PolicyAction } from "./policy.ts";
import { formatDuration } from "./policy_load.ts";

/** A policy that matched an alert, with the actions it asks for, in order. */
export interface PlanStep {
  policy: Policy;
  actions: PolicyAction[];
}

/**
 * The policies `alert` triggers, in evaluation order: the first that matches, and after it
 * the next that matches only while each matched one says `continue = true`. Empty when
 * none matches.
 *
 * @example
 * ```ts
 * import { planFor } from "./plan.ts";
 * import type { Policy } from "./policy.ts";
 * import { newEvent, type AlertEvent } from "../core/mod.ts";
 * const base = { dryRun: false, file: "p.toml", match: { target: "any" as const } };
 * const policies: Policy[] = [
 *   { ...base, id: "audit", continue: true, actions: [{ type: "alert_only" }] },
 *   { ...base, id: "pause", continue: false, actions: [{ type: "pause" }] },
 *   { ...base, id: "never", continue: false, actions: [{ type: "stop", graceSecs: 10 }] },
 * ];
 * const alert = newEvent<AlertEvent>({
 *   kind: "alert", ruleId: "r", title: "t", severity: "high", source: "test", tags: [],
 *   evidence: [], host: "h",
 * });
 * console.assert(planFor(alert, policies).map((s) => s.policy.id).join() === "audit,pause");
 * ```
 */
export function planFor(alert: AlertEvent, policies: readonly Policy[]): PlanStep[] {
  const out: PlanStep[] = [];
  for (const policy of policies) {
    if (!matches(policy, alert)) continue;
    out.push({ policy, actions: policy.actions });
    if (!policy.continue) break;
  }
  return out;
}

/**
 * What `action` acts on for `alert`: the source address for `block_ip`, the container (its
 * name, else its id) for a container action, and for `alert_only` whichever of those the
 * alert has (else its host). `missing` says why there is nothing to act on: the guard
 * audits that instead of acting.
 */
export function actionTarget(
  action: PolicyAction,
  alert: AlertEvent,
): { target: string } | { missing: string } {
  const c = alert.container;
  if (action.type === "block_ip") {
    return alert.srcIp ? { target: alert.srcIp } : { missing: "the alert has no source address" };
  }
  if (CONTAINER_ACTIONS.has(action.type)) {
    return c ? { target: c.name || c.id } : { missing: "the alert names no container" };
  }
  return { target: c ? c.name || c.id : alert.srcIp ?? alert.host };
}

/** Options of `describePlan`. */
export interface DescribeOptions {
  /** The policies the plan was made from: each one evaluated and passed by gets its reason. */
  policies?: readonly Policy[];
  /** The global `container.dry_run`: every action is marked "would". */
  dryRun?: boolean;
}

/**
 * Human-readable lines for `ironpost guard test`: the alert, each triggered policy (where it
 * is written) and each of its actions with its target, marked "would" under dry run and
 * "skipped" when the alert lacks what the action needs. With `opts.policies`, also why each
 * policy evaluated before the decision did not match.
 *
 * @example
 * ```ts
 * import { describePlan, planFor } from "./plan.ts";
 * import type { Policy } from "./policy.ts";
 * import { newEvent, type AlertEvent } from "../core/mod.ts";
 * const policies: Policy[] = [{
 *   id: "block-ssh", dryRun: false, continue: false, file: "ssh.toml", line: 1,
 *   match: { rules: ["ssh-bf"], target: "any" }, actions: [{ type: "block_ip", ttlSecs: 600 }],
 * }];
 * const alert = newEvent<AlertEvent>({
 *   kind: "alert", ruleId: "ssh-bf", title: "SSH brute force", severity: "high",
 *   source: "log_pipeline", tags: [], evidence: [], host: "h", srcIp: "198.51.100.7",
 * });
 * const lines = describePlan(alert, planFor(alert, policies));
 * console.assert(lines[1] === "policy block-ssh (ssh.toml:1) matches");
 * console.assert(lines[2] === "  1. block_ip 198.51.100.7 for 10m");
 * ```
 */
export function describePlan(
  alert: AlertEvent,
  plan: readonly PlanStep[],
  opts: DescribeOptions = {},
): string[] {
  const where = alert.container
    ? `in container ${alert.container.name || alert.container.id} (${alert.container.image})`
    : `on host ${alert.host}`;
  const lines = [
    `alert ${alert.id}: rule ${alert.ruleId} "${alert.title}", severity ${alert.severity}, ` +
    `${where}${alert.srcIp ? `, source ${alert.srcIp}` : ""}`,
  ];
  const chosen = new Set(plan.map((s) => s.policy));
  const last = plan.at(-1)?.policy;
  for (const policy of opts.policies ?? []) {
    if (chosen.has(policy)) {
      lines.push(...describeStep(alert, { policy, actions: policy.actions }, opts));
      if (policy === last && !policy.continue) break;
      continue;
    }
    lines.push(`policy ${policy.id} (${at(policy)}) passed: ${mismatch(policy.match, alert)}`);
  }
  if (!opts.policies) { for (const step of plan) lines.push(...describeStep(alert, step, opts)); }
  if (plan.length === 0) lines.push("no policy matches: nothing would be done");
  return lines;
}

function describeStep(alert: AlertEvent, step: PlanStep, opts: DescribeOptions): string[] {
  const { policy } = step;
  const dry = opts.dryRun || policy.dryRun;
  const notes = [dry ? "dry run" : "", policy.continue ? "continues" : ""].filter((s) => s);
  const lines = [
    `policy ${policy.id} (${at(policy)}) matches${notes.length ? ` (${notes.join(", ")})` : ""}` +
    (policy.description ? `: ${policy.description}` : ""),
  ];
  step.actions.forEach((action, i) => {
    const t = actionTarget(action, alert);
    const text = "missing" in t
      ? `${action.type}: skipped, ${t.missing}`
      : `${dry ? "would " : ""}${action.type} ${t.target}${details(action)}`;
    lines.push(`  ${i + 1}. ${text}`);
  });
  return lines;
}

function details(a: PolicyAction): string {
  switch (a.type) {
    case "block_ip":
      return ` for ${formatDuration(a.ttlSecs)}`;
    case "stop":
      return ` (grace ${a.graceSecs} s)`;
    case "kill":
      return ` with ${a.signal}`;
    default:
      return "";
  }
}

function at(p: Policy): string {
  return p.line !== undefined ? `${p.file}:${p.line}` : p.file;
}
