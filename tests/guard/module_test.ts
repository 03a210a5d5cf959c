/**
 * The container guard against the real Docker daemon: an AlertEvent in, the container's real
 * state out (`docker inspect`), every action audited. Dry run, cooldowns, the rate cap, the
 * protections, release, a target removed meanwhile, and Docker unreachable while an action
 * waits (a socket proxy in front of the real daemon is stopped and started again).
 */
import {
  type ActionEvent,
  type AlertEvent,
  Channel,
  type ContainerRef,
  type DecisionEvent,
  newEvent,
} from "../../mod/core/mod.ts";
import { ContainerInventory } from "../../mod/containers/mod.ts";
import { GuardModule, type PacketFilterView } from "../../mod/guard/mod.ts";
import type { GuardConfig } from "../../mod/guard/spec.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { runAgent, tempAgentConfig, waitFor } from "../helpers/agent.ts";
import {
  createNetwork,
  DOCKER_SOCKET,
  ensureBusyboxImage,
  ensureDocker,
  inspectContainer,
  removeContainers,
  removeNetworks,
  runContainer,
} from "../helpers/docker.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

const CFG: GuardConfig = {
  enabled: true,
  policy_dir: "",
  cache_ttl_secs: 60,
  retry_attempts: 0,
  retry_backoff_secs: 0,
  dry_run: false,
  cooldown_secs: 300,
  max_actions_per_minute: 30,
  protected: [],
  protected_sources: [],
  queue_capacity: 100,
  queue_max_wait_secs: 300,
};

/** Every action every harness audited, for the store and `ironpost guard actions` at the end. */
const AUDITED: ActionEvent[] = [];

interface Harness {
  guard: GuardModule;
  actions: ActionEvent[];
  decisions: DecisionEvent[];
  inventory: ContainerInventory;
  stop(): Promise<void>;
}

