/**
 * Issue 16's fault suite, `dockerd` restarted under load (and issue 13's "dockerd stopped and
 * started during a queued action"), against the real daemon: the running dockerd is stopped
 * with SIGTERM and started again with the same arguments (`stopDockerd` / `startDockerd` in
 * tests/helpers/docker.ts read them from /proc). A dockerd is always running again when a
 * test ends, since the rest of the suite needs it.
 *
 * 1. The guard in-process, with the real container inventory: an action decided while
 *    dockerd is down is held (`queued`, health degraded); when dockerd is back and has
 *    restarted the `--restart=always` container, the held action runs (`done`) and
 *    `docker inspect` shows the container paused.
 * 2. The real agent (derived flags) with the host sensors, the log pipeline and the guard
 *    while a bounded exec loop runs on the host and sshd lines are appended to a tailed
 *    file: through the restart it never exits, the container inventory is degraded then
 *    healthy again, no sensor record is lost, every line is read, alerts and actions are
 *    still stored, and a container started afterwards is attributed by name.
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
import { controlRequest } from "../../mod/daemon/mod.ts";
import { GuardModule } from "../../mod/guard/mod.ts";
import type { GuardConfig } from "../../mod/guard/spec.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  OutputTail,
  ROOT,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import {
  docker,
  DOCKER_SOCKET,
  type DockerdProcess,
  ensureBusyboxImage,
  ensureDocker,
  inspectContainer,
  pingDocker,
  removeContainers,
  runContainer,
  startDockerd,
  stopDockerd,
} from "../helpers/docker.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

/** A container main process that exits on SIGTERM within a second, so dockerd stops fast. */
const QUICK_TO_STOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"];
const RESTARTING = ["--restart=always", "--stop-timeout=3"];

/** The dockerd this file stopped and has not started again yet. */
let stopped: DockerdProcess | undefined;

async function stopIt(): Promise<void> {
  stopped = await stopDockerd();
}

async function startIt(): Promise<void> {
  if (!stopped) return;
  await startDockerd(stopped);
  stopped = undefined;
}

/** In every `finally`: a dockerd answers again, whatever happened. */
async function restore(): Promise<void> {
  if (stopped) await startIt();
  if (!(await pingDocker())) {
    throw new Error("dockerd is not answering after the test (and this test did not stop it)");
  }
}

const GUARD_CFG: GuardConfig = {
  enabled: true,
  policy_dir: "",
  cache_ttl_secs: 60,
  retry_attempts: 0,
  retry_backoff_secs: 0,
  dry_run: false,
  cooldown_secs: 0,
  max_actions_per_minute: 30,
  protected: [],
  protected_sources: [],
  queue_capacity: 100,
  queue_max_wait_secs: 300,
};

