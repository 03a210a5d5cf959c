import {
  AggregateStopError,
  type AlertEvent,
  type Health,
  IronpostError,
  type Module,
  newEvent,
} from "../../mod/core/mod.ts";
import { type IronpostConfig, loadConfig } from "../../mod/config/mod.ts";
import { type ModuleSpec, Orchestrator } from "../../mod/daemon/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";

async function setup(extra = "") {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-orch-" });
  await Deno.writeTextFile(
    `${dir}/c.toml`,
    `[general]\nstate_dir = "${dir}"\nshutdown_timeout_secs = 1\n[channels]\nalert_capacity = 8\n${extra}`,
  );
  const { config } = await loadConfig({ path: `${dir}/c.toml`, env: () => undefined, uid: 0 });
  const store = await SqliteStore.open(`${dir}/ironpost.db`);
  return { dir, config, store };
}

/** A module that records lifecycle calls into a shared journal. */
class Probe implements Module {
  constructor(
    readonly name: string,
    private journal: string[],
    private opts: { failStart?: boolean; failStop?: boolean; hangStop?: boolean; health?: Health } =
      {},
  ) {}
  start() {
    this.journal.push(`start ${this.name}`);
    return this.opts.failStart ? Promise.reject(new Error("port in use")) : Promise.resolve();
  }
  stop() {
    this.journal.push(`stop ${this.name}`);
    if (this.opts.hangStop) return new Promise<void>(() => {});
    return this.opts.failStop ? Promise.reject(new Error(`${this.name} stuck`)) : Promise.resolve();
  }
  health(): Health {
    return this.opts.health ?? { state: "healthy" };
  }
}

function spec(
  name: string,
  m: (j: string[]) => Module,
  j: string[],
  p: Partial<ModuleSpec> = {},
): ModuleSpec {
  return { name, produces: [], consumes: [], build: () => m(j), ...p };
}

/** Sends `n` alerts as fast as backpressure allows; stop() waits for the sends in flight. */
class AlertProducer implements Module {
  readonly name = "producer";
  #running = true;
  #loop?: Promise<void>;
  sent = 0;
  constructor(private out: { send(a: AlertEvent): Promise<void> }, private n: number) {}
  start() {
    this.#loop = (async () => {
      while (this.#running && this.sent < this.n) {
        await this.out.send(newEvent<AlertEvent>({
          kind: "alert",
          ruleId: "r",
          title: `alert ${this.sent}`,
          severity: "high",
          source: "test",
          tags: [],
          evidence: [],
        }));
        this.sent++;
      }
    })();
    return Promise.resolve();
  }
  async stop() {
    this.#running = false;
    await this.#loop;
  }
  health(): Health {
    return { state: "healthy" };
  }
}