/** A started guard with `policies` (TOML) and config overrides, reading real Docker. */
async function harness(
  policies: string,
  cfg: Partial<GuardConfig> = {},
  opts: {
    socket?: string;
    packetFilter?: Partial<PacketFilterView>;
    env?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-guard-" });
  await Deno.mkdir(`${dir}/policies`);
  await Deno.writeTextFile(`${dir}/policies/test.toml`, policies);
  const store = await SqliteStore.open(`${dir}/ironpost.db`);
  const inventory = new ContainerInventory({ socketPath: opts.socket ?? DOCKER_SOCKET });
  const actionsCh = new Channel<ActionEvent>("actions", 10_000);
  const decisionsCh = new Channel<DecisionEvent>("decisions", 10_000);
  const actions: ActionEvent[] = [];
  const decisions: DecisionEvent[] = [];
  const drains = [
    (async () => {
      for await (const a of actionsCh) actions.push(a);
    })(),
    (async () => {
      for await (const d of decisionsCh) decisions.push(d);
    })(),
  ];
  const guard = new GuardModule(
    { ...CFG, policy_dir: `${dir}/policies`, ...cfg },
    { actions: actionsCh, decisions: decisionsCh },
    {
      store,
      containers: inventory,
      packetFilter: { enabled: true, allowlist: [], allowlistFiles: [], ...opts.packetFilter },
      env: (n) => opts.env?.[n],
    },
  );
  await guard.start();
  return {
    guard,
    actions,
    decisions,
    inventory,
    async stop() {
      await guard.stop();
      actionsCh.close();
      decisionsCh.close();
      await Promise.all(drains);
      AUDITED.push(...actions);
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function alert(ruleId: string, extra: Partial<AlertEvent> = {}): AlertEvent {
  return newEvent<AlertEvent>({
    kind: "alert",
    ruleId,
    title: `test ${ruleId}`,
    severity: "high",
    source: "test",
    tags: [],
    evidence: [],
    ...extra,
  });
}

async function ref(name: string): Promise<ContainerRef> {
  const c = await inspectContainer(name);
  return { id: c.Id, name, image: "ironpost-test/busybox:1" };
}

const policy = (id: string, rule: string, action: string, extra = "") =>
  `[[policy]]\nid = "${id}"\n${extra.includes("cooldown_secs") ? "" : "cooldown_secs = 0\n"}` +
  `${extra}\n[policy.match]\nrules = ["${rule}"]\n[[policy.actions]]\n${action}\n`;

Deno.test("container guard against the real Docker daemon", async (t) => {
  if (!requireRoot()) return;
  if (!requirePart("docker", await ensureDocker())) return;
  await ensureBusyboxImage();
  const tag = `${Deno.pid}-${Date.now() % 100000}`;
  const names: string[] = [];
  const networks: string[] = [];
  const run = async (suffix: string, args: string[], flags: string[] = [], labels = {}) => {
    const name = `ironpost-ct-guard-${suffix}-${tag}`;
    names.push(name);
    await runContainer(name, args, { flags, labels });
    return name;
  };
  try {
    await t.step(
      "pause, audited with Docker's answer; release unpauses and audits the undo",
      async () => {
        const name = await run("pause", ["sleep", "300"]);
        const h = await harness(policy("p-pause", "r-pause", 'type = "pause"'));
        try {
          const a = alert("r-pause", { container: await ref(name) });
          const started = performance.now();
          await h.guard.handle(a);
          const ms = performance.now() - started;
          assertEquals((await inspectContainer(name)).State.Paused, true);
          const done = h.actions.find((x) => x.action === "pause")!;
          assertEquals(done.outcome, "done");
          assertEquals(done.alertId, a.id);
          assertEquals(done.policyId, "p-pause");
          assertEquals(done.target, name);
          assertEquals(done.detail, "paused");
          assert(done.durationMs !== undefined && done.durationMs >= 0);
          console.log(`  alert to paused: ${ms.toFixed(1)} ms`);

          // Release unpauses it and audits the undo.
          {
            const events = await h.guard.release(name);
            assertEquals(events.map((e) => [e.action, e.outcome]), [["unpause", "done"]]);
            const s = (await inspectContainer(name)).State;
            assertEquals([s.Paused, s.Running], [false, true]);
            // Nothing is left to release.
            let nothing = "";
            await h.guard.release(name).catch((e) => (nothing = String(e)));
            assertMatch(nothing, /no recorded action/);
          }
        } finally {
          await h.stop();
        }
      },
    );

    await t.step("isolate then release: every network and alias restored exactly", async () => {
      const net = `ironpost-ct-net-${tag}`;
      networks.push(net);
      await createNetwork(net);
      const name = await run("iso", ["sleep", "300"], [
        "--network",
        net,
        "--network-alias",
        "web-alias",
      ]);
      const before = (await inspectContainer(name)).NetworkSettings.Networks;
      assertEquals(Object.keys(before), [net]);
      const h = await harness(policy("p-iso", "r-iso", 'type = "isolate"'));
      try {
        await h.guard.handle(alert("r-iso", { container: await ref(name) }));
        assertEquals(Object.keys((await inspectContainer(name)).NetworkSettings.Networks), []);
        const iso = h.actions.find((x) => x.action === "isolate")!;
        assertEquals(iso.outcome, "done");
        assertEquals(iso.detail, `disconnected from ${net}`);

        const events = await h.guard.release(name);
        assertEquals(events.map((e) => [e.action, e.outcome]), [["reconnect", "done"]]);
        const after = (await inspectContainer(name)).NetworkSettings.Networks;
        assertEquals(Object.keys(after), [net]);
        assert(after[net].Aliases?.includes("web-alias"), JSON.stringify(after[net].Aliases));
      } finally {
        await h.stop();
      }
    });

    await t.step("stop with a grace period, and kill with a signal", async () => {
      const stubborn = await run("stop", ["sh", "-c", "trap '' TERM; sleep 300 & wait"]);
      const victim = await run("kill", ["sleep", "300"]);
      const h = await harness(
        policy("p-stop", "r-stop", 'type = "stop"\ngrace_secs = 1') +
          policy("p-kill", "r-kill", 'type = "kill"\nsignal = "SIGKILL"'),
      );
      try {
        const t0 = performance.now();
        await h.guard.handle(alert("r-stop", { container: await ref(stubborn) }));
        const took = performance.now() - t0;
        const s = (await inspectContainer(stubborn)).State;
        assertEquals(s.Running, false);
        assert(took >= 900, `the grace period was honoured (${took.toFixed(0)} ms)`);
        await h.guard.handle(alert("r-kill", { container: await ref(victim) }));
        const k = (await inspectContainer(victim)).State;
        assertEquals([k.Running, k.ExitCode], [false, 137]);
        assertEquals(
          h.actions.map((a) => [a.action, a.outcome, a.detail]),
          [["stop", "done", "stopped (grace 1 s)"], ["kill", "done", "sent SIGKILL"]],
        );
      } finally {
        await h.stop();
      }
    });

    await t.step(
      "dry run (global and per policy) decides and audits, changes nothing",
      async () => {
        const name = await run("dry", ["sleep", "300"]);
        for (const [cfg, extra] of [[{ dry_run: true }, ""], [{}, "dry_run = true"]] as const) {
          const h = await harness(policy("p-dry", "r-dry", 'type = "pause"', extra), cfg);
          try {
            await h.guard.handle(alert("r-dry", { container: await ref(name) }));
            assertEquals(h.actions.map((a) => [a.action, a.outcome]), [["pause", "would"]]);
            assertEquals((await inspectContainer(name)).State.Paused, false);
          } finally {
            await h.stop();
          }
        }
      },
    );

    await t.step("cooldown per (policy, target) and the rate cap suppress and audit", async () => {
      const a1 = await run("cool1", ["sleep", "300"]);
      const a2 = await run("cool2", ["sleep", "300"]);
      const h = await harness(
        `[[policy]]\nid = "p-cool"\ncooldown_secs = 600\n[policy.match]\nrules = ["r-cool"]\n` +
          `[[policy.actions]]\ntype = "alert_only"\n`,
        { max_actions_per_minute: 2 },
      );
      try {
        const c1 = await ref(a1);
        await h.guard.handle(alert("r-cool", { container: c1 }));
        await h.guard.handle(alert("r-cool", { container: c1 }));
        // alert_only actions bypass the limits; a pausing policy does not.
        assertEquals(h.actions.map((a) => a.outcome), ["done", "done"]);
      } finally {
        await h.stop();
      }
      const g = await harness(policy("p-lim", "r-lim", 'type = "pause"', "cooldown_secs = 600"), {
        max_actions_per_minute: 1,
      });
      try {
        const c1 = await ref(a1);
        const c2 = await ref(a2);
        await g.guard.handle(alert("r-lim", { container: c1 }));
        await g.guard.handle(alert("r-lim", { container: c1 }));
        await g.guard.handle(alert("r-lim", { container: c2 }));
        assertEquals(g.actions.map((a) => a.outcome), ["done", "suppressed", "suppressed"]);
        assertMatch(g.actions[1].error!, /^cooldown: p-lim acted on/);
        assertMatch(g.actions[2].error!, /^rate cap: 1 actions in the last minute/);
        assertEquals((await inspectContainer(a2)).State.Paused, false);
        assertEquals(g.guard.health().state, "degraded");
      } finally {
        await g.stop();
        await removeContainers([a1]);
      }
    });

    await t.step("protected containers (label, name glob) are never touched", async () => {
      const lab = await run("prot1", ["sleep", "300"], [], { "ironpost.protected": "true" });
      const named = await run("keep", ["sleep", "300"]);
      const h = await harness(policy("p-prot", "r-prot", 'type = "kill"'), {
        protected: ["ironpost-ct-guard-keep-*"],
      });
      try {
        await h.guard.handle(alert("r-prot", { container: await ref(lab) }));
        await h.guard.handle(alert("r-prot", { container: await ref(named) }));
        assertEquals(h.actions.map((a) => a.outcome), ["suppressed", "suppressed"]);
        assertMatch(h.actions[0].error!, /label ironpost\.protected=true/);
        assertMatch(h.actions[1].error!, /matches container\.protected/);
        assertEquals((await inspectContainer(lab)).State.Running, true);
        assertEquals((await inspectContainer(named)).State.Running, true);
      } finally {
        await h.stop();
      }
    });

    await t.step(
      "block_ip: a decision with the TTL; the allowlist and the operator's session are refused",
      async () => {
        const h = await harness(
          policy("p-block", "r-block", 'type = "block_ip"\nttl = "10m"'),
          { protected_sources: ["198.18.9.0/24"] },
          {
            packetFilter: { allowlist: ["198.18.0.0/24"] },
            env: { SSH_CONNECTION: "198.18.2.2 51234 198.18.0.1 22" },
          },
        );
        try {
          for (const ip of ["198.18.1.5", "198.18.0.7", "198.18.2.2", "198.18.9.9"]) {
            await h.guard.handle(alert("r-block", { srcIp: ip }));
          }
          assertEquals(h.decisions.map((d) => [d.op, d.cidr, d.ttlSecs]), [[
            "block",
            "198.18.1.5",
            600,
          ]]);
          assertEquals(h.actions.map((a) => [a.target, a.outcome]), [
            ["198.18.1.5", "planned"],
            ["198.18.0.7", "suppressed"],
            ["198.18.2.2", "suppressed"],
            ["198.18.9.9", "suppressed"],
          ]);
          assertMatch(h.actions[1].error!, /packet filter's allowlist/);
          assertMatch(h.actions[2].error!, /operator's SSH session/);
          assertMatch(h.actions[3].error!, /container\.protected_sources/);
          // Without a source address there is nothing to block.
          await h.guard.handle(alert("r-block"));
          assertEquals(h.actions.at(-1)?.outcome, "skipped");
          const [unblock] = await h.guard.release("198.18.1.5");
          assertEquals([unblock.action, unblock.outcome], ["unblock_ip", "planned"]);
          assertEquals(h.decisions.at(-1)?.op, "unblock");
        } finally {
          await h.stop();
        }
      },
    );

    await t.step("block_ip without a running packet filter fails, and says why", async () => {
      const h = await harness(policy("p-nofilter", "r-nf", 'type = "block_ip"\nttl = "1m"'), {}, {
        packetFilter: { enabled: false },
      });
      try {
        await h.guard.handle(alert("r-nf", { srcIp: "198.18.3.3" }));
        assertEquals(h.actions.map((a) => a.outcome), ["failed"]);
        assertMatch(h.actions[0].error!, /packet filter is not running/);
        assertEquals(h.decisions, []);
      } finally {
        await h.stop();
      }
    });

    await t.step("a target removed meanwhile is audited as gone, not retried", async () => {
      const name = await run("gone", ["sleep", "300"]);
      const c = await ref(name);
      await removeContainers([name]);
      const h = await harness(policy("p-gone", "r-gone", 'type = "pause"'), { retry_attempts: 3 });
      try {
        const t0 = performance.now();
        await h.guard.handle(alert("r-gone", { container: c }));
        assertEquals(h.actions.map((a) => a.outcome), ["gone"]);
        assert(performance.now() - t0 < 2000, "no retries for a vanished target");
      } finally {
        await h.stop();
      }
    });

    await t.step(
      "Docker unreachable: held, degraded, then done when it returns; or expired",
      async () => {
        const name = await run("outage", ["sleep", "300"]);
        const dir = await Deno.makeTempDir({ prefix: "ironpost-proxy-" });
        const proxy = new DockerProxy(`${dir}/docker.sock`);
        proxy.start();
        const h = await harness(
          policy("p-out", "r-out", 'type = "pause"') + policy("p-exp", "r-exp", 'type = "pause"'),
          { queue_max_wait_secs: 2 },
          { socket: `${dir}/docker.sock` },
        );
        try {
          const c = await ref(name);
          await proxy.stop(); // Docker goes away for the agent
          await h.guard.handle(alert("r-out", { container: c }));
          assertEquals(h.actions.map((a) => a.outcome), ["queued"]);
          assertEquals(h.guard.health().state, "degraded");
          assertMatch(h.guard.health().reason!, /Docker unreachable.*1 action\(s\) held/);
          assertEquals((await inspectContainer(name)).State.Paused, false);
          proxy.start(); // and comes back
          assert(
            await waitFor(() => h.actions.length === 2, 5000),
            JSON.stringify(h.actions.map((a) => a.outcome)),
          );
          assertEquals(h.actions[1].outcome, "done");
          assertMatch(h.actions[1].detail!, /paused; held \d+ s/);
          assertEquals((await inspectContainer(name)).State.Paused, true);
          assertEquals(h.guard.health().state, "healthy");

          await proxy.stop();
          const other = await run("outage2", ["sleep", "300"]);
          await h.guard.handle(alert("r-exp", { container: await ref(other) }));
          assert(await waitFor(() => h.actions.length === 4, 6000));
          assertEquals(h.actions.slice(2).map((a) => a.outcome), ["queued", "expired"]);
          assertEquals((await inspectContainer(other)).State.Paused, false);
        } finally {
          await h.stop();
          await proxy.stop();
          await Deno.remove(dir, { recursive: true });
        }
      },
    );

    await t.step(
      "every outcome reaches the store, and ironpost guard actions lists it",
      async () => {
        const { dir, config } = await tempAgentConfig();
        try {
          // What the orchestrator's audit tap does with the actions channel.
          const store = await SqliteStore.open(`${dir}/state/ironpost.db`);
          for (const a of AUDITED) await store.insertAction(a);
          await store.close();
          const r = await runAgent(["guard", "actions", "--json", "--config", config], {
            flagsFrom: config,
          });
          assertEquals(r.code, 0, r.stderr);
          const listed = JSON.parse(r.stdout) as ActionEvent[];
          assertEquals(listed.length, AUDITED.length);
          assertEquals(
            [...new Set(listed.map((a) => a.outcome))].sort(),
            [
              "done",
              "expired",
              "failed",
              "gone",
              "planned",
              "queued",
              "skipped",
              "suppressed",
              "would",
            ],
          );
          const table = await runAgent(["guard", "actions", "--config", config], {
            flagsFrom: config,
          });
          assertMatch(table.stdout, /isolate\s+ironpost-ct-guard-iso-\S+\s+done\s+p-iso/);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  } finally {
    await removeContainers(names);
    await removeNetworks(networks);
  }
});

/**
 * A unix-socket proxy in front of the real Docker socket: stopping it is, for the guard,
 * Docker going away (connections refused), starting it again is Docker coming back.
 */
class DockerProxy {
  #listener?: Deno.UnixListener;
  #conns = new Set<Deno.Conn>();
  #loop?: Promise<void>;
  constructor(readonly path: string) {}

  start(): void {
    try {
      Deno.removeSync(this.path);
    } catch {
      // not there
    }
    const l = Deno.listen({ transport: "unix", path: this.path });
    this.#listener = l;
    this.#loop = (async () => {
      try {
        for await (const conn of l) void this.#pipe(conn);
      } catch {
        // closed
      }
    })();
  }

  async #pipe(conn: Deno.Conn): Promise<void> {
    this.#conns.add(conn);
    let up: Deno.Conn | undefined;
    try {
      up = await Deno.connect({ transport: "unix", path: DOCKER_SOCKET });
      this.#conns.add(up);
      await Promise.all([
        conn.readable.pipeTo(up.writable).catch(() => {}),
        up.readable.pipeTo(conn.writable).catch(() => {}),
      ]);
    } catch {
      // either side went away
    } finally {
      for (const c of [conn, up]) {
        if (!c) continue;
        this.#conns.delete(c);
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.#listener?.close();
    this.#listener = undefined;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    this.#conns.clear();
    await this.#loop;
    try {
      Deno.removeSync(this.path);
    } catch {
      // gone
    }
  }
}
