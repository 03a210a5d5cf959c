import {
  type ActionEvent,
  AggregateStopError,
  type AlertEvent,
  type CapabilitySpec,
  Channel,
  CHANNEL_NAMES,
  type ChannelMap,
  type ChannelName,
  type ChannelStats,
  type ContainerLookup,
  type ControlRoute,
  counter,
  type DecisionEvent,
  errorMessage,
  gauge,
  type Health,
  type HostEvent,
  IronpostError,
  type KernelFacility,
  type MetricSample,
  type Module,
  type ModuleChannels,
  type PacketEvent,
  sample,
  type ServiceName,
  type Store,
  worstHealth,
} from "../core/mod.ts";
import type { IronpostConfig } from "../config/mod.ts";
import { log } from "./logging.ts";

export type { ChannelMap, ChannelName, ModuleChannels };

/** The orchestrator's own metric families: channels and the audit store. */
const CORE_METRICS = {
  depth: gauge("ironpost_channel_depth", "Events queued", ["channel"]),
  capacity: gauge("ironpost_channel_capacity", "Channel capacity", ["channel"]),
  sent: counter("ironpost_channel_sent_total", "Events accepted by a channel", ["channel"]),
  dropped: counter(
    "ironpost_channel_dropped_total",
    "Events dropped because a channel was full or closed",
    ["channel"],
  ),
  writes: counter("ironpost_store_writes_total", "Events written to the audit store", ["table"]),
  writeErrors: counter("ironpost_store_write_errors_total", "Audit store writes that failed"),
};

/**
 * What the orchestrator needs of a capability's spec (tests pass bare ones): a spec without
 * a section always runs; one of `kind: "service"` is built only when a module asks for it.
 */
export type ModuleSpec =
  & { name: string }
  & Pick<CapabilitySpec, "produces" | "consumes" | "build">
  & Partial<Omit<CapabilitySpec, "name" | "produces" | "consumes" | "build">>;

interface Running {
  spec: ModuleSpec;
  module: Module;
}

/**
 * Wires channels, starts modules producers first, stops them in the same order so every
 * consumer drains what its producers left, and aggregates health and metrics.
 *
 * Each channel has one reader owned here (a tap): it writes alerts and actions to the
 * store (the audit trail) and fans every event out to each consumer's own input channel,
 * so one slow consumer applies backpressure instead of losing events.
 */
export class Orchestrator {
  readonly channels: { [K in ChannelName]: Channel<ChannelMap[K]> };
  #config: IronpostConfig;
  #specs: ModuleSpec[];
  #serviceSpecs: ModuleSpec[];
  #store: Store;
  #running: Running[] = [];
  /** Shared services (started on first request, stopped after every module). */
  #services: Running[] = [];
  #servicePromises = new Map<ServiceName, Promise<Module>>();
  #inputs = new Map<ChannelName, Channel<ChannelMap[ChannelName]>[]>();
  #taps: Promise<void>[] = [];
  #tapErrors = 0;
  #audited = { alerts: 0, actions: 0 };
  #log = log("daemon");

