/**
 * The packet filter inside the real agent (deno run with the derived flags, which now
 * include --allow-ffi for libbpf): `ironpost block` end to end, decisions across restarts,
 * kill -9, and the messages a user gets when something is missing.
 */
import { controlRequest } from "../../mod/daemon/mod.ts";
import {
  agentFlags,
  MAIN,
  OutputTail,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type VethPair, withVethPair } from "../helpers/netns.ts";
import { requireRoot } from "../helpers/require.ts";

async function ping(p: VethPair): Promise<boolean> {
  return (await p.run(["ping", "-n", "-q", "-c", "1", "-W", "1", p.outerIp], { timeoutMs: 5000 }))
    .code === 0;
}

async function xdpOn(dev: string): Promise<boolean> {
  const out = await new Deno.Command("ip", {
    args: ["-j", "-d", "link", "show", "dev", dev],
    stdout: "piped",
  })
    .output();
  return Boolean(JSON.parse(new TextDecoder().decode(out.stdout) || "[{}]")[0]?.xdp);
}

async function startAgent(config: string, socket: string) {
  const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
  const logs = new OutputTail(agent.stderr);
  const out = new OutputTail(agent.stdout);
  const healthy = await waitHealthy(socket);
  assert(healthy, logs.text);
  return {
    agent,
    logs,
    async stop(signal: Deno.Signal = "SIGTERM") {
      agent.kill(signal);
      const st = await agent.status;
      await Promise.all([logs.closed(), out.closed()]);
      return st;
    },
  };
}

Deno.test({
  name:
    "ironpost block against a running agent: drops within the TTL, not after; survives restart; kill -9 detaches",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    if (!requireRoot()) return;
    await withVethPair(async (p) => {
      const { dir, config } = await tempAgentConfig(
        `[ebpf]\nenabled = true\ninterface = "${p.outer}"\n`,
      );
      const socket = `${dir}/run/ironpost.sock`;
      const cli = (args: string[]) =>
        runAgent([...args, "--config", config], { flagsFrom: config });
      let a = await startAgent(config, socket);
      try {
        await t.step(
          "ironpost block --ttl 3s drops that source's packets, then they pass",
          async () => {
            assert(await ping(p), "passes before the block");
            const r = await cli(["block", p.innerIp, "--ttl", "3s", "--reason", "test"]);
            assertEquals(r.code, 0, r.stderr);
            assertMatch(
              r.stdout,
              new RegExp(
                `^blocked ${p.innerIp.replaceAll(".", "\\.")}/32 until \\S+ \\(test\\)$`,
                "m",
              ),
            );
            assertEquals(await ping(p), false, "dropped within the TTL");
            await new Promise((res) => setTimeout(res, 3200));
            assert(await ping(p), "passes after the TTL");
            const d = await cli(["decisions", "--json"]);
            assertEquals(JSON.parse(d.stdout), []);
          },
        );

        await t.step("a decision survives a restart with the time it has left", async () => {
          const r = await cli(["block", p.innerIp, "--ttl", "60s"]);
          assertEquals(r.code, 0, r.stderr);
          assertEquals((await a.stop()).code, 0);
          assertEquals(await xdpOn(p.outer), false, "graceful stop detached");
          a = await startAgent(config, socket);
          assertMatch(a.logs.text, /restored 1 decision\(s\)/);
          assertEquals(await ping(p), false, "still blocked after the restart");
          const list = JSON.parse((await cli(["decisions", "--json"])).stdout);
          assertEquals(list.length, 1);
          assert(
            list[0].expiresAt - Date.now() < 60_000 && list[0].expiresAt - Date.now() > 40_000,
          );
          const u = await cli(["unblock", p.innerIp]);
          assertEquals(u.code, 0, u.stderr);
          assert(await ping(p), "passes after unblock");
          const again = await cli(["unblock", p.innerIp]);
          assertEquals(again.code, 1);
          assertMatch(again.stderr, /no decision for/);
        });

        await t.step("bad input to block is refused with the reason", async () => {
          const r = await cli(["block", "198.18.0.1/15"]);
          assertEquals(r.code, 1);
          assertMatch(r.stderr, /has host bits set below \/15; the network is 198\.18\.0\.0\/15/);
          const ttl = await cli(["block", p.innerIp, "--ttl", "soon"]);
          assertMatch(ttl.stderr, /TTL "soon" is not a duration/);
        });

        await t.step("/metrics has the filter's counters", async () => {
          const m = (await controlRequest(socket, "GET", "/metrics")).body;
          assertMatch(
            m,
            new RegExp(
              `^ironpost_xdp_packets_total\\{verdict="drop",reason="decision",interface="${p.outer}"\\} [1-9]`,
              "m",
            ),
          );
          assertMatch(m, /^ironpost_xdp_decisions 0$/m);
          assertMatch(m, /^ironpost_xdp_events_dropped_total\{where="kernel"\} 0$/m);
        });

        await t.step("after kill -9 of the agent no XDP program remains on the link", async () => {
          assert(await xdpOn(p.outer));
          const st = await a.stop("SIGKILL");
          assertEquals(st.signal, "SIGKILL");
          assert(
            await waitFor(async () => !(await xdpOn(p.outer)), 3000),
            "the link fd closed with the process",
          );
        });
      } finally {
        try {
          a.agent.kill("SIGKILL");
        } catch { /* already gone */ }
        await a.agent.status;
        await Deno.remove(dir, { recursive: true });
      }
    }, { subnetIndex: 0 });
  },
});

Deno.test("the filter fails to start with what is missing, and the agent exits 1", async (t) => {
  if (!requireRoot()) return;

  await t.step("an interface that does not exist is named", async () => {
    const { dir, config } = await tempAgentConfig(
      `[ebpf]\nenabled = true\ninterface = "iptnope0"\n`,
    );
    const r = await runAgent(["run", "--config", config], { flagsFrom: config });
    assertEquals(r.code, 1);
    assertMatch(
      r.stderr,
      /Module ebpf failed to start: eBPF filter: if_nametoindex \(interface "iptnope0"\) failed: ENODEV: no such network interface/,
    );
    await Deno.remove(dir, { recursive: true });
  });

  await t.step("without root: needs root or CAP_BPF+CAP_NET_ADMIN, naming the uid", async () => {
    const { dir, config } = await tempAgentConfig(`[ebpf]\nenabled = true\ninterface = "lo"\n`);
    await Deno.chmod(dir, 0o755);
    await Deno.mkdir(`${dir}/state`, { recursive: true });
    await Deno.mkdir(`${dir}/run`, { recursive: true });
    await Deno.chown(`${dir}/state`, 65534, 65534);
    await Deno.chown(`${dir}/run`, 65534, 65534);
    // The unprivileged user cannot read root's module cache: give it its own.
    const denoDir = `${dir}/deno`;
    const cached = await new Deno.Command(Deno.execPath(), {
      args: ["cache", MAIN],
      env: { DENO_DIR: denoDir },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert(cached.success, new TextDecoder().decode(cached.stderr));
    await new Deno.Command("chown", { args: ["-R", "65534:65534", denoDir] }).output();
    const flags = await agentFlags(config);
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        Deno.execPath(),
        "run",
        ...flags,
        MAIN,
        "run",
        "--config",
        config,
      ],
      env: { NO_COLOR: "1", DENO_DIR: denoDir, HOME: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assertMatch(
      stderr,
      /EPERM: needs root or CAP_BPF\+CAP_NET_ADMIN.*\(the agent runs as uid 65534; run it as root or grant CAP_BPF and CAP_NET_ADMIN\)/,
    );
    await Deno.remove(dir, { recursive: true });
  });
});