/** Consumes slowly; stop() returns only once its input is drained. */
class SlowConsumer implements Module {
  readonly name = "consumer";
  received: string[] = [];
  #loop?: Promise<void>;
  constructor(private input: AsyncIterable<AlertEvent>) {}
  start() {
    this.#loop = (async () => {
      for await (const a of this.input) {
        this.received.push(a.id);
        if (this.received.length % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    return Promise.resolve();
  }
  async stop() {
    await this.#loop;
  }
  health(): Health {
    return { state: "healthy" };
  }
}

Deno.test("orchestrator", async (t) => {
  await t.step("starts producers first and stops in the same order", async () => {
    const { config, store } = await setup();
    const j: string[] = [];
    const specs = [
      spec("guard", (j) => new Probe("guard", j), j, {
        consumes: ["alerts"],
        produces: ["actions"],
      }),
      spec("logs", (j) => new Probe("logs", j), j, { consumes: ["packets"], produces: ["alerts"] }),
      spec("xdp", (j) => new Probe("xdp", j), j, { produces: ["packets"] }),
    ];
    const o = new Orchestrator(config, specs, store);
    assertEquals(o.planned, ["xdp", "logs", "guard"]);
    await o.start();
    await o.stop();
    assertEquals(j, [
      "start xdp",
      "start logs",
      "start guard",
      "stop xdp",
      "stop logs",
      "stop guard",
    ]);
    await store.close();
  });

  await t.step(
    "a start failure stops the modules already started and names the cause",
    async () => {
      const { config, store } = await setup();
      const j: string[] = [];
      const o = new Orchestrator(config, [
        spec("a", (j) => new Probe("a", j), j),
        spec("b", (j) => new Probe("b", j, { failStart: true }), j),
        spec("c", (j) => new Probe("c", j), j),
      ], store);
      const e = await assertRejects(o.start());
      assert(e instanceof IronpostError);
      assertEquals(e.code, "E_MODULE_START");
      assertEquals(e.message, "Module b failed to start: port in use");
      assertEquals(j, ["start a", "start b", "stop a", "stop b"]);
      await store.close();
    },
  );

  await t.step("a build failure rolls back too", async () => {
    const { config, store } = await setup();
    const j: string[] = [];
    const o = new Orchestrator(config, [
      spec("a", (j) => new Probe("a", j), j),
      {
        name: "b",
        produces: [],
        consumes: [],
        build: () => {
          throw new Error("bad section");
        },
      },
    ], store);
    const e = await assertRejects(o.start());
    assert(e instanceof IronpostError);
    assertEquals([e.code, e.message], [
      "E_MODULE_BUILD",
      "Module b could not be built: bad section",
    ]);
    assertEquals(j, ["start a", "stop a"]);
    await store.close();
  });

  await t.step("stop errors are collected and reported together, timeouts included", async () => {
    const { config, store } = await setup();
    const j: string[] = [];
    const o = new Orchestrator(config, [
      spec("a", (j) => new Probe("a", j, { failStop: true }), j),
      spec("b", (j) => new Probe("b", j, { hangStop: true }), j),
      spec("c", (j) => new Probe("c", j, { failStop: true }), j),
      spec("d", (j) => new Probe("d", j), j),
    ], store);
    await o.start();
    const began = Date.now();
    const e = await assertRejects(o.stop());
    assert(e instanceof AggregateStopError);
    assertEquals(e.failures.map((f) => f.module), ["a", "b", "c"]);
    assertMatch(
      e.message,
      /^3 module\(s\) failed to stop: a: a stuck; b: b did not stop within 1000 ms; c: c stuck$/,
    );
    assertEquals(j.filter((x) => x.startsWith("stop")), ["stop a", "stop b", "stop c", "stop d"]);
    assert(Date.now() - began < 3000, "each stop is bounded by the shutdown timeout");
    await store.close();
  });

  await t.step("health is the worst of the modules", async () => {
    const { config, store } = await setup();
    const o = new Orchestrator(config, [
      spec("ok", (j) => new Probe("ok", j), []),
      spec(
        "slow",
        (j) => new Probe("slow", j, { health: { state: "degraded", reason: "lag" } }),
        [],
      ),
    ], store);
    await o.start();
    const h = o.health();
    assertEquals(h.state, "degraded");
    assertEquals(h.modules.slow, { state: "degraded", reason: "lag" });
    assertEquals(h.modules.store, { state: "healthy" });
    await o.stop();
    await store.close();
  });

  await t.step("graceful stop with events in flight loses none (store and consumer)", async () => {
    const { config, store } = await setup();
    const n = 3000;
    let producer!: AlertProducer;
    let consumer!: SlowConsumer;
    const o = new Orchestrator(config, [
      {
        name: "consumer",
        produces: [],
        consumes: ["alerts"],
        build: (ctx) => (consumer = new SlowConsumer(ctx.channels.inputs.alerts!)),
      },
      {
        name: "producer",
        produces: ["alerts"],
        consumes: [],
        build: (ctx) => (producer = new AlertProducer(ctx.channels.outputs.alerts!, n)),
      },
    ], store);
    await o.start();
    // Stop while the producer is mid-stream and channels (capacity 8) are full.
    await new Promise((r) => setTimeout(r, 5));
    await o.stop();
    assert(producer.sent > 0);
    assertEquals(consumer.received.length, producer.sent);
    assertEquals((await store.counts()).alerts, producer.sent);
    const stats = o.channelStats();
    assertEquals(stats.every((s) => s.dropped === 0 && s.depth === 0), true);
    await store.close();
  });

  await t.step("a module of a disabled section is not built", async () => {
    const { config, store } = await setup();
    const j: string[] = [];
    const o = new Orchestrator(config as IronpostConfig, [
      spec("ebpf", (j) => new Probe("ebpf", j), j, { section: "ebpf" }),
    ], store);
    assertEquals(o.planned, []);
    await store.close();
  });
});
