/**
 * The packet filter against the real kernel: bpf/xdp_filter.bpf.o attached to the root
 * end of a veth pair, real packets from a namespace, real drops counted by the kernel.
 */
import { type ActionEvent, Channel, type PacketEvent } from "../../mod/core/mod.ts";
import { loadConfig } from "../../mod/config/mod.ts";
import type { EbpfConfig } from "../../mod/ebpf/spec.ts";
import { EbpfModule } from "../../mod/ebpf/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { sendFrames, type VethPair, type VethPairOptions, withVethPair } from "../helpers/netns.ts";
import { requireRoot } from "../helpers/require.ts";

interface Running {
  module: EbpfModule;
  packets: Channel<PacketEvent>;
  store: SqliteStore;
  dir: string;
  counter(reason: string, verdict?: string): number;
  events(): PacketEvent[];
  stop(): Promise<void>;
}

/** Start the module in-process on the pair's outer end with extra `[ebpf]` TOML lines. */
async function startFilter(p: VethPair, toml = ""): Promise<Running> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-xdp-" });
  await Deno.writeTextFile(
    `${dir}/c.toml`,
    `[ebpf]\nenabled = true\ninterface = "${p.outer}"\n${toml}\n`,
  );
  const { config } = await loadConfig({ path: `${dir}/c.toml`, env: () => undefined });
  const store = await SqliteStore.open(`${dir}/ironpost.db`);
  const packets = new Channel<PacketEvent>("packets", 1024);
  const actions = new Channel<ActionEvent>("actions", 1024);
  const module = new EbpfModule(config.ebpf as EbpfConfig, { packets, actions }, store);
  await module.start();
  const seen: PacketEvent[] = [];
  return {
    module,
    packets,
    store,
    dir,
    counter(reason, verdict = "drop") {
      const s = module.metrics().find((m) =>
        m.name === "ironpost_xdp_packets_total" && m.labels?.reason === reason &&
        m.labels?.verdict === verdict
      );
      return s?.value ?? 0;
    },
    events() {
      // Everything the poller queued so far, kept across calls.
      for (let e = packets.tryRecv(); e; e = packets.tryRecv()) seen.push(e);
      return seen;
    },
    async stop() {
      await module.stop();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function ping(p: VethPair, to: string, from?: string): Promise<boolean> {
  const args = ["ping", "-n", "-q", "-c", "1", "-W", "1"];
  if (from) args.push("-I", from);
  const r = await p.run([...args, to], { timeoutMs: 5000 });
  return r.code === 0;
}

async function sleep(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
}

/** XDP programs attached to a device, per `ip -j link`. */
async function xdpOn(dev: string): Promise<boolean> {
  const out = await new Deno.Command("ip", {
    args: ["-j", "-d", "link", "show", "dev", dev],
    stdout: "piped",
  })
    .output();
  const [link] = JSON.parse(new TextDecoder().decode(out.stdout) || "[{}]");
  return Boolean(link?.xdp);
}

/** Wait until `fn` holds, polling; the filter's poller runs every 25 ms. */
async function until(fn: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await sleep(25);
  }
  return fn();
}

function scanEvents(events: PacketEvent[], src: string): PacketEvent[] {
  return events.filter((e) => e.reason === "port_scan" && e.srcIp === src);
}

const root = () => requireRoot();

Deno.test({
  name: "XDP filter on a veth pair",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    if (!root()) return;
    await withVethPair(async (p) => {
      await t.step("IPv4 and IPv6 blocklist CIDRs drop, others pass", async () => {
        assert(await ping(p, p.outerIp), "ping works before the filter");
        const f = await startFilter(
          p,
          `blocklist = ["${p.innerIp.replace(/\.\d+$/, ".0")}/24", "${
            p.innerIp6.replace(/::2$/, "::")
          }/64"]`,
        );
        try {
          assert(await xdpOn(p.outer), "an XDP program is attached");
          assertEquals(await ping(p, p.outerIp), false);
          assertEquals(await ping(p, p.outerIp6), false);
          assert(f.counter("blocklist") >= 2, `blocklist drops: ${f.counter("blocklist")}`);
          assert(
            await until(() =>
              f.events().some((e) => e.reason === "blocklist" && e.srcIp === p.innerIp)
            ),
          );
          assert(f.events().some((e) => e.reason === "blocklist" && e.srcIp === p.innerIp6));
        } finally {
          await f.stop();
        }
        assertEquals(await xdpOn(p.outer), false, "stop detaches the program");
        assert(await ping(p, p.outerIp), "ping works again after stop");
      });

      await t.step("the allowlist wins over a block", async () => {
        const net = p.innerIp.replace(/\.\d+$/, ".0");
        const f = await startFilter(p, `blocklist = ["${net}/24"]\nallowlist = ["${p.innerIp}"]`);
        try {
          assert(await ping(p, p.outerIp), "allowed source passes");
          assertEquals(await ping(p, p.outerIp, p.extraIps[0]), false, "other sources are blocked");
          f.module.block(p.innerIp, 0, "test");
          assert(await ping(p, p.outerIp), "allowlist wins over a decision too");
          assert(f.counter("allowlist", "pass") >= 2);
        } finally {
          await f.stop();
        }
      });

      await t.step("a decision with a 2 s TTL blocks, then passes again", async () => {
        const f = await startFilter(p);
        try {
          f.module.block(p.innerIp, 2, "test ttl");
          assertEquals(await ping(p, p.outerIp), false);
          assertEquals(f.module.decisions().length, 1);
          await sleep(2200);
          assert(await ping(p, p.outerIp), "passes after the TTL");
          assert(f.counter("decision") >= 1);
          await sleep(1100);
          assertEquals(f.module.decisions().length, 0, "the sweep removed it");
        } finally {
          await f.stop();
        }
      });

      await t.step("a SYN flood is cut while a normal client still connects", async () => {
        const listener = Deno.listen({ hostname: p.outerIp, port: 18080 });
        const accepting = (async () => {
          for await (const c of listener) c.close();
        })();
        const f = await startFilter(p, "syn_rate_per_sec = 20\nsyn_burst = 20");
        try {
          const sent = await sendFrames(p, { kind: "syn", ports: "18080", count: 300 });
          assertEquals(sent, 300);
          assert(
            await until(() => f.counter("syn_flood") >= 250),
            `syn_flood drops ${f.counter("syn_flood")}`,
          );
          assert(
            await until(() =>
              f.events().some((e) => e.reason === "syn_flood" && e.srcIp === p.innerIp)
            ),
          );
          const client = await p.run([
            "python3",
            "-c",
            `import socket; s=socket.create_connection(("${p.outerIp}",18080),timeout=3,source_address=("${
              p.extraIps[0]
            }",0)); print("connected")`,
          ], { timeoutMs: 10000 });
          assertEquals(client.stdout.trim(), "connected", client.stderr);
        } finally {
          await f.stop();
          listener.close();
          await accepting.catch(() => {});
        }
      });

      await t.step(
        "a port scan of 200 ports produces one event with the source and count",
        async () => {
          const f = await startFilter(p, "portscan_threshold = 50");
          try {
            await sendFrames(p, { kind: "syn", ports: "20000-20199" });
            assert(await until(() => scanEvents(f.events(), p.innerIp).length > 0));
            await sleep(300);
            const scans = scanEvents(f.events(), p.innerIp);
            assertEquals(scans.length, 1);
            assertEquals(scans[0].ports, 50);
            assertEquals(scans[0].protocol, "tcp");
          } finally {
            await f.stop();
          }
        },
      );

      await t.step(
        "IPv4 with options and IPv6 with extension headers reach the TCP header",
        async () => {
          const f = await startFilter(p, "portscan_threshold = 30");
          try {
            await sendFrames(p, { kind: "syn-ipopts", ports: "21000-21039" });
            await sendFrames(p, { kind: "syn6-ext", ports: "21000-21039" });
            assert(await until(() => scanEvents(f.events(), p.innerIp).length === 1), "v4 options");
            assert(
              await until(() => scanEvents(f.events(), p.innerIp6).length === 1),
              "v6 ext headers",
            );
          } finally {
            await f.stop();
          }
        },
      );
    });
  },
});