Deno.test({
  name: "dockerd stopped and started while a guard action is held: it runs when Docker is back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!requireRoot()) return;
    if (!requirePart("docker", await ensureDocker())) return;
    await ensureBusyboxImage();
    const name = `ironpost-ct-dockerd-held-${Deno.pid}`;
    const dir = await Deno.makeTempDir({ prefix: "ironpost-dockerd-" });
    await Deno.mkdir(`${dir}/policies`);
    await Deno.writeTextFile(
      `${dir}/policies/test.toml`,
      `[[policy]]\nid = "p-held"\n[policy.match]\nrules = ["r-held"]\n` +
        `[[policy.actions]]\ntype = "pause"\n`,
    );
    const store = await SqliteStore.open(`${dir}/ironpost.db`);
    // Reconnect attempts at most 2 s apart, so the inventory's return is quick to see.
    const inventory = new ContainerInventory({ socketPath: DOCKER_SOCKET, backoffMaxMs: 2000 });
    const actionsCh = new Channel<ActionEvent>("actions", 1000);
    const decisionsCh = new Channel<DecisionEvent>("decisions", 1000);
    const actions: ActionEvent[] = [];
    const drain = (async () => {
      for await (const a of actionsCh) actions.push(a);
    })();
    const guard = new GuardModule(
      { ...GUARD_CFG, policy_dir: `${dir}/policies` },
      { actions: actionsCh, decisions: decisionsCh },
      {
        store,
        containers: inventory,
        packetFilter: { enabled: false, allowlist: [], allowlistFiles: [] },
        env: () => undefined,
      },
    );
    try {
      const id = await runContainer(name, QUICK_TO_STOP, { flags: RESTARTING });
      await inventory.start();
      await guard.start();
      assert(inventory.connected, "the inventory follows Docker before the restart");
      const ref: ContainerRef = { id, name, image: "ironpost-test/busybox:1" };
      const alert = newEvent<AlertEvent>({
        kind: "alert",
        ruleId: "r-held",
        title: "test r-held",
        severity: "high",
        source: "test",
        tags: [],
        evidence: [],
        container: ref,
      });

      const t0 = Date.now();
      await stopIt();
      console.log(`  dockerd stopped in ${Date.now() - t0} ms`);
      await guard.handle(alert);
      assertEquals(actions.map((a) => [a.action, a.outcome]), [["pause", "queued"]]);
      assertEquals(guard.health().state, "degraded");
      assertMatch(guard.health().reason!, /Docker unreachable.*1 action\(s\) held/);
      assert(
        await waitFor(() => !inventory.connected, 5000),
        "the inventory notices Docker is gone",
      );
      assertEquals(inventory.health().state, "degraded");

      const t1 = Date.now();
      await startIt();
      const back = Date.now();
      console.log(`  dockerd answered ${back - t1} ms after start`);
      // The container comes back by its restart policy, and the held action runs.
      assert(
        await waitFor(() => actions.length >= 2, 10_000),
        `the held action did not run within 10 s: ${JSON.stringify(actions)}`,
      );
      console.log(`  held action ran ${Date.now() - back} ms after dockerd answered`);
      const ran = actions[1];
      assertEquals([ran.action, ran.outcome, ran.alertId], ["pause", "done", alert.id], ran.error);
      assertMatch(ran.detail!, /paused; held \d+ s/);
      assertEquals(actions.length, 2, JSON.stringify(actions));
      const st = (await inspectContainer(name)).State;
      assertEquals([st.Running, st.Paused], [true, true]);
      assertEquals(guard.health().state, "healthy");
      assert(
        await waitFor(() => inventory.connected, 15_000),
        `the inventory reconnects: ${JSON.stringify(inventory.health())}`,
      );
      assertEquals(inventory.byId(name)?.id, id, "the inventory knows the container again");

      assertEquals((await docker(["unpause", name])).code, 0);
    } finally {
      await guard.stop().catch(() => {});
      await inventory.stop().catch(() => {});
      actionsCh.close();
      decisionsCh.close();
      await drain;
      await store.close();
      try {
        await restore();
      } finally {
        await docker(["unpause", name]).catch(() => {});
        await removeContainers([name]);
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

/** Prometheus samples of the agent's /metrics, `name{labels} value`. */
async function metrics(socket: string): Promise<Map<string, number>> {
  const r = await controlRequest(socket, "GET", "/metrics");
  const out = new Map<string, number>();
  for (const line of r.body.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

function sum(m: Map<string, number>, prefix: string): number {
  let n = 0;
  for (const [k, v] of m) if (k === prefix || k.startsWith(`${prefix}{`)) n += v;
  return n;
}

interface HealthBody {
  status: string;
  modules: Record<string, { state: string; reason?: string }>;
}

async function health(socket: string): Promise<HealthBody | undefined> {
  try {
    return JSON.parse((await controlRequest(socket, "GET", "/health", 2000)).body);
  } catch {
    return undefined;
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An sshd "Failed password" line stamped now, from `ip`. */
function failedPassword(ip: string, n: number): string {
  const d = new Date();
  const p = (x: number) => String(x).padStart(2, "0");
  const stamp = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return `${stamp} testhost sshd[${4000 + n}]: Failed password for root from ${ip} ` +
    `port ${40000 + n} ssh2`;
}

Deno.test({
  name: "the agent keeps its sensors, log pipeline and store through a dockerd restart under load",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!requireRoot()) return;
    if (!requirePart("docker", await ensureDocker())) return;
    await ensureBusyboxImage();
    const { dir, config } = await tempAgentConfig(
      `[sensors]\nenabled = true\n` +
        `[log_pipeline]\nenabled = true\nrules_dir = "${ROOT}rules"\n` +
        `file_paths = ["DIR/auth.log"]\nflush_interval_secs = 1\n` +
        `[container]\nenabled = true\npolicy_dir = "${ROOT}config/policies"\ndry_run = true\n`,
    );
    await Deno.writeTextFile(config, (await Deno.readTextFile(config)).replace("DIR", dir));
    const authLog = `${dir}/auth.log`;
    await Deno.writeTextFile(authLog, "");
    const socket = `${dir}/run/ironpost.sock`;
    const cli = (args: string[]) => runAgent([...args, "--config", config], { flagsFrom: config });
    const before = `ironpost-ct-dockerd-before-${Deno.pid}`;
    const after = `ironpost-ct-dockerd-after-${Deno.pid}`;
    const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
    const log = new OutputTail(agent.stderr);
    const out = new OutputTail(agent.stdout);
    let exited: Deno.CommandStatus | undefined;
    agent.status.then((s) => exited = s);
    let load: Deno.ChildProcess | undefined;
    let written = 0;
    let appending = true;
    let appender: Promise<void> | undefined;
    try {
      assert(await waitHealthy(socket, 30_000), `not healthy:\n${log.text.slice(-3000)}`);
      await runContainer(before, QUICK_TO_STOP, { flags: RESTARTING });
      assert(
        await waitFor(
          async () => (await health(socket))?.modules.containers?.state === "healthy",
          15_000,
        ),
        `containers not healthy before the restart: ${JSON.stringify(await health(socket))}`,
      );

      // Load on the host: an exec loop (each /bin/true one exec and one exit record) until
      // the restart is over (the stop file), at most 20,000 processes.
      load = new Deno.Command("/bin/sh", {
        args: [
          "-c",
          'i=0; while [ $i -lt 20000 ] && [ ! -e "$1" ]; do /bin/true; i=$((i+1)); done; echo $i',
          "sh",
          `${dir}/stop-load`,
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      // And sshd lines, 40 every 100 ms, from 198.18.1.x, until the restart is over.
      appender = (async () => {
        for (let batch = 0; appending && batch < 1200; batch++) {
          const lines = Array.from(
            { length: 40 },
            (_, i) => failedPassword(`198.18.1.${1 + ((batch * 40 + i) % 200)}`, written + i),
          );
          await Deno.writeTextFile(authLog, lines.join("\n") + "\n", { append: true });
          written += lines.length;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      await new Promise((r) => setTimeout(r, 1000));
      const t0 = Date.now();
      await stopIt();
      console.log(`  dockerd stopped in ${Date.now() - t0} ms`);
      const degraded = await waitFor(
        async () => (await health(socket))?.modules.containers?.state === "degraded",
        5000,
      );
      assert(
        degraded,
        `containers not degraded while dockerd is down: ${JSON.stringify(await health(socket))}`,
      );
      await new Promise((r) => setTimeout(r, 1000));
      await startIt();
      const back = Date.now();

      // The inventory reconnects: containers healthy again within 15 s of dockerd answering.
      let h: HealthBody | undefined;
      assert(
        await waitFor(async () => {
          h = await health(socket);
          return h?.modules.containers?.state === "healthy";
        }, 15_000),
        `containers not healthy 15 s after dockerd came back: ${JSON.stringify(h)}`,
      );
      console.log(`  containers healthy ${Date.now() - back} ms after dockerd answered`);
      appending = false;
      await appender;
      await Deno.writeTextFile(`${dir}/stop-load`, "");
      const done = await load.output();
      load = undefined;
      assertEquals(done.code, 0);
      const execs = Number(new TextDecoder().decode(done.stdout).trim());

      // Every line appended across the restart was read.
      let m = new Map<string, number>();
      assert(
        await waitFor(async () => {
          m = await metrics(socket);
          return sum(m, "ironpost_log_lines_total") >= written;
        }, 15_000),
        `lines read ${sum(m, "ironpost_log_lines_total")} of ${written}`,
      );
      assertEquals(sum(m, "ironpost_log_lines_total"), written);
      // The sensors lost nothing and delivered the load.
      assertEquals(sum(m, "ironpost_sensor_records_lost_total"), 0, "sensor records lost");
      assert(sum(m, "ironpost_sensor_records_emitted_total") >= execs, "the exec loop was seen");
      // Nothing dropped between the modules, nothing failed to reach the store.
      assertEquals(sum(m, "ironpost_channel_dropped_total"), 0, "events dropped by a channel");
      assertEquals(sum(m, "ironpost_store_write_errors_total"), 0, "store write errors");
      console.log(
        `  ${written} lines read; ${execs} execs on the host; sensor records emitted ` +
          `${sum(m, "ironpost_sensor_records_emitted_total")}, lost 0; channels dropped 0`,
      );

      // After the restart: a container writing under /etc is attributed by name, alerted,
      // and the guard decides its pause (dry run: audited as "would"), all in the store.
      await runContainer(after, ["sh", "-c", "sleep 1; echo evil >> /etc/profile; sleep 300"]);
      let actions: { action: string; outcome: string; target: string }[] = [];
      assert(
        await waitFor(async () => {
          const r = await cli(["guard", "actions", "--json"]);
          if (r.code !== 0) return false;
          actions = JSON.parse(r.stdout || "[]");
          return actions.some((a) => a.target === after && a.action === "pause");
        }, 15_000),
        `no pause decided for ${after}: ${JSON.stringify(actions)}\n${log.text.slice(-3000)}`,
      );
      assertEquals(
        actions.find((a) => a.target === after && a.action === "pause")?.outcome,
        "would",
      );
      const alerts = await cli(["alerts", "--json"]);
      assertEquals(alerts.code, 0, alerts.stderr);
      assert(alerts.stdout.includes(after), "the /etc write alert names the container");
      assert(
        alerts.stdout.includes("0d5b8b7c-6c61-4f4e-8f6a-2e4a7e1b2a02") ||
          alerts.stdout.includes("1c9e5a7f-3d2b-4f6a-8b0c-7e4d2a1f2a10"),
        "the sshd lines raised brute-force alerts",
      );

      assertEquals(exited, undefined, "the agent never exited");
      assertEquals((await health(socket))?.status, "healthy");
    } finally {
      appending = false;
      await appender?.catch(() => {});
      if (load) {
        try {
          load.kill("SIGKILL");
        } catch { /* done */ }
        await load.status;
      }
      try {
        await restore();
      } finally {
        await removeContainers([before, after]);
        if (!exited) agent.kill("SIGTERM");
        await agent.status;
        await Promise.all([log.closed(), out.closed()]);
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
