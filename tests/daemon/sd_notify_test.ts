/**
 * sd_notify as systemd sees it: the real agent, spawned with the derived flags and
 * NOTIFY_SOCKET naming a datagram socket this test listens on (through a `deno eval
 * --unstable-net` listener, since the test runner itself has no --unstable-net).
 */
import { controlRequest } from "../../mod/daemon/mod.ts";
import { OutputTail, spawnAgent, tempAgentConfig, waitFor } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

interface Datagram {
  at: number;
  fields: Record<string, string>;
}

/** A unix datagram socket at `path`; each datagram it receives is one JSON line. */
function listen(path: string) {
  const code = `
    const conn = Deno.listenDatagram({ transport: "unixpacket", path: ${JSON.stringify(path)} });
    console.log("listening");
    for (;;) {
      const [data] = await conn.receive();
      console.log(JSON.stringify({ at: Date.now(), text: new TextDecoder().decode(data) }));
    }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = new OutputTail(child.stdout);
  const messages = (): Datagram[] =>
    out.text.split("\n").filter((l) => l.startsWith("{")).map((l) => {
      const { at, text } = JSON.parse(l);
      return {
        at,
        fields: Object.fromEntries(
          text.split("\n").map((
            kv: string,
          ) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
        ),
      };
    });
  return { child, out, messages };
}

async function healthy(socket: string): Promise<boolean> {
  try {
    return (await controlRequest(socket, "GET", "/health", 1000)).status === 200;
  } catch {
    return false;
  }
}

Deno.test({
  name: "sd_notify: READY, STATUS, WATCHDOG, RELOADING then READY on SIGHUP, STOPPING",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const { dir, config } = await tempAgentConfig();
    const notify = `${dir}/notify.sock`;
    const socket = `${dir}/run/ironpost.sock`;
    const listener = listen(notify);
    assert(await listener.out.waitFor(/listening/, 10000), "the listener started");
    const env = { NOTIFY_SOCKET: notify, WATCHDOG_USEC: "400000" };
    const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config, env });
    const logs = new OutputTail(agent.stderr);
    const stdout = new OutputTail(agent.stdout);
    const find = (key: string, from = 0) =>
      listener.messages().slice(from).findIndex((m) => key in m.fields);
    try {
      await t.step("READY=1 with STATUS once the control API answers", async () => {
        assert(await waitFor(() => find("READY") >= 0, 15000), logs.text);
        const ready = listener.messages()[find("READY")];
        assertEquals(ready.fields.READY, "1");
        assertMatch(ready.fields.STATUS, /^healthy; modules: store$/);
        assert(await healthy(socket), "healthy when READY=1 arrives");
        assert(!logs.text.includes("notifications are off"), logs.text);
      });

      await t.step("WATCHDOG=1 every WATCHDOG_USEC/2 (400 ms → 200 ms)", async () => {
        const from = listener.messages().length;
        await new Promise((r) => setTimeout(r, 2000));
        const pings = listener.messages().slice(from).filter((m) => m.fields.WATCHDOG === "1");
        assert(pings.length >= 7, `only ${pings.length} WATCHDOG=1 in 2 s`);
        const gaps = pings.slice(1).map((p, i) => p.at - pings[i].at);
        assert(Math.max(...gaps) < 400, `a gap of ${Math.max(...gaps)} ms exceeds WATCHDOG_USEC`);
      });

      await t.step("SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1", async () => {
        const from = listener.messages().length;
        agent.kill("SIGHUP");
        assert(await waitFor(() => find("RELOADING", from) >= 0, 10000), logs.text);
        const at = from + find("RELOADING", from);
        const reloading = listener.messages()[at];
        assertEquals(reloading.fields.RELOADING, "1");
        const uptimeUs = parseFloat(Deno.readTextFileSync("/proc/uptime").split(" ")[0]) * 1e6;
        const mono = Number(reloading.fields.MONOTONIC_USEC);
        // An upper bound within a second (see monotonicClock); the uptime is read after it.
        assert(
          mono >= uptimeUs - 1e6 && mono <= uptimeUs + 1.5e6,
          `MONOTONIC_USEC ${mono} vs CLOCK_BOOTTIME ${uptimeUs}`,
        );
        assert(await waitFor(() => find("READY", at + 1) >= 0, 10000), logs.text);
        assert(await healthy(socket));
      });

      await t.step("SIGTERM: STOPPING=1, exit 0", async () => {
        const from = listener.messages().length;
        agent.kill("SIGTERM");
        const st = await agent.status;
        assertEquals(st.code, 0, logs.text);
        assert(await waitFor(() => find("STOPPING", from) >= 0, 5000), "STOPPING=1 arrived");
        assertEquals(await Deno.lstat(`${socket}.notify`).then(() => true, () => false), false);
      });
    } finally {
      try {
        agent.kill("SIGKILL");
      } catch {
        // exited
      }
      await agent.status;
      await Promise.all([logs.closed(), stdout.closed()]);
      listener.child.kill("SIGTERM");
      await listener.child.status;
      await listener.out.closed();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("sd_notify: without NOTIFY_SOCKET nothing is sent; an abstract socket is refused", async () => {
  const { dir, config } = await tempAgentConfig();
  const env = { NOTIFY_SOCKET: "@ironpost-test-abstract" };
  const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config, env });
  const logs = new OutputTail(agent.stderr);
  const stdout = new OutputTail(agent.stdout);
  try {
    assert(await logs.waitFor(/abstract socket/, 15000), logs.text);
    assert(await waitFor(() => healthy(`${dir}/run/ironpost.sock`), 10000), "still runs");
  } finally {
    agent.kill("SIGTERM");
    assertEquals((await agent.status).code, 0, logs.text);
    await Promise.all([logs.closed(), stdout.closed()]);
    await Deno.remove(dir, { recursive: true });
  }
});