for (const vlan of [[10], [100, 10]]) {
  Deno.test({
    name: `XDP filter parses ${vlan.length === 1 ? "802.1Q" : "802.1ad + 802.1Q"} tagged frames`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (!root()) return;
      const opts: VethPairOptions = { vlan };
      await withVethPair(async (p) => {
        const f = await startFilter(p, "portscan_threshold = 40");
        try {
          const src = "198.18.254.77";
          await sendFrames(p, { kind: "syn", ports: "22000-22099", vlan, src, dst: p.outerIp });
          assert(await until(() => scanEvents(f.events(), src).length === 1), "tagged scan seen");
          const before = f.counter("blocklist");
          await f.module.reload({
            ...(await loadConfig({ path: `${f.dir}/c.toml`, env: () => undefined })).config.ebpf,
            blocklist: [`${src}/32`],
          });
          await sendFrames(p, { kind: "udp", ports: "53", count: 5, vlan, src, dst: p.outerIp });
          assert(await until(() => f.counter("blocklist") >= before + 5), "tagged frames blocked");
        } finally {
          await f.stop();
        }
      }, opts);
    },
  });
}

Deno.test({
  name: "TC mode: the same blocklist drops, and egress stops replies to a decision",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!root()) return;
    await withVethPair(async (p) => {
      const f = await startFilter(p, `mode = "tc"\nblocklist = ["${p.innerIp}"]`);
      try {
        assertEquals(await ping(p, p.outerIp), false);
        assert(f.counter("blocklist") >= 1);
        assert(await ping(p, p.outerIp, p.extraIps[0]), "other sources pass");
        // A decision for a destination: the root namespace cannot reach it either.
        f.module.block(p.extraIps[1], 0, "egress test");
        const out = await new Deno.Command("ping", {
          args: ["-n", "-q", "-c", "1", "-W", "1", p.extraIps[1]],
          stdout: "null",
          stderr: "null",
        }).output();
        assertEquals(out.code === 0, false, "egress to a blocked address is dropped");
      } finally {
        await f.stop();
      }
      const tc = await new Deno.Command("bpftool", {
        args: ["net", "show", "dev", p.outer],
        stdout: "piped",
      })
        .output();
      assert(!new TextDecoder().decode(tc.stdout).includes("tc_ingress"), "tc programs detached");
    });
  },
});
