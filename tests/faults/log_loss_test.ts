/**
 * Issue 16, item 3: silent log loss, each case against the real part (files renamed on disk,
 * TCP connections from several loopback addresses, a UDP socket flooded while its reader is
 * held up).
 *
 * (a) a file rotated by rename while the agent was down: the rest of the old file is read
 *     (found by its checkpointed device and inode under a rotated name), then the new one;
 * (b) idle connections from one address cannot hold every TCP syslog slot
 *     (`syslog_tcp_max_connections_per_source`), and `syslog_tcp_idle_timeout_secs` closes
 *     silent ones;
 * (c) kernel drops on the UDP socket are a metric, and past
 *     `syslog_udp_drop_threshold_percent` health is degraded.
 */
import net from "node:net";
import { Channel, type MetricSample } from "../../mod/core/mod.ts";
import { LOG_METRICS } from "../../mod/logs/metrics.ts";
import {
  type Checkpoints,
  FileTailSource,
  type RawLine,
  type SyslogTcpSource,
  type SyslogUdpSource,
} from "../../mod/logs/sources/mod.ts";
import {
  SOURCE_KEYS,
  type SourceSection,
  syslogTcpSource,
  syslogUdpSource,
} from "../../mod/logs/sources/list.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a channel as the pipeline would. */
class Collector {
  readonly lines: RawLine[] = [];
  readonly ch: Channel<RawLine>;
  readonly #done: Promise<void>;

  constructor(capacity = 4096) {
    const ch = new Channel<RawLine>("test-raw", capacity);
    this.ch = ch;
    this.#done = (async () => {
      for await (const l of ch) this.lines.push(l);
    })();
  }

  texts(): string[] {
    return this.lines.map((l) => l.line);
  }

  async waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(10);
    }
  }

  async close(): Promise<void> {
    this.ch.close();
    await this.#done;
  }
}

/** Checkpoints in a Map, kept across source instances as the store keeps them across runs. */
function memoryCheckpoints(): Checkpoints & { rows: Map<string, string> } {
  const rows = new Map<string, string>();
  return {
    rows,
    get: (k) => Promise.resolve(rows.get(k)),
    set: (k, v) => Promise.resolve(void rows.set(k, v)),
  };
}

/** The `[log_pipeline]` values the sources read: their defaults, then `over`. */
function sourceConfig(over: Record<string, unknown>): SourceSection {
  const cfg: Record<string, unknown> = { flush_interval_secs: 1 };
  for (const [k, f] of Object.entries(SOURCE_KEYS)) cfg[k] = f.default;
  return { ...cfg, ...over } as SourceSection;
}

const NOT_A_STORE = {
  getCheckpoint: () => Promise.resolve(undefined),
  setCheckpoint: () => Promise.resolve(),
};

