/**
 * Issue 16, item 2: no operator command locks the operator out. Against the real agent with
 * its filter on a veth pair (XDP, real pings from a namespace): blocks wider than
 * `ebpf.max_block_prefix_v4`/`_v6` are refused without `--force`; the operator's own source
 * (the CLI's `SSH_CONNECTION`, and the one the agent was started from) is never blocked;
 * TTLs are bounded and `0` is not "permanent"; an allowlist entry that makes a block a no-op
 * is said. The same width limit holds for decisions from the response side (the decisions
 * channel), which are refused and audited as failed.
 */
import { controlRequest } from "../../mod/daemon/mod.ts";
import { type ActionEvent, Channel, type DecisionEvent, newEvent } from "../../mod/core/mod.ts";
import { loadConfig } from "../../mod/config/mod.ts";
import type { EbpfConfig } from "../../mod/ebpf/spec.ts";
import { EbpfModule } from "../../mod/ebpf/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import {
  OutputTail,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type VethPair, withVethPair } from "../helpers/netns.ts";
import { requireRoot } from "../helpers/require.ts";

async function ping(p: VethPair, from?: string): Promise<boolean> {
  const args = ["ping", "-n", "-q", "-c", "1", "-W", "1"];
  if (from) args.push("-I", from);
  return (await p.run([...args, p.outerIp], { timeoutMs: 5000 })).code === 0;
}

/** `SSH_CONNECTION` as sshd sets it for a client at `ip`. */
const ssh = (ip: string) => `${ip} 52100 198.18.255.1 22`;

