/**
 * What keeps the guard from doing harm: a cooldown per (policy, target), a global cap on
 * actions per minute, and the protections — containers and images the operator listed, the
 * label `ironpost.protected=true`, the agent's own container, and sources the packet filter
 * always lets through or the operator connects from. Each check returns the reason it
 * refuses, which the audit trail keeps.
 */
import { type Cidr, type ContainerRef, parseCidr } from "../core/mod.ts";
import { globMatch } from "./glob.ts";
import { ipInCidr } from "./match.ts";

/** Most (policy, target) pairs remembered for cooldowns. */
const MAX_COOLDOWNS = 100_000;

/**
 * Last action time per (policy, target); a repeat within the cooldown is refused. The
 * actions one alert asks of one policy (pause, then isolate) count as one.
 */
export class Cooldowns {
  #last = new Map<string, { at: number; alertId: string }>();

  /** The reason to refuse now, or undefined (and the time is recorded). */
  take(
    policyId: string,
    target: string,
    cooldownSecs: number,
    now: number,
    alertId: string,
  ): string | undefined {
    const key = `${policyId}\u0000${target}`;
    const prev = this.#last.get(key);
    if (prev?.alertId === alertId) return undefined;
    const last = prev?.at;
    if (last !== undefined && now - last < cooldownSecs * 1000) {
      const left = Math.ceil((cooldownSecs * 1000 - (now - last)) / 1000);
      return `cooldown: ${policyId} acted on ${target} ${
        Math.round((now - last) / 1000)
      } s ago (${left} s left of ${cooldownSecs} s)`;
    }
    // Re-inserted so the map stays in time order and the oldest entries come first.
    this.#last.delete(key);
    this.#last.set(key, { at: now, alertId });
    // Bounded: past the cap the oldest go first (an entry older than a day never refuses
    // anything, cooldowns being capped at a day); a flood of distinct targets cannot grow it.
    if (this.#last.size > MAX_COOLDOWNS) {
      for (const [k, t] of this.#last) {
        if (this.#last.size <= MAX_COOLDOWNS && now - t.at <= 86_400_000) break;
        this.#last.delete(k);
      }
    }
    return undefined;
  }
}

/** A sliding one-minute window over every action the guard executes. */
export class RateCap {
  #times: number[] = [];
  #lastRefusal = 0;
  readonly perMinute: number;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  /** The reason to refuse now, or undefined (and the action is counted). */
  take(now: number): string | undefined {
    while (this.#times.length > 0 && now - this.#times[0] >= 60_000) this.#times.shift();
    if (this.#times.length >= this.perMinute) {
      this.#lastRefusal = now;
      return `rate cap: ${this.perMinute} actions in the last minute (container.max_actions_per_minute)`;
    }
    this.#times.push(now);
    return undefined;
  }

  /** True while the cap refused an action within the last minute (health is degraded). */
  refusing(now: number): boolean {
    return this.#lastRefusal > 0 && now - this.#lastRefusal < 60_000;
  }
}

export interface ProtectionOptions {
  /** `container.protected`: container names or images (globs). */
  containers: readonly string[];
  /** `container.protected_sources` plus the packet filter's allowlist: never blocked. */
  sources: readonly Cidr[];
  /** Why each source is protected, parallel to `sources` (for the audit line). */
  sourceWhy: readonly string[];
  /** The agent's own container id prefix, when it runs in one (its hostname). */
  selfContainer?: string;
}

/** The label that protects a container from every action. */
export const PROTECTED_LABEL = "ironpost.protected";

/** Refusals for containers and sources no policy may act on. */
export class Protection {
  readonly #o: ProtectionOptions;

  constructor(o: ProtectionOptions) {
    this.#o = o;
  }

  /** Why `c` must not be acted on, or undefined. */
  container(c: Pick<ContainerRef, "id" | "name" | "image" | "labels">): string | undefined {
    if (c.labels?.[PROTECTED_LABEL] === "true") return `protected: label ${PROTECTED_LABEL}=true`;
    const hit = this.#o.containers.find((g) => globMatch(g, c.name) || globMatch(g, c.image));
    if (hit) return `protected: ${c.name} (${c.image}) matches container.protected "${hit}"`;
    if (this.#o.selfContainer && c.id.startsWith(this.#o.selfContainer)) {
      return "protected: the agent's own container";
    }
    return undefined;
  }

  /** Why the source `ip` must not be blocked, or undefined. */
  source(ip: string): string | undefined {
    const i = this.#o.sources.findIndex((net) => ipInCidr(ip, net));
    return i < 0 ? undefined : `protected: ${ip} is ${this.#o.sourceWhy[i]}`;
  }
}

/**
 * The protected sources from their lists: each entry parsed (a bad one is skipped: the config
 * already validated them), with why it is protected.
 */
export function protectedSources(
  lists: readonly { why: string; cidrs: readonly string[] }[],
): { sources: Cidr[]; sourceWhy: string[] } {
  const sources: Cidr[] = [];
  const sourceWhy: string[] = [];
  for (const { why, cidrs } of lists) {
    for (const text of cidrs) {
      const net = parseCidr(text.trim());
      if (typeof net === "string") continue;
      sources.push(net);
      sourceWhy.push(`${why} (${text.trim()})`);
    }
  }
  return { sources, sourceWhy };
}
