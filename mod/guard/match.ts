/**
 * Whether a policy applies to an alert. Pure and synchronous: the guard runs it on every
 * alert, and `ironpost guard test` runs it to explain a decision.
 */
import type { AlertEvent, Cidr } from "../core/mod.ts";
import { cidrContains, severityAtLeast } from "../core/mod.ts";
import { globMatch } from "./glob.ts";
import type { Policy, PolicyMatch } from "./policy.ts";

/**
 * True when `policy`'s match holds for `alert`: every key present holds (a list when any
 * entry does). Container keys (`containers`, `images`, `labels`) never hold for an alert
 * without a container, and `source_cidrs` never for one without a source address.
 *
 * @example
 * ```ts
 * import { matches } from "./match.ts";
 * import type { Policy } from "./policy.ts";
 * import { newEvent, type AlertEvent } from "../core/mod.ts";
 * const policy: Policy = {
 *   id: "p", dryRun: false, continue: false, file: "p.toml",
 *   match: { minSeverity: "high", containers: ["web-*"], target: "container" },
 *   actions: [{ type: "pause" }],
 * };
 * const alert = newEvent<AlertEvent>({
 *   kind: "alert", ruleId: "r", title: "t", severity: "critical", source: "test", tags: [],
 *   evidence: [], host: "h", container: { id: "c1", name: "web-1", image: "nginx:1.27" },
 * });
 * console.assert(matches(policy, alert));
 * ```
 */
export function matches(policy: Policy, alert: AlertEvent): boolean {
  return mismatch(policy.match, alert) === undefined;
}

/**
 * Why `match` does not hold for `alert` (the first key that fails, in the order the docs
 * list them), or undefined when it holds. `ironpost guard test` prints it for the policies
 * an alert passes by.
 */
export function mismatch(match: PolicyMatch, alert: AlertEvent): string | undefined {
  const c = alert.container;
  if (match.target === "host" && c) return `the alert is in container ${c.name || c.id}`;
  if (match.target === "container" && !c) return "the alert names no container";
  if (match.minSeverity && !severityAtLeast(alert.severity, match.minSeverity)) {
    return `severity ${alert.severity} is below ${match.minSeverity}`;
  }
  if (match.rules && !match.rules.includes(alert.ruleId)) {
    return `rule ${alert.ruleId} is not one of ${list(match.rules)}`;
  }
  if (match.tags && !match.tags.some((t) => hasTag(alert.tags, t))) {
    return `none of the tags ${list(alert.tags)} is one of ${list(match.tags)}`;
  }
  if (match.sourceCidrs) {
    if (!alert.srcIp) return "the alert has no source address";
    if (!match.sourceCidrs.some((s) => ipInCidr(alert.srcIp!, s.cidr))) {
      return `source ${alert.srcIp} is in none of ${list(match.sourceCidrs.map((s) => s.text))}`;
    }
  }
  if (match.containers) {
    if (!c) return "the alert names no container";
    if (!match.containers.some((g) => globMatch(g, c.name))) {
      return `container name "${c.name}" matches none of ${list(match.containers)}`;
    }
  }
  if (match.images) {
    if (!c) return "the alert names no container";
    if (!match.images.some((g) => globMatch(g, c.image))) {
      return `image "${c.image}" matches none of ${list(match.images)}`;
    }
  }
  if (match.labels) {
    if (!c) return "the alert names no container";
    const have = c.labels ?? {};
    for (const [k, v] of Object.entries(match.labels)) {
      if (!Object.hasOwn(have, k)) return `the container has no label ${k}`;
      if (have[k] !== v) return `label ${k} is "${have[k]}", not "${v}"`;
    }
  }
  return undefined;
}

/** `want` is one of `tags`, or the parent of one (`attack.t1110` of `attack.t1110.001`). */
function hasTag(tags: readonly string[], want: string): boolean {
  return tags.some((t) => t === want || (t.startsWith(want) && t[want.length] === "."));
}

/**
 * True when the address `ip` lies in `cidr`. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`,
 * as sshd on a dual-stack socket logs IPv4 clients) is compared as the IPv4 address it is.
 */
export function ipInCidr(ip: string, cidr: Cidr): boolean {
  if (cidrContains(cidr, ip)) return true;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped !== null && cidrContains(cidr, mapped[1]);
}

function list(items: readonly string[]): string {
  return items.length ? items.map((s) => JSON.stringify(s)).join(", ") : "(none)";
}