Deno.test({
  name: "ironpost block: wide blocks need --force, the operator stays reachable, TTLs are bounded",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    if (!requireRoot()) return;
    await withVethPair(async (p) => {
      const [allowed] = p.extraIps;
      // IPv6, so a forced IPv4 block of everything can still be shown to work.
      const startOperator = "2001:db8:ff::9";
      const { dir, config } = await tempAgentConfig(
        `[ebpf]\nenabled = true\ninterface = "${p.outer}"\nallowlist = ["${allowed}"]\n`,
      );
      const socket = `${dir}/run/ironpost.sock`;
      // The agent is started from an SSH session whose client is `startOperator`.
      const agent = await spawnAgent(["run", "--config", config], {
        flagsFrom: config,
        env: { SSH_CONNECTION: ssh(startOperator) },
      });
      const logs = new OutputTail(agent.stderr);
      const out = new OutputTail(agent.stdout);
      // Each command runs as from a session with no SSH client unless the case says so.
      const cli = (args: string[], sshConnection = "") =>
        runAgent([...args, "--config", config], {
          flagsFrom: config,
          env: { SSH_CONNECTION: sshConnection },
        });
      const decisions = async () =>
        JSON.parse((await cli(["decisions", "--json"])).stdout) as { cidr: string }[];
      try {
        assert(await waitHealthy(socket), logs.text);

        await t.step(
          "0.0.0.0/0 and ::/0 are refused without --force; nothing is applied",
          async () => {
            const v4 = await cli(["block", "0.0.0.0/0", "--ttl", "10m"]);
            assertEquals(v4.code, 1, v4.stderr);
            assertMatch(
              v4.stderr,
              /Refusing to block 0\.0\.0\.0\/0: wider than \/8 \(ebpf\.max_block_prefix_v4\); it would drop 4294967296 addresses, every source not allowlisted\. Pass --force/,
            );
            const v6 = await cli(["block", "::/0", "--ttl", "permanent"]);
            assertEquals(v6.code, 1, v6.stderr);
            assertMatch(
              v6.stderr,
              /Refusing to block ::\/0: wider than \/32 \(ebpf\.max_block_prefix_v6\)/,
            );
            assertEquals(await decisions(), []);
            assert(await ping(p), "the source still passes");
          },
        );

        await t.step(
          "the limit is /8 for IPv4 and /32 for IPv6: one bit wider is refused",
          async () => {
            assertEquals((await cli(["block", "10.0.0.0/7", "--ttl", "1m"])).code, 1);
            assertEquals((await cli(["block", "2001:db8::/31", "--ttl", "1m"])).code, 1);
            const ok4 = await cli(["block", "10.0.0.0/8", "--ttl", "1m"]);
            assertEquals(ok4.code, 0, ok4.stderr);
            const ok6 = await cli(["block", "2001:db9::/32", "--ttl", "1m"]);
            assertEquals(ok6.code, 0, ok6.stderr);
            assertEquals((await decisions()).map((d) => d.cidr).sort(), [
              "10.0.0.0/8",
              "2001:db9::/32",
            ]);
            assertEquals((await cli(["unblock", "10.0.0.0/8"])).code, 0);
            assertEquals((await cli(["unblock", "2001:db9::/32"])).code, 0);
          },
        );

        await t.step(
          "the CLI's own SSH client address is never blocked, even with --force",
          async () => {
            for (const cidr of [p.innerIp, `198.18.${p.subnetIndex}.0/24`, "0.0.0.0/0"]) {
              const r = await cli(["block", cidr, "--ttl", "1m", "--force"], ssh(p.innerIp));
              assertEquals(r.code, 1, `${cidr}: ${r.stderr}`);
              assertMatch(
                r.stderr,
                new RegExp(
                  `it contains ${
                    p.innerIp.replaceAll(".", "\\.")
                  }, the operator's own address \\(the SSH session this request came from, SSH_CONNECTION\\)`,
                ),
              );
            }
            assertEquals(await decisions(), []);
            assert(await ping(p), "the operator's source still passes");
          },
        );

        await t.step("the address the agent was started from is never blocked", async () => {
          for (const cidr of [startOperator, "2001:db8::/32", "::/0"]) {
            const r = await cli(["block", cidr, "--ttl", "1m", "--force"]);
            assertEquals(r.code, 1, r.stderr);
            assertMatch(
              r.stderr,
              /it contains 2001:db8:ff::9, the operator's own address \(the SSH session the agent was started from/,
            );
          }
          assertEquals(await decisions(), []);
        });

        await t.step("--force blocks a wide network (and it drops), unblock restores", async () => {
          const r = await cli(["block", "0.0.0.0/0", "--ttl", "1m", "--force"]);
          assertEquals(r.code, 0, r.stderr);
          assertMatch(r.stdout, /^blocked 0\.0\.0\.0\/0 until \S+ \(manual block/m);
          assertEquals(await ping(p), false, "dropped once forced");
          assert(await ping(p, allowed), "the allowlist still wins");
          assertEquals((await cli(["unblock", "0.0.0.0/0"])).code, 0);
          assert(await ping(p));
        });

        await t.step("TTLs: 0 and over 365d are refused before anything is applied", async () => {
          const zero = await cli(["block", p.innerIp, "--ttl", "0"]);
          assertEquals(zero.code, 2, zero.stderr);
          assertMatch(zero.stderr, /TTL "0" is zero; .*--ttl permanent/);
          const huge = await cli(["block", p.innerIp, "--ttl", "99999999999d"]);
          assertEquals(huge.code, 2, huge.stderr);
          assertMatch(huge.stderr, /TTL "99999999999d" is longer than 365d/);
          assert(!huge.stderr.includes("RangeError"), huge.stderr);
          assertEquals((await cli(["block", p.innerIp, "--ttl", "366d"])).code, 2);
          const none = await cli(["block", p.innerIp]);
          assertEquals(none.code, 2);
          assertMatch(none.stderr, /block needs --ttl/);
          // The agent refuses the same on its API, whoever asks.
          for (const ttl of ["0", "99999999999d", "soon"]) {
            const q = new URLSearchParams({ cidr: p.innerIp, ttl });
            const api = await controlRequest(socket, "POST", `/decisions?${q}`);
            assertEquals(api.status, 400, api.body);
            assertEquals(JSON.parse(api.body).code, "E_TTL");
          }
          const noTtl = await controlRequest(socket, "POST", `/decisions?cidr=${p.innerIp}`);
          assertEquals(noTtl.status, 400);
          assertEquals(await decisions(), []);
          assert(await ping(p), "nothing was applied");

          const year = await cli(["block", p.innerIp, "--ttl", "365d"]);
          assertEquals(year.code, 0, year.stderr);
          const forever = await cli(["block", p.extraIps[1], "--ttl", "permanent"]);
          assertEquals(forever.code, 0, forever.stderr);
          assertMatch(forever.stdout, /until unblocked/);
          assertEquals(await ping(p), false);
          assertEquals((await cli(["unblock", p.innerIp])).code, 0);
          assertEquals((await cli(["unblock", p.extraIps[1]])).code, 0);
        });

        await t.step(
          "a block the allowlist makes a no-op is said, in the CLI and the API",
          async () => {
            const r = await cli(["block", allowed, "--ttl", "1m"]);
            assertEquals(r.code, 0, r.stderr);
            assertMatch(
              r.stderr,
              new RegExp(
                `^warning: allowlist entry ${allowed.replaceAll(".", "\\.")}/32 contains ${
                  allowed.replaceAll(".", "\\.")
                }/32: .*drops nothing$`,
                "m",
              ),
            );
            assert(await ping(p, allowed), "still passes");
            const q = new URLSearchParams({ cidr: `198.18.${p.subnetIndex}.0/24`, ttl: "1m" });
            const api = await controlRequest(socket, "POST", `/decisions?${q}`);
            assertEquals(api.status, 201, api.body);
            const body = JSON.parse(api.body) as { warnings: string[] };
            assertEquals(body.warnings.length, 1);
            assertMatch(body.warnings[0], /1 allowlist entry inside .* stay passed/);
            const plain = await cli(["block", "203.0.113.0/24", "--ttl", "1m"]);
            assertEquals(plain.stderr, "", "no warning without an allowlist overlap");
          },
        );
      } finally {
        agent.kill("SIGTERM");
        await agent.status;
        await Promise.all([logs.closed(), out.closed()]);
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name: "decisions from the response side obey the same width limit and are audited as failed",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!requireRoot()) return;
    await withVethPair(async (p) => {
      const dir = await Deno.makeTempDir({ prefix: "ironpost-block-" });
      await Deno.writeTextFile(
        `${dir}/c.toml`,
        `[ebpf]\nenabled = true\ninterface = "${p.outer}"\nmax_block_prefix_v4 = 16\n`,
      );
      const { config } = await loadConfig({ path: `${dir}/c.toml`, env: () => undefined });
      const store = await SqliteStore.open(`${dir}/ironpost.db`);
      const actions = new Channel<ActionEvent>("actions", 64);
      const decisions = new Channel<DecisionEvent>("decisions", 64);
      const module = new EbpfModule(config.ebpf as EbpfConfig, { actions, decisions }, store);
      await module.start();
      try {
        const send = (cidr: string, ttlSecs: number) =>
          decisions.send(newEvent<DecisionEvent>({
            kind: "decision",
            op: "block",
            cidr,
            ttlSecs,
            reason: "policy test",
          }));
        await send("0.0.0.0/0", 600);
        await send(`198.18.0.0/15`, 600);
        await send(p.innerIp, 400 * 86400);
        await send(`198.18.${p.subnetIndex}.0/24`, 600);
        const got: ActionEvent[] = [];
        for await (const a of actions) {
          got.push(a);
          if (got.length === 4) break;
        }
        assertEquals(got.map((a) => [a.target, a.outcome]), [
          ["0.0.0.0/0", "failed"],
          ["198.18.0.0/15", "failed"],
          [p.innerIp, "failed"],
          [`198.18.${p.subnetIndex}.0/24`, "done"],
        ]);
        assertMatch(got[0].error ?? "", /wider than \/16 \(ebpf\.max_block_prefix_v4\)/);
        assertMatch(got[1].error ?? "", /wider than \/16/);
        assertMatch(got[2].error ?? "", /TTL 34560000 s is out of range/);
        assertEquals(module.decisions().map((d) => d.cidr), [`198.18.${p.subnetIndex}.0/24`]);
        assertEquals(await ping(p), false, "the accepted one drops");
      } finally {
        decisions.close();
        await module.stop();
        await store.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});
