/**
 * The UDP syslog source's two receivers against real sockets on loopback: recvmmsg through
 * FFI (bursts, order, IPv6, the cut at maxMessageBytes, stop, the pending bound, --allow-net
 * still enforced) and the node:dgram fallback when FFI is not allowed.
 */
import dgram from "node:dgram";
import { Channel, IronpostError } from "../../mod/core/mod.ts";
import { MmsgReceiver, type RawLine, SyslogUdpSource } from "../../mod/logs/sources/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FIXTURE = new URL("../fixtures/logs_sources/udp_least_privilege.ts", import.meta.url)
  .pathname;

/** Reads a channel as the pipeline would. */
class Collector {
  readonly lines: RawLine[] = [];
  readonly ch: Channel<RawLine>;
  readonly #done: Promise<void>;

  constructor(capacity = 1024) {
    const ch = new Channel<RawLine>("test-raw", capacity);
    this.ch = ch;
    this.#done = (async () => {
      for await (const l of ch) this.lines.push(l);
    })();
  }

  async waitFor(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.lines.length} of ${n} lines`);
      await delay(10);
    }
    await delay(100);
  }

  async close(): Promise<void> {
    this.ch.close();
    await this.#done;
  }
}

/** A node:dgram client; `send` resolves once the datagram is handed to the kernel. */
function client(family: "udp4" | "udp6" = "udp4") {
  const s = dgram.createSocket(family);
  return {
    send: (msg: string | Uint8Array, port: number, host: string) =>
      new Promise<void>((resolve, reject) =>
        s.send(msg, port, host, (err) => err ? reject(err) : resolve())
      ),
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

/** Start the least-privilege fixture with `flags`; its first JSON line and a way to end it. */
async function fixture(flags: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, FIXTURE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const readLine = async () => {
    while (!out.includes("\n")) {
      const r = await reader.read();
      if (r.done) break;
      out += r.value;
    }
    const i = out.indexOf("\n");
    if (i < 0) return undefined;
    const line = out.slice(0, i);
    out = out.slice(i + 1);
    return line;
  };
  const first = await readLine();
  return {
    first,
    stderr,
    /** Close stdin, then the fixture's closing line (undefined if it failed). */
    async end(): Promise<{ line?: string; code: number; stderr: string }> {
      await child.stdin.close();
      const line = await readLine();
      await reader.cancel();
      const { code } = await child.status;
      return { line, code, stderr: await stderr };
    },
  };
}

Deno.test("syslog UDP through recvmmsg", async (t) => {
  await t.step("a burst of 5,000 messages from logger -f arrives whole and in order", async () => {
    const c = new Collector(10_000);
    const src = new SyslogUdpSource({ port: 0 }, c.ch);
    await src.start();
    // logger(1) sends one datagram per line of the file, in order, as fast as it can (node:dgram
    // in Deno reorders queued sends, so it cannot be the sender here).
    const file = await Deno.makeTempFile({ prefix: "ironpost-udp-burst-" });
    try {
      assertEquals(src.stats().receiver, "recvmmsg");
      await Deno.writeTextFile(
        file,
        Array.from({ length: 5000 }, (_, i) => `burst ${i}\n`).join(""),
      );
      const out = await new Deno.Command("logger", {
        args: [
          "--udp",
          "--server",
          "127.0.0.1",
          "--port",
          String(src.addr!.port),
          "-t",
          "t",
          "-f",
          file,
        ],
        stderr: "piped",
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      await c.waitFor(5000);
      assertEquals(c.lines.length, 5000);
      const bad = c.lines.findIndex((l, i) => !l.line.endsWith(` burst ${i}`));
      assertEquals(bad < 0 ? undefined : c.lines.slice(bad, bad + 3).map((l) => l.line), undefined);
      assertEquals(src.stats().kernelDrops, 0);
      assertEquals(src.stats().dropped, 0);
      assertEquals(src.stats().lines, 5000);
    } finally {
      await Deno.remove(file);
      await src.stop();
      await c.close();
    }
  });

  await t.step("IPv6: bound on ::1, the peer is ::1", async () => {
    const c = new Collector();
    const src = new SyslogUdpSource({ hostname: "::1", port: 0 }, c.ch);
    await src.start();
    const cl = client("udp6");
    try {
      assertEquals(src.addr!.hostname, "::1");
      await cl.send("<13>over six", src.addr!.port, "::1");
      await c.waitFor(1);
      assertEquals(c.lines.map((l) => [l.line, l.peer]), [["<13>over six", "::1"]]);
    } finally {
      await cl.close();
      await src.stop();
      await c.close();
    }
  });

  await t.step("maxMessageBytes plus CRLF is whole; one byte more is cut", async () => {
    const c = new Collector();
    const src = new SyslogUdpSource({ port: 0, maxMessageBytes: 64 }, c.ch);
    await src.start();
    const cl = client();
    try {
      const exact = "<13>" + "x".repeat(60);
      await cl.send(exact + "\r\n", src.addr!.port, "127.0.0.1");
      await cl.send(exact + "y\n", src.addr!.port, "127.0.0.1");
      await cl.send("<13>" + "é".repeat(100), src.addr!.port, "127.0.0.1");
      await c.waitFor(3);
      assertEquals(c.lines.map((l) => [l.line, l.truncated ?? false]), [
        [exact, false],
        [exact, true],
        // Cut at a character boundary: 4 + 30 two-byte characters = 64 bytes.
        ["<13>" + "é".repeat(30), true],
      ]);
      assertEquals(src.stats().truncated, 2);
    } finally {
      await cl.close();
      await src.stop();
      await c.close();
    }
  });

  await t.step("stop wakes the waiting read at once and frees the port", async () => {
    const c = new Collector();
    const src = new SyslogUdpSource({ port: 0 }, c.ch);
    await src.start();
    const port = src.addr!.port;
    await delay(50); // the read is now waiting in the kernel
    const t0 = performance.now();
    await src.stop();
    const took = performance.now() - t0;
    assert(took < 500, `stop took ${took.toFixed(0)} ms`);
    assertEquals(src.health().state, "unhealthy");
    // The descriptor is closed: the port can be bound again.
    const again = new SyslogUdpSource({ port }, c.ch);
    await again.start();
    assertEquals(again.addr!.port, port);
    await again.stop();
    await c.close();
  });

  await t.step(
    "while the channel is full, at most maxPendingBytes wait; more are dropped",
    async () => {
      const ch = new Channel<RawLine>("full", 1);
      const src = new SyslogUdpSource({ port: 0, maxPendingBytes: 100 }, ch);
      await src.start();
      const cl = client();
      try {
        // One at a time, so each arrives in a read of its own and the counts are exact.
        for (let i = 0; i < 10; i++) {
          await delay(5);
          await cl.send(
            `<13>pending message ${String(i).padStart(6, "0")}`,
            src.addr!.port,
            "127.0.0.1",
          );
        }
        await delay(200);
        const dropped = src.stats().dropped;
        // 26-byte messages: one in the channel, three (78 bytes) waiting, six dropped.
        assertEquals(dropped, 6);
        const got: string[] = [];
        while (got.length < 4) {
          const r = await ch.recv();
          got.push(r.value!.line);
        }
        assertEquals(got.map((l) => l.slice(-2)), ["00", "01", "02", "03"]);
        await delay(20);
        assertEquals(src.stats().lines, 4);
      } finally {
        await cl.close();
        await src.stop();
        ch.close();
      }
    },
  );

  await t.step("binding a port in use fails with E_SYSLOG_BIND", async () => {
    const first = new SyslogUdpSource({ port: 0 }, new Channel<RawLine>("a", 1));
    await first.start();
    try {
      const second = new SyslogUdpSource({ port: first.addr!.port }, new Channel("b", 1));
      const err = await second.start().then(() => undefined, (e) => e);
      assert(err instanceof IronpostError, `expected an IronpostError, got ${err}`);
      assertEquals(err.code, "E_SYSLOG_BIND");
      assertMatch(err.message, /bind/);
    } finally {
      await first.stop();
    }
  });

  await t.step("the receiver itself: datagrams with their peer, close ends delivery", async () => {
    const got: string[] = [];
    const rx = await MmsgReceiver.open(
      { hostname: "127.0.0.1", port: 0, recvBufferBytes: 1 << 20, batch: 4 },
      (d, peer, longer) => got.push(`${peer} ${longer} ${new TextDecoder().decode(d)}`),
    );
    const cl = client();
    try {
      for (let i = 0; i < 10; i++) await cl.send(`m${i}`, rx.addr.port, "127.0.0.1");
      const deadline = Date.now() + 5000;
      while (got.length < 10 && Date.now() < deadline) await delay(10);
      assertEquals(got, Array.from({ length: 10 }, (_, i) => `127.0.0.1 false m${i}`));
      assertEquals(rx.drops(), 0);
    } finally {
      await cl.close();
      await rx.close();
    }
    assertEquals(rx.drops(), undefined);
  });
});

Deno.test("syslog UDP without FFI, and --allow-net with FFI", async (t) => {
  await t.step("without --allow-ffi: node:dgram, degraded, messages still arrive", async () => {
    const f = await fixture(["--allow-net=127.0.0.1"]);
    if (!f.first) throw new Error(`no report from the child: ${(await f.end()).stderr}`);
    const report = JSON.parse(f.first);
    const cl = client();
    try {
      assertEquals(report.receiver, "node:dgram");
      assertEquals(report.health.state, "degraded");
      assertMatch(report.health.reason, /receive buffer .*--allow-ffi/);
      for (let i = 1; i <= 3; i++) await cl.send(`<13>no ffi ${i}`, report.port, "127.0.0.1");
      await delay(200);
    } finally {
      await cl.close();
    }
    const end = await f.end();
    assertEquals(end.code, 0, end.stderr);
    assertEquals(JSON.parse(end.line!).lines, ["<13>no ffi 1", "<13>no ffi 2", "<13>no ffi 3"]);
  });

  await t.step("with --allow-ffi, a socket made through libc still needs --allow-net", async () => {
    const f = await fixture(["--allow-net=127.0.0.1:9", "--allow-ffi"]);
    const end = await f.end();
    assertEquals(f.first, undefined);
    assert(end.code !== 0);
    assertMatch(end.stderr, /E_SYSLOG_BIND|Requires net access/);
    assertMatch(end.stderr, /127\.0\.0\.1:0/);
  });
});
