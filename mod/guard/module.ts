/**
 * The container guard: every alert is matched against the response policies, and each
 * action a matching policy names is checked (protections, cooldown, rate cap, dry run),
 * executed through the Docker Engine API or handed to the packet filter as a block decision,
 * and audited as an ActionEvent. Docker failures are retried with backoff; while Docker is
 * unreachable decided actions wait in a bounded queue and run when it returns, or expire.
 * What the guard changed on a container is recorded first, so `release` restores it.
 */
import {
  type ActionEvent,
  type ActionKind,
  type ActionOutcome,
  type AlertEvent,
  type Channel,
  ContainerActionError,
  type ContainerLookup,
  type ContainerRef,
  type ContainerStatus,
  type ControlRoute,
  type DecisionEvent,
  errorMessage,
  formatDiagnostic,
  formatIp,
  type Health,
  IronpostError,
  jsonResponse,
  localHost,
  type MetricSample,
  type Module,
  newEvent,
  parseCidr,
  parseIp,
  readCidrFile,
  sample,
  sshClientAddress,
  type Store,
} from "../core/mod.ts";
import { ACTIONS, ALERTS_SEEN, POLICIES, QUEUE_DEPTH, QUEUE_DROPPED } from "./metrics.ts";
import type { Policy, PolicyAction } from "./policy.ts";
import { loadPolicies } from "./policy_load.ts";
import { planFor } from "./plan.ts";
import { PriorStates } from "./prior_state.ts";
import { Cooldowns, protectedSources, Protection, RateCap } from "./safety.ts";
import type { GuardConfig } from "./spec.ts";

export interface GuardChannels {
  alerts?: Channel<AlertEvent>;
  actions?: Channel<ActionEvent>;
  decisions?: Channel<DecisionEvent>;
}

/** The packet filter as the guard sees it (from the `[ebpf]` section). */
export interface PacketFilterView {
  enabled: boolean;
  allowlist: readonly string[];
  allowlistFiles: readonly string[];
}

export interface GuardOptions {
  store: Store;
  containers: ContainerLookup;
  packetFilter: PacketFilterView;
  /** Environment reader (SSH_CONNECTION); `Deno.env.get` by default. */
  env?: (name: string) => string | undefined;
}

/** An action held while Docker is unreachable. */
interface Held {
  alert: AlertEvent;
  policy: Policy;
  action: PolicyAction;
  container: ContainerRef;
  heldAt: number;
}

/** What one executed action reports. */
interface Result {
  outcome: ActionOutcome;
  detail?: string;
  error?: string;
}

export class GuardModule implements Module {
  readonly name = "guard";
  #cfg: GuardConfig;
  #ch: GuardChannels;
  #o: GuardOptions;
  #policies: Policy[] = [];
  #protection!: Protection;
  #cooldowns = new Cooldowns();
  #rate: RateCap;
  #prior: PriorStates;
  #queue: Held[] = [];
  #dockerDown?: string;
  #lastError?: string;
  #consumer?: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  #draining = false;
  #counts = new Map<string, number>();
  #alerts = { matched: 0, unmatched: 0 };
  #queueDropped = 0;
  #metadata = new Map<string, { ref: ContainerRef; at: number }>();

  constructor(cfg: GuardConfig, channels: GuardChannels, opts: GuardOptions) {
    this.#cfg = cfg;
    this.#ch = channels;
    this.#o = opts;
    this.#rate = new RateCap(cfg.max_actions_per_minute);
    this.#prior = new PriorStates(opts.store);
  }

  get policies(): readonly Policy[] {
    return this.#policies;
  }