const lines = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix} ${from + i}`);

Deno.test("3a: a file rotated by rename while the agent is down loses nothing", async (t) => {
  const FAST = { pollMs: 20, flushIntervalMs: 50, rotateWaitMs: 300, startAt: "end" as const };

  /** Run 1 reads `first` lines of auth.log and stops; `whileDown` then runs; run 2 reads. */
  async function scenario(
    whileDown: (dir: string, log: string) => Promise<void>,
    expected: string[],
  ): Promise<{ got: string[]; checkpoint: string | undefined }> {
    const dir = await Deno.makeTempDir({ prefix: "ironpost-logloss-" });
    const log = `${dir}/auth.log`;
    const cp = memoryCheckpoints();
    try {
      await Deno.writeTextFile(log, "");
      const c1 = new Collector();
      const run1 = new FileTailSource({ paths: [log], checkpoints: cp, ...FAST }, c1.ch);
      await run1.start();
      await Deno.writeTextFile(log, lines("old", 1, 300).join("\n") + "\n", { append: true });
      await c1.waitFor(() => c1.lines.length >= 300, "300 lines before the stop");
      await run1.stop();
      await c1.close();
      assertEquals(c1.texts(), lines("old", 1, 300));

      await whileDown(dir, log);

      const c2 = new Collector();
      const run2 = new FileTailSource({ paths: [log], checkpoints: cp, ...FAST }, c2.ch);
      await run2.start();
      try {
        await c2.waitFor(() => c2.lines.length >= expected.length, `${expected.length} lines`)
          .catch(() => {});
        await delay(400); // past rotateWaitMs: anything read twice would show by now
      } finally {
        await run2.stop();
        await c2.close();
      }
      return { got: c2.texts(), checkpoint: cp.rows.get(`logs.files:${log}`) };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }

  await t.step("renamed to auth.log.1, a new auth.log created: old rest, then new", async () => {
    let newIno = 0;
    const expected = [...lines("old", 301, 600), ...lines("new", 1, 200)];
    const { got, checkpoint } = await scenario(async (dir, log) => {
      // The daemon wrote 300 more lines, then logrotate renamed and created; older rotations
      // were compressed (a new inode each, never read).
      await Deno.writeTextFile(log, lines("old", 301, 600).join("\n") + "\n", { append: true });
      await Deno.rename(log, `${log}.1`);
      await Deno.writeFile(`${dir}/auth.log.2.gz`, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
      await Deno.writeTextFile(log, lines("new", 1, 200).join("\n") + "\n");
      newIno = (await Deno.stat(log)).ino!;
    }, expected);
    assertEquals(got.length, expected.length, `got ${got.length} of ${expected.length} lines`);
    assertEquals(got, expected);
    // The checkpoint moved on to the new file.
    assertEquals(JSON.parse(checkpoint!).ino, newIno);
  });

  await t.step("renamed with dateext (auth.log-20240101), nothing created yet", async () => {
    const expected = lines("old", 301, 450);
    const { got } = await scenario(async (_dir, log) => {
      await Deno.writeTextFile(log, lines("old", 301, 450).join("\n") + "\n", { append: true });
      await Deno.rename(log, `${log}-20240101`);
    }, expected);
    assertEquals(got, expected);
  });

  await t.step("the rotated file is not used when it is another inode", async () => {
    // auth.log.1 here is a copy (a new inode): the checkpoint's file is gone, and the new
    // auth.log is read from its start as before.
    const expected = lines("new", 1, 5);
    const { got } = await scenario(async (_dir, log) => {
      await Deno.copyFile(log, `${log}.1`);
      await Deno.remove(log);
      await Deno.writeTextFile(log, lines("new", 1, 5).join("\n") + "\n");
    }, expected);
    assertEquals(got, expected);
  });
});

Deno.test("3b: TCP syslog, per-source connection caps and a configurable idle timeout", async (t) => {
  /** A node:net client bound to `local`, resolved once connected. */
  function connectFrom(local: string, port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port, localAddress: local });
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
  }

  await t.step(
    "64 idle connections from one address leave room for another sender's line",
    async () => {
      const c = new Collector();
      // The set-up: 64 slots in all; the per-source cap is the shipped default.
      const src = await syslogTcpSource.create(
        sourceConfig({ syslog_tcp_addr: "127.0.0.1:0", syslog_tcp_max_connections: 64 }),
        { out: c.ch, store: NOT_A_STORE, stateDir: "/nonexistent" },
      ) as SyslogTcpSource;
      await src.start();
      const idle: net.Socket[] = [];
      try {
        for (let i = 0; i < 64; i++) {
          const s = await connectFrom("127.0.0.2", src.addr!.port);
          s.on("error", () => {});
          idle.push(s);
        }
        // Every one of them has been accepted or refused by the source.
        await c.waitFor(() => {
          const st = src.stats();
          return st.accepted + st.refused + (st.refusedPerSource ?? 0) >= 64;
        }, "64 connections handled");
        const legit = await connectFrom("127.0.0.3", src.addr!.port);
        legit.end("<13>Jan  1 00:00:00 web1 app: a legitimate line\n");
        await c.waitFor(() => c.lines.length >= 1, "the legitimate sender's line", 3000);
        assertEquals(c.lines[0].peer, "127.0.0.3");
        assertMatch(c.lines[0].line, /a legitimate line/);
        const st = src.stats();
        assertEquals(st.refusedPerSource, 64 - 16);
        const h = src.health();
        assertEquals(h.state, "degraded");
        assertMatch(h.reason ?? "", /127\.0\.0\.2 refused at its limit of 16/);
      } finally {
        for (const s of idle) s.destroy();
        await src.stop();
        await c.close();
      }
    },
  );

  await t.step(
    "syslog_tcp_idle_timeout_secs and the per-source cap come from the config",
    async () => {
      const c = new Collector();
      const src = await syslogTcpSource.create(
        sourceConfig({
          syslog_tcp_addr: "127.0.0.1:0",
          syslog_tcp_idle_timeout_secs: 1,
          syslog_tcp_max_connections_per_source: 2,
        }),
        { out: c.ch, store: NOT_A_STORE, stateDir: "/nonexistent" },
      ) as SyslogTcpSource;
      await src.start();
      const socks: net.Socket[] = [];
      try {
        const closedAt: number[] = [];
        const opened = Date.now();
        for (let i = 0; i < 3; i++) {
          const s = await connectFrom("127.0.0.4", src.addr!.port);
          s.on("error", () => {});
          s.on("close", () => closedAt.push(Date.now() - opened));
          socks.push(s);
        }
        await c.waitFor(() => closedAt.length >= 3, "all three closed by the source", 4000);
        assertEquals(src.stats().refusedPerSource, 1);
        assertEquals(src.stats().idleClosed, 2);
        // The refused one at once, the two idle ones after about a second.
        closedAt.sort((a, b) => a - b);
        assert(closedAt[0] < 800, `refused after ${closedAt[0]} ms`);
        assert(closedAt[1] >= 800 && closedAt[2] < 3000, `idle closed at ${closedAt}`);
      } finally {
        for (const s of socks) s.destroy();
        await src.stop();
        await c.close();
      }
    },
  );
});

Deno.test("3c: UDP kernel drops are exported, and degrade health past the threshold", async () => {
  const c = new Collector(100_000);
  const src = await syslogUdpSource.create(
    sourceConfig({
      syslog_udp_addr: "127.0.0.1:0",
      syslog_udp_recv_buffer_bytes: 65536,
      syslog_udp_drop_threshold_percent: 5,
    }),
    { out: c.ch, store: NOT_A_STORE, stateDir: "/nonexistent" },
  ) as SyslogUdpSource;
  await src.start();
  try {
    assertEquals(src.stats().receiver, "recvmmsg", "kernel drops are read through FFI");
    assertEquals(src.health().state, "healthy");
    // 20,000 datagrams from another process while this one's event loop is held (outputSync
    // blocks it): the reader takes at most one batch, the socket buffer overflows.
    const flood = `
      import dgram from "node:dgram";
      const s = dgram.createSocket("udp4");
      const msg = new Uint8Array(512).fill(0x61);
      for (let i = 0; i < 20000; i++) {
        await new Promise((r) => s.send(msg, ${src.addr!.port}, "127.0.0.1", r));
      }
      s.close();`;
    const out = new Deno.Command(Deno.execPath(), {
      args: ["eval", flood],
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    await delay(300);
    const drops = src.stats().kernelDrops;
    assert(drops > 0, "the kernel dropped datagrams");
    const h = src.health();
    assertEquals(h.state, "degraded");
    assertMatch(h.reason ?? "", /kernel dropped \d+ of \d+ datagrams .*threshold 5%/);
    const samples: MetricSample[] = src.metrics?.() ?? [];
    const s = samples.find((m) => m.name === "ironpost_log_syslog_udp_kernel_drops_total");
    assert(s !== undefined, `no kernel-drop sample in ${JSON.stringify(samples)}`);
    assertEquals(s.type, "counter");
    assertEquals(s.labels, { source: "syslog-udp" });
    assertEquals(Number(s.value), drops);
    const family = LOG_METRICS.find((f) => f.name === "ironpost_log_syslog_udp_kernel_drops_total");
    assert(family !== undefined, "the kernel-drop family is one of the log pipeline's");
    console.log(`  kernel drops: ${drops} of ${drops + src.stats().datagrams} datagrams`);
  } finally {
    await src.stop();
    await c.close();
  }
});
