/**
 * The host sensors in the real agent (derived permissions, no -A): `ironpost trace` follows
 * a command within a second, the agent's own activity is absent, and `kill -9` leaves no
 * program attached.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  agentFlags,
  MAIN,
  OutputTail,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

interface TracedEvent {
  kind: string;
  action: string;
  pid: number;
  ppid?: number;
  image: string;
  commandLine?: string;
}

async function sensorLinks(): Promise<number> {
  const out = await new Deno.Command("bpftool", { args: ["-j", "prog", "show"], stdout: "piped" })
    .output();
  const progs = JSON.parse(new TextDecoder().decode(out.stdout)) as { name?: string }[];
  return progs.filter((p) => /^(on_exec|on_exit|on_rename|on_sock_state)$/.test(p.name ?? ""))
    .length;
}

Deno.test("agent with [sensors]: trace, own activity, kill -9", async (t) => {
  if (!requireRoot()) return;
  const { dir, config } = await tempAgentConfig(`[sensors]\nenabled = true\n`);
  const socket = `${dir}/run/ironpost.sock`;
  const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
  const log = new OutputTail(agent.stderr);
  void new OutputTail(agent.stdout);
  let trace: Deno.ChildProcess | undefined;
  try {
    assert(await waitHealthy(socket), `agent not healthy:\n${log.text}`);

    await t.step("ironpost trace --json shows a command within a second", async () => {
      // The CLI runs with the flags the config derives, like the compiled binary would.
      const flags = await agentFlags(config);
      trace = new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, MAIN, "trace", "--json", "--config", config],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const traced = new OutputTail(trace.stdout);
      const traceErr = new OutputTail(trace.stderr);
      // the stream is open once the agent has a reader
      await new Promise((r) => setTimeout(r, 1000));
      const started = Date.now();
      const child = new Deno.Command("/bin/sh", {
        args: ["-c", "echo traced-by-ironpost > /dev/null"],
      }).spawn();
      await child.status;
      const seen = await traced.waitFor(
        new RegExp(`"action":"exec","pid":${child.pid}\\b`),
        1000,
      );
      assert(seen, `no exec of pid ${child.pid} in trace:\n${traced.text}\n${traceErr.text}`);
      console.log(`  traced within ${Date.now() - started} ms`);
      const events = traced.text.trim().split("\n").map((l) => JSON.parse(l) as TracedEvent);
      const e = events.find((x) => x.pid === child.pid && x.action === "exec")!;
      assertEquals(e.image, "/usr/bin/dash");
      assertEquals(e.commandLine, "/bin/sh -c echo traced-by-ironpost > /dev/null");
      assertEquals(events.filter((x) => x.pid === agent.pid), [], "the agent's own events");
      trace.kill("SIGINT");
      assertEquals((await trace.status).code, 0);
      trace = undefined;
    });

    await t.step(
      "ironpost trace shows a docker exec'd command with its container name",
      async () => {
        const { ensureBusyboxImage, ensureDocker, docker, removeContainers, runContainer } =
          await import("../helpers/docker.ts");
        if (!requirePart("docker", await ensureDocker())) return;
        await ensureBusyboxImage();
        const name = `ironpost-ct-trace-${Deno.pid}`;
        const flags = await agentFlags(config);
        let human: Deno.ChildProcess | undefined;
        try {
          await runContainer(name, ["/bin/sh", "-c", "sleep 60"]);
          human = new Deno.Command(Deno.execPath(), {
            args: ["run", ...flags, MAIN, "trace", "--kind", "process", "--config", config],
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          const shown = new OutputTail(human.stdout);
          void new OutputTail(human.stderr);
          await new Promise((r) => setTimeout(r, 1000));
          const r = await docker(["exec", name, "/bin/sh", "-c", "echo from-docker-exec"]);
          assertEquals(r.code, 0);
          const started = Date.now();
          const line = new RegExp(`${name}.*exec +/bin/sh -c echo from-docker-exec`);
          assert(await shown.waitFor(line, 1000), `not shown within 1 s:\n${shown.text}`);
          console.log(`  shown ${Date.now() - started} ms after docker exec returned:`);
          console.log(`  ${shown.text.split("\n").find((l) => line.test(l))}`);
        } finally {
          human?.kill("SIGINT");
          await human?.status;
          await removeContainers([name]);
        }
      },
    );

    await t.step("kill -9 leaves no sensor program attached", async () => {
      assert(await sensorLinks() > 0, "sensor programs should be loaded while it runs");
      agent.kill("SIGKILL");
      await agent.status;
      assert(await waitFor(async () => await sensorLinks() === 0, 5000), "programs left");
    });
  } finally {
    trace?.kill("SIGKILL");
    await trace?.status;
    try {
      agent.kill("SIGKILL");
    } catch {
      // already gone
    }
    await agent.status;
    await log.closed();
    await Deno.remove(dir, { recursive: true });
  }
});