  constructor(
    config: IronpostConfig,
    specs: readonly ModuleSpec[],
    store: Store,
  ) {
    this.#config = config;
    this.#store = store;
    this.#serviceSpecs = specs.filter((s) => s.kind === "service");
    const c = config.channels;
    this.channels = {
      packets: new Channel<PacketEvent>("packets", c.packet_capacity),
      host: new Channel<HostEvent>("host", c.host_capacity),
      alerts: new Channel<AlertEvent>("alerts", c.alert_capacity),
      actions: new Channel<ActionEvent>("actions", c.action_capacity),
      decisions: new Channel<DecisionEvent>("decisions", c.action_capacity),
    };
    this.#specs = orderProducersFirst(
      specs.filter((s) => s.kind !== "service" && (!s.section || this.#section(s).enabled)),
    );
  }

  /** Names of the modules this config runs, in start order. */
  get planned(): string[] {
    return this.#specs.map((s) => s.name);
  }

  /** Which kernel facilities the planned modules need, and which modules need each. */
  get facilityNeeds(): Partial<Record<KernelFacility, string[]>> {
    const needs: Partial<Record<KernelFacility, string[]>> = {};
    for (const s of this.#specs) {
      for (const f of s.facilities?.(this.#section(s)) ?? []) (needs[f] ??= []).push(s.name);
    }
    return needs;
  }

  get modules(): readonly Running[] {
    return this.#running;
  }

  /** Build and start every enabled module; on any failure stop those started and throw. */
  async start(): Promise<void> {
    for (const name of CHANNEL_NAMES) this.#startTap(name);
    for (const spec of this.#specs) {
      let module: Module;
      try {
        module = await spec.build({
          section: this.#section(spec),
          stateDir: this.#config.general.state_dir,
          sections: this.#config as unknown as Record<string, Record<string, unknown>>,
          channels: this.#channelsFor(spec),
          store: this.#store,
          services: {
            // The inventory's spec builds a ContainerInventory, which is a ContainerLookup.
            containers: async () => (await this.#service("containers")) as ContainerLookup,
          },
        });
      } catch (err) {
        await this.#rollback();
        throw new IronpostError(
          "E_MODULE_BUILD",
          `Module ${spec.name} could not be built: ${errorMessage(err)}`,
          { module: spec.name },
          { cause: err },
        );
      }
      try {
        await module.start();
      } catch (err) {
        this.#running.push({ spec, module }); // stop() releases what start() acquired
        await this.#rollback();
        throw new IronpostError(
          "E_MODULE_START",
          `Module ${spec.name} failed to start: ${errorMessage(err)}`,
          { module: spec.name },
          { cause: err },
        );
      }
      this.#running.push({ spec, module });
      this.#log.info("module {module} started", { module: spec.name });
    }
  }

  /**
   * Stop modules in start order. A channel closes once every producer of it has stopped;
   * its tap then drains it into the store and the consumers, whose `stop` returns when
   * their input is drained. Each stop is bounded by `general.shutdown_timeout_secs`.
   */
  async stop(): Promise<void> {
    const failures: { module: string; error: unknown }[] = [];
    const timeoutMs = this.#config.general.shutdown_timeout_secs * 1000;
    const stopped = new Set<string>();
    this.#closeFinishedChannels(stopped); // channels no running module produces
    for (const { spec, module } of this.#running) {
      try {
        await withTimeout(
          module.stop(),
          timeoutMs,
          `${spec.name} did not stop within ${timeoutMs} ms`,
        );
        this.#log.info("module {module} stopped", { module: spec.name });
      } catch (err) {
        failures.push({ module: spec.name, error: err });
        this.#log.error("module {module} failed to stop: {error}", {
          module: spec.name,
          error: errorMessage(err),
        });
      }
      stopped.add(spec.name);
      this.#closeFinishedChannels(stopped);
    }
    for (const ch of Object.values(this.channels)) ch.close();
    try {
      await withTimeout(Promise.all(this.#taps), timeoutMs, "channels did not drain in time");
    } catch (err) {
      failures.push({ module: "channels", error: err });
    }
    for (const { spec, module } of this.#services) {
      try {
        await withTimeout(module.stop(), timeoutMs, `${spec.name} did not stop in time`);
      } catch (err) {
        failures.push({ module: spec.name, error: err });
      }
    }
    this.#services = [];
    this.#servicePromises.clear();
    this.#running = [];
    if (failures.length > 0) throw new AggregateStopError(failures);
  }

  /** Per-module health, plus the store's audit writes. */
  health(): { state: Health["state"]; modules: Record<string, Health> } {
    const modules: Record<string, Health> = {};
    for (const { spec, module } of [...this.#services, ...this.#running]) {
      try {
        modules[spec.name] = module.health();
      } catch (err) {
        modules[spec.name] = { state: "unhealthy", reason: `health() threw: ${errorMessage(err)}` };
      }
    }
    // A store that reports its own health is degraded only while its writes fail (a full
    // disk) and healthy again once one succeeds; otherwise any failed audit write counts.
    modules.store = this.#store.health?.() ??
      (this.#tapErrors > 0
        ? { state: "degraded", reason: `${this.#tapErrors} audit write(s) failed` }
        : { state: "healthy" });
    return { state: worstHealth(Object.values(modules).map((h) => h.state)), modules };
  }

  /** Control API endpoints of the running modules. */
  routes(): ControlRoute[] {
    return [...this.#services, ...this.#running].flatMap(({ module }) => module.routes?.() ?? []);
  }

  channelStats(): ChannelStats[] {
    const inputs = [...this.#inputs.values()].flat();
    return [...Object.values(this.channels), ...inputs].map((c) => c.stats());
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const s of this.channelStats()) {
      const labels = { channel: s.name };
      out.push(
        sample(CORE_METRICS.depth, s.depth, labels),
        sample(CORE_METRICS.capacity, s.capacity, labels),
        sample(CORE_METRICS.sent, s.sent, labels),
        sample(CORE_METRICS.dropped, s.dropped, labels),
      );
    }
    for (const [table, n] of Object.entries(this.#audited)) {
      out.push(sample(CORE_METRICS.writes, n, { table }));
    }
    out.push(sample(CORE_METRICS.writeErrors, this.#tapErrors));
    for (const { module } of [...this.#services, ...this.#running]) {
      try {
        out.push(...(module.metrics?.() ?? []));
      } catch (err) {
        this.#log.warn("metrics of {module} failed: {error}", {
          module: module.name,
          error: errorMessage(err),
        });
      }
    }
    return out;
  }

  /**
   * Hand a reloaded config to the modules that can apply it live. The daemon passes the
   * config as it can run (keys that need a restart keep their running values), so a
   * module's `reload` never sees a value it would apply only in part.
   */
  async reload(config: IronpostConfig): Promise<void> {
    this.#config = config;
    for (const { spec, module } of this.#running) {
      if (module.reload && spec.section) await module.reload(this.#section(spec));
    }
  }

  /** A spec's own config section. */
  #section(spec: Pick<ModuleSpec, "section">): Record<string, unknown> {
    return (this.#config as unknown as Record<string, Record<string, unknown>>)[
      spec.section ?? ""
    ] ?? {};
  }

  /** Build and start a shared service once, on the first module's request. */
  #service(name: ServiceName): Promise<Module> {
    let p = this.#servicePromises.get(name);
    if (!p) {
      p = (async () => {
        const spec = this.#serviceSpecs.find((s) => s.name === name);
        if (!spec) throw new IronpostError("E_NO_SERVICE", `this build has no ${name} service`);
        const service = await spec.build({
          section: this.#section(spec),
          stateDir: this.#config.general.state_dir,
          sections: this.#config as unknown as Record<string, Record<string, unknown>>,
          channels: { outputs: {}, inputs: {} },
          store: this.#store,
          services: { containers: () => Promise.reject(new Error("services do not nest")) },
        });
        await service.start();
        this.#services.push({ spec, module: service });
        this.#log.info("service {service} started", { service: service.name });
        return service;
      })();
      this.#servicePromises.set(name, p);
    }
    return p;
  }

  #channelsFor(spec: ModuleSpec): ModuleChannels {
    const outputs: Record<string, unknown> = {};
    const inputs: Record<string, unknown> = {};
    for (const name of spec.produces) outputs[name] = this.channels[name];
    for (const name of spec.consumes) {
      const capacity = this.channels[name].capacity;
      const input = new Channel<ChannelMap[typeof name]>(`${name}->${spec.name}`, capacity);
      const list = this.#inputs.get(name) ?? [];
      list.push(input);
      this.#inputs.set(name, list);
      inputs[name] = input;
    }
    return { outputs, inputs } as ModuleChannels;
  }

  #startTap(name: ChannelName): void {
    const source = this.channels[name] as Channel<ChannelMap[ChannelName]>;
    this.#taps.push((async () => {
      for await (const event of source) {
        if (name === "alerts" || name === "actions") await this.#audit(event);
        for (const input of this.#inputs.get(name) ?? []) {
          try {
            await input.send(event);
          } catch {
            // A consumer that already stopped has its input closed; the send is counted there.
          }
        }
      }
      for (const input of this.#inputs.get(name) ?? []) input.close();
    })());
  }

  async #audit(event: ChannelMap[ChannelName]): Promise<void> {
    try {
      if (event.kind === "alert") {
        await this.#store.insertAlert(event);
        this.#audited.alerts++;
      } else if (event.kind === "action") {
        await this.#store.insertAction(event);
        this.#audited.actions++;
      }
    } catch (err) {
      this.#tapErrors++;
      this.#log.error("audit write of {id} failed: {error}", {
        id: event.id,
        error: errorMessage(err),
      });
    }
  }

  #closeFinishedChannels(stopped: Set<string>): void {
    for (const name of CHANNEL_NAMES) {
      const producers = this.#running.filter((r) => r.spec.produces.includes(name));
      if (producers.every((r) => stopped.has(r.spec.name))) {
        this.channels[name].close();
      }
    }
  }

  async #rollback(): Promise<void> {
    try {
      await this.stop();
    } catch (err) {
      this.#log.error("while rolling back a failed start: {error}", { error: errorMessage(err) });
    }
  }
}

/**
 * Order specs so that a module producing a channel starts before any module consuming it;
 * ties keep registry order. Cycles (a guard that both reads alerts and writes actions that
 * another reads) fall back to registry order for the remaining modules.
 */
export function orderProducersFirst(specs: ModuleSpec[]): ModuleSpec[] {
  const left = [...specs];
  const out: ModuleSpec[] = [];
  while (left.length > 0) {
    const i = left.findIndex((s) =>
      !s.consumes.some((ch) => left.some((o) => o !== s && o.produces.includes(ch)))
    );
    out.push(left.splice(i < 0 ? 0 : i, 1)[0]);
  }
  return out;
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IronpostError("E_TIMEOUT", message, { ms })), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