  async start(): Promise<void> {
    this.#policies = await this.#load(this.#cfg.policy_dir);
    this.#protection = await this.#buildProtection();
    this.#timer = setInterval(() => void this.#drainQueue(), 1000);
    const input = this.#ch.alerts;
    if (input) {
      this.#consumer = (async () => {
        for await (const alert of input) {
          try {
            await this.handle(alert);
          } catch (err) {
            this.#lastError = `alert ${alert.id}: ${errorMessage(err)}`;
          }
        }
      })();
    }
  }

  async stop(): Promise<void> {
    // Alerts already queued are handled first (the channel closes when producers stop).
    await this.#consumer;
    clearInterval(this.#timer);
    for (const h of this.#queue.splice(0)) {
      await this.#audit(h.alert, h.policy, h.action, h.container.id, {
        outcome: "expired",
        error: "the agent stopped while Docker was unreachable",
      }, h.container);
    }
  }

  health(): Health {
    if (this.#dockerDown) {
      return {
        state: "degraded",
        reason: `Docker unreachable (${this.#dockerDown}); ${this.#queue.length} action(s) held`,
      };
    }
    if (this.#rate.refusing(Date.now())) {
      return { state: "degraded", reason: "actions suppressed by the rate cap in the last minute" };
    }
    if (this.#lastError) return { state: "degraded", reason: this.#lastError };
    return { state: "healthy" };
  }

  /** SIGHUP: new policies replace the old ones only when every file is valid. */
  async reload(section: unknown): Promise<void> {
    const cfg = section as GuardConfig;
    this.#policies = await this.#load(cfg.policy_dir);
    this.#cfg = cfg;
    this.#rate = new RateCap(cfg.max_actions_per_minute);
    this.#protection = await this.#buildProtection();
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const [key, n] of this.#counts) {
      const [action, outcome] = key.split("/");
      out.push(sample(ACTIONS, n, { action, outcome }));
    }
    out.push(
      sample(QUEUE_DEPTH, this.#queue.length),
      sample(QUEUE_DROPPED, this.#queueDropped),
      sample(POLICIES, this.#policies.length),
      sample(ALERTS_SEEN, this.#alerts.matched, { matched: "yes" }),
      sample(ALERTS_SEEN, this.#alerts.unmatched, { matched: "no" }),
    );
    return out;
  }

  routes(): ControlRoute[] {
    return [
      {
        method: "GET",
        path: "/guard/state",
        handle: async () =>
          jsonResponse(200, {
            policies: this.#policies.map((p) => p.id),
            held: this.#queue.map((h) => ({
              policy: h.policy.id,
              action: h.action.type,
              target: h.container.name,
              heldSecs: Math.round((Date.now() - h.heldAt) / 1000),
            })),
            changed: await this.#prior.list(),
          }),
      },
      {
        method: "POST",
        path: "/guard/release",
        handle: async (req) => {
          const target = new URL(req.url).searchParams.get("target") ?? "";
          try {
            const events = await this.release(target);
            return jsonResponse(200, { released: target, actions: events });
          } catch (err) {
            const status = err instanceof IronpostError && err.code === "E_NOTHING_TO_RELEASE"
              ? 404
              : 400;
            return jsonResponse(status, { error: errorMessage(err) });
          }
        },
      },
    ];
  }

  /** Match one alert and carry out what the matching policies say. */
  async handle(event: AlertEvent): Promise<void> {
    // Policies match on the container's labels and image, which alerts may not carry.
    const alert = event.container && !event.container.labels
      ? { ...event, container: await this.#withMetadata(event.container) }
      : event;
    const plans = planFor(alert, this.#policies);
    if (plans.length === 0) {
      this.#alerts.unmatched++;
      return;
    }
    this.#alerts.matched++;
    for (const { policy, actions } of plans) {
      for (const action of actions) await this.#act(alert, policy, action);
    }
  }

  /**
   * Undo what the guard did: for an address or CIDR, unblock it in the packet filter; for a
   * container, unpause it and reattach the networks it had (with their aliases) as recorded
   * before the first action. Returns the audit events.
   */
  async release(target: string): Promise<ActionEvent[]> {
    if (!target) throw new IronpostError("E_USAGE", "release needs a container or an address");
    if (typeof parseCidr(target) !== "string") return [await this.#unblock(target)];
    const prior = await this.#prior.find(target);
    if (!prior) {
      throw new IronpostError(
        "E_NOTHING_TO_RELEASE",
        `the guard has no recorded action on ${target} (ironpost guard actions lists them)`,
        { target },
      );
    }
    const events: ActionEvent[] = [];
    const ref = { id: prior.id, name: prior.name, image: prior.image };
    const started = Date.now();
    let now: ContainerStatus | undefined;
    try {
      now = await this.#o.containers.containerStatus(prior.id);
    } catch (err) {
      throw new IronpostError(
        "E_DOCKER_UNAVAILABLE",
        `cannot release ${target}: ${errorMessage(err)}`,
      );
    }
    if (!now) {
      await this.#prior.forget(prior.id);
      events.push(await this.#release(ref, "unpause", { outcome: "gone" }, started));
      return events;
    }
    if (now.state === "paused" && !prior.paused) {
      events.push(
        await this.#release(
          ref,
          "unpause",
          await this.#docker(() => this.#o.containers.unpauseContainer(prior.id)),
          started,
        ),
      );
    }
    const attached = new Set(now.networks.map((n) => n.name));
    for (const net of prior.networks) {
      if (attached.has(net.name)) continue;
      events.push(
        await this.#release(
          ref,
          "reconnect",
          await this.#docker(() => this.#o.containers.connectNetwork(prior.id, net)),
          started,
          `network ${net.name}${net.aliases.length ? ` (aliases ${net.aliases.join(", ")})` : ""}`,
        ),
      );
    }
    if (events.every((e) => e.outcome === "done")) await this.#prior.forget(prior.id);
    return events;
  }

  // --- one action ---------------------------------------------------------------------

  async #act(alert: AlertEvent, policy: Policy, action: PolicyAction): Promise<void> {
    if (action.type === "alert_only") {
      const target = alert.container?.name ?? alert.srcIp ?? localHost();
      await this.#audit(alert, policy, action, target, { outcome: "done" }, alert.container);
      return;
    }
    if (action.type === "block_ip") {
      await this.#block(alert, policy, action);
      return;
    }
    const c = alert.container;
    if (!c) {
      await this.#audit(alert, policy, action, localHost(), {
        outcome: "skipped",
        error: "the alert came from the host, not a container",
      });
      return;
    }
    const refusal = this.#protection.container(c) ??
      this.#limits(alert, policy, c.id);
    if (refusal) {
      await this.#audit(
        alert,
        policy,
        action,
        c.name,
        { outcome: "suppressed", error: refusal },
        c,
      );
      return;
    }
    if (this.#cfg.dry_run || policy.dryRun) {
      await this.#audit(alert, policy, action, c.name, { outcome: "would" }, c);
      return;
    }
    await this.#execute({ alert, policy, action, container: c, heldAt: Date.now() });
  }

  async #block(
    alert: AlertEvent,
    policy: Policy,
    action: Extract<PolicyAction, { type: "block_ip" }>,
  ): Promise<void> {
    const ip = alert.srcIp;
    if (!ip || !parseIp(ip)) {
      await this.#audit(alert, policy, action, ip ?? "-", {
        outcome: "skipped",
        error: "the alert carries no source address",
      });
      return;
    }
    if (!this.#o.packetFilter.enabled || !this.#ch.decisions) {
      await this.#audit(alert, policy, action, ip, {
        outcome: "failed",
        error: "the packet filter is not running ([ebpf] enabled = false)",
      });
      return;
    }
    const refusal = this.#protection.source(ip) ?? this.#limits(alert, policy, ip);
    if (refusal) {
      await this.#audit(alert, policy, action, ip, { outcome: "suppressed", error: refusal });
      return;
    }
    if (this.#cfg.dry_run || policy.dryRun) {
      await this.#audit(alert, policy, action, ip, { outcome: "would" });
      return;
    }
    await this.#ch.decisions.send(newEvent<DecisionEvent>({
      kind: "decision",
      op: "block",
      cidr: ip,
      ttlSecs: action.ttlSecs,
      reason: `${policy.id}: ${alert.title}`,
      alertId: alert.id,
    }));
    // The packet filter audits the block itself (done, or failed) when it applies it.
    await this.#audit(alert, policy, action, ip, {
      outcome: "planned",
      detail: `handed to the packet filter for ${action.ttlSecs} s`,
    });
  }

  /** The cooldown and the rate cap, in that order (a cooled-down repeat costs no quota). */
  #limits(alert: AlertEvent, policy: Policy, target: string): string | undefined {
    const now = Date.now();
    return this.#cooldowns.take(
      policy.id,
      target,
      policy.cooldownSecs ?? this.#cfg.cooldown_secs,
      now,
      alert.id,
    ) ?? this.#rate.take(now);
  }

  /** Run a container action with retries; hold it when Docker is unreachable. */
  async #execute(h: Held): Promise<void> {
    const started = Date.now();
    let result = await this.#withRetries(h);
    if (result.outcome === "queued") {
      if (this.#queue.length >= this.#cfg.queue_capacity) {
        this.#queueDropped++;
        result = { outcome: "failed", error: `${result.error}; the hold queue is full` };
      } else {
        this.#queue.push(h);
      }
    }
    await this.#audit(h.alert, h.policy, h.action, h.container.name, result, h.container, started);
  }

  async #withRetries(h: Held): Promise<Result> {
    let last: Result = { outcome: "failed" };
    for (let attempt = 0; attempt <= this.#cfg.retry_attempts; attempt++) {
      if (attempt > 0) {
        await sleep(this.#cfg.retry_backoff_secs * 1000 * 2 ** (attempt - 1));
      }
      last = await this.#docker(() => this.#perform(h));
      if (last.outcome !== "queued") return last;
    }
    return last;
  }

  /** One Docker call, its error classified: gone, held (Docker unreachable), or failed. */
  async #docker(fn: () => Promise<string | void>): Promise<Result> {
    try {
      const detail = await fn();
      this.#dockerDown = undefined;
      return { outcome: "done", ...(detail ? { detail } : {}) };
    } catch (err) {
      if (err instanceof ContainerActionError) {
        if (err.gone) return { outcome: "gone", error: err.message };
        if (err.transient) {
          this.#dockerDown = err.message;
          return { outcome: "queued", error: err.message };
        }
        return { outcome: "failed", error: err.message, detail: `HTTP ${err.status ?? "?"}` };
      }
      return { outcome: "failed", error: errorMessage(err) };
    }
  }

  /** The Docker calls of one action, after recording the container's prior state. */
  async #perform(h: Held): Promise<string> {
    const docker = this.#o.containers;
    const status = await docker.containerStatus(h.container.id);
    if (!status) {
      throw new ContainerActionError(`container ${h.container.name} no longer exists`, {
        gone: true,
        status: 404,
      });
    }
    const a = h.action;
    switch (a.type) {
      case "pause":
        if (status.state === "paused") return "already paused";
        await this.#prior.record(status, "pause");
        await docker.pauseContainer(status.id);
        return "paused";
      case "stop":
        await this.#prior.record(status, "stop");
        await docker.stopContainer(status.id, a.graceSecs);
        return `stopped (grace ${a.graceSecs} s)`;
      case "kill":
        await this.#prior.record(status, "kill");
        await docker.killContainer(status.id, a.signal);
        return `sent ${a.signal}`;
      case "isolate": {
        await this.#prior.record(status, "isolate");
        for (const n of status.networks) await docker.disconnectNetwork(status.id, n.name);
        return status.networks.length
          ? `disconnected from ${status.networks.map((n) => n.name).join(", ")}`
          : "had no network";
      }
      default:
        throw new Error(`not a container action: ${a.type}`);
    }
  }

  /** Every second while actions are held: when Docker answers, run them in order. */
  async #drainQueue(): Promise<void> {
    if (this.#draining || this.#queue.length === 0) return;
    this.#draining = true;
    try {
      const now = Date.now();
      while (this.#queue.length > 0) {
        const h = this.#queue[0];
        if (now - h.heldAt > this.#cfg.queue_max_wait_secs * 1000) {
          this.#queue.shift();
          await this.#audit(h.alert, h.policy, h.action, h.container.name, {
            outcome: "expired",
            error: `Docker was unreachable for more than ${this.#cfg.queue_max_wait_secs} s ` +
              "(container.queue_max_wait_secs)",
          }, h.container);
          continue;
        }
        const started = Date.now();
        const result = await this.#docker(() => this.#perform(h));
        if (result.outcome === "queued") return; // still down: try again in a second
        this.#queue.shift();
        await this.#audit(
          h.alert,
          h.policy,
          h.action,
          h.container.name,
          {
            ...result,
            detail: [result.detail, `held ${Math.round((started - h.heldAt) / 1000)} s`]
              .filter(Boolean).join("; "),
          },
          h.container,
          h.heldAt,
        );
      }
    } finally {
      this.#draining = false;
    }
  }

  // --- release ------------------------------------------------------------------------

  async #unblock(cidr: string): Promise<ActionEvent> {
    const started = Date.now();
    if (!this.#ch.decisions || !this.#o.packetFilter.enabled) {
      return await this.#emit({
        action: "unblock_ip",
        target: cidr,
        outcome: "failed",
        reason: "ironpost guard release",
        error: "the packet filter is not running ([ebpf] enabled = false)",
      });
    }
    await this.#ch.decisions.send(newEvent<DecisionEvent>({
      kind: "decision",
      op: "unblock",
      cidr,
      reason: "ironpost guard release",
    }));
    return await this.#emit({
      action: "unblock_ip",
      target: cidr,
      outcome: "planned",
      reason: "ironpost guard release",
      detail: "handed to the packet filter",
      durationMs: Date.now() - started,
    });
  }

  async #release(
    c: ContainerRef,
    action: ActionKind,
    r: Result,
    started: number,
    what = "",
  ): Promise<ActionEvent> {
    return await this.#emit({
      action,
      target: c.name,
      outcome: r.outcome,
      reason: `ironpost guard release${what ? `: ${what}` : ""}`,
      ...(r.error ? { error: r.error } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
      durationMs: Date.now() - started,
      container: c,
    });
  }

  // --- helpers ------------------------------------------------------------------------

  async #audit(
    alert: AlertEvent,
    policy: Policy,
    action: PolicyAction,
    target: string,
    r: Result,
    container?: ContainerRef,
    started?: number,
  ): Promise<void> {
    await this.#emit({
      action: action.type,
      target,
      outcome: r.outcome,
      alertId: alert.id,
      policyId: policy.id,
      reason: `${policy.id}: ${alert.title} (${alert.ruleId})`,
      ...(r.error ? { error: r.error } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
      ...(started !== undefined ? { durationMs: Date.now() - started } : {}),
      ...(container ? { container } : {}),
    });
  }

  async #emit(fields: Omit<ActionEvent, "id" | "ts" | "host" | "kind">): Promise<ActionEvent> {
    const e = newEvent<ActionEvent>({ kind: "action", ...fields });
    const key = `${e.action}/${e.outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    await this.#ch.actions?.send(e);
    return e;
  }

  /**
   * The alert's container with Docker's labels and image, for the protection checks; Docker
   * is asked at most once per `cache_ttl_secs` per container.
   */
  async #withMetadata(c: ContainerRef): Promise<ContainerRef> {
    if (c.labels) return c;
    const now = Date.now();
    const hit = this.#metadata.get(c.id);
    if (hit && now - hit.at < this.#cfg.cache_ttl_secs * 1000) return hit.ref;
    try {
      const s = await this.#o.containers.containerStatus(c.id);
      const ref = s ? { id: s.id, name: s.name, image: s.image, labels: s.labels } : c;
      if (this.#metadata.size >= 10_000) this.#metadata.clear();
      this.#metadata.set(c.id, { ref, at: now });
      return ref;
    } catch {
      return c;
    }
  }

  async #load(dir: string): Promise<Policy[]> {
    const { policies, diagnostics } = await loadPolicies(dir);
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0) {
      throw new IronpostError(
        "E_POLICIES_INVALID",
        `${errors.length} response policy error(s):\n` + errors.map(formatDiagnostic).join("\n"),
        { dir, count: errors.length },
      );
    }
    return policies;
  }

  async #buildProtection(): Promise<Protection> {
    const env = this.#o.env ?? ((n: string) => {
      try {
        return Deno.env.get(n);
      } catch {
        return undefined;
      }
    });
    const allow = [...this.#o.packetFilter.allowlist];
    for (const file of this.#o.packetFilter.allowlistFiles) {
      try {
        for (const c of await readCidrFile(file)) allow.push(`${formatIp(c.bytes)}/${c.prefix}`);
      } catch (err) {
        this.#lastError = `allowlist file ${file}: ${errorMessage(err)}`;
      }
    }
    const ssh = sshClientAddress(env("SSH_CONNECTION"));
    const { sources, sourceWhy } = protectedSources([
      { why: "in container.protected_sources", cidrs: this.#cfg.protected_sources },
      { why: "in the packet filter's allowlist", cidrs: allow },
      { why: "the operator's SSH session (SSH_CONNECTION at start)", cidrs: ssh ? [ssh] : [] },
    ]);
    // Docker names a container's host after its short id: an agent in a container protects it.
    const host = localHost();
    return new Protection({
      containers: this.#cfg.protected,
      sources,
      sourceWhy,
      selfContainer: /^[0-9a-f]{12}$/.test(host) ? host : undefined,
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
