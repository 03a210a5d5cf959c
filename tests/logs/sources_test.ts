/**
 * Log sources against the real thing: files rotated on disk, a real systemd-journald in a
 * private mount and PID namespace, logger(1) and Deno clients over 127.0.0.1 sockets.
 */
import dgram from "node:dgram";
import { Channel, errorMessage } from "../../mod/core/mod.ts";
import {
  checkpointsFromStore,
  FileTailSource,
  globToRegExp,
  journalctlArgs,
  JournaldSource,
  type RawLine,
  SyslogTcpSource,
  SyslogUdpSource,
} from "../../mod/logs/sources/mod.ts";
import { LineSplitter } from "../../mod/logs/sources/line_splitter.ts";
import { OctetCountingDecoder } from "../../mod/logs/sources/octet_counting.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { LIBC_PATHS } from "../../ffi/libc.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a channel continuously, as the pipeline would, optionally slowly (backpressure). */
class Collector {
  readonly lines: RawLine[] = [];
  readonly ch: Channel<RawLine>;
  readonly #done: Promise<void>;

  constructor(capacity = 1024, perLineDelayMs = 0) {
    const ch = new Channel<RawLine>("test-raw", capacity);
    this.ch = ch;
    this.#done = (async () => {
      for await (const l of ch) {
        this.lines.push(l);
        if (perLineDelayMs) await delay(perLineDelayMs);
      }
    })();
  }

  texts(from = 0): string[] {
    return this.lines.slice(from).map((l) => l.line);
  }

  async waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.texts())}`);
      }
      await delay(10);
    }
  }

  /** Wait for `n` lines, then a little longer to catch any extra one. */
  async settle(n: number, timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => this.lines.length >= n, `${n} lines`, timeoutMs);
    await delay(150);
  }

  async close(): Promise<void> {
    this.ch.close();
    await this.#done;
  }
}

/** A log writer holding its file open in append mode, as a daemon does. */
class Writer {
  #f: Deno.FsFile;
  private constructor(f: Deno.FsFile) {
    this.#f = f;
  }
  static async open(path: string): Promise<Writer> {
    return new Writer(await Deno.open(path, { append: true, create: true }));
  }
  async write(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? enc.encode(data) : data;
    for (let off = 0; off < b.length;) off += await this.#f.write(b.subarray(off));
  }
  close(): void {
    this.#f.close();
  }
}

const FAST = { pollMs: 20, flushIntervalMs: 50, rotateWaitMs: 300 };

Deno.test("line splitting and framing", async (t) => {
  await t.step("lines split across chunks, long ones cut at a character boundary", () => {
    const s = new LineSplitter(3);
    const text = "ab\ncdéfgh\nxy";
    const lines = [...enc.encode(text)].flatMap((b) => s.push(new Uint8Array([b])));
    assertEquals(lines.map((l) => dec.decode(l.bytes)), ["ab", "cd"]);
    assertEquals(lines.map((l) => [l.truncated, l.end]), [[false, 3], [true, 11]]);
    assertEquals(s.pending, 2);
    assertEquals(dec.decode(s.flush()!.bytes), "xy");
  });
  await t.step("octet counting: split frames, oversize frames, bad headers", () => {
    const d = new OctetCountingDecoder(4);
    const all = ["1", "1 hello", " world", "3 abc", "\n2 ok"].flatMap((c) =>
      d.push(enc.encode(c)).frames
    );
    assertEquals(all.map((f) => [dec.decode(f.bytes), f.truncated]), [
      ["hell", true],
      ["abc", false],
      ["ok", false],
    ]);
    assertMatch(new OctetCountingDecoder(10).push(enc.encode("5 hellox")).error!, /MSG-LEN/);
    assertMatch(new OctetCountingDecoder(10).push(enc.encode("05 hello")).error!, /MSG-LEN/);
  });
  await t.step("glob components", () => {
    assert(globToRegExp("*.log").test("auth.log"));
    assert(!globToRegExp("*.log").test(".auth.log"));
    assert(globToRegExp("app-?.log").test("app-1.log"));
    assert(globToRegExp("[!x]*.log").test("a.log") && !globToRegExp("[!x]*.log").test("x.log"));
    assert(!globToRegExp("a.log").test("aXlog"));
  });
  await t.step("journalctl argv", () => {
    assertEquals(
      journalctlArgs({
        cursorFile: "/s/journal.cursor",
        units: ["ssh.service", "cron.service"],
        directory: "/j",
        since: "now",
      }),
      [
        "--output=json",
        "--follow",
        "--no-pager",
        "--cursor-file",
        "/s/journal.cursor",
        "--unit",
        "ssh.service",
        "--unit",
        "cron.service",
        "--directory",
        "/j",
        "--since",
        "now",
      ],
    );
  });
});

Deno.test("file source", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-files-" });

  await t.step("rename + create rotation, three times: every line once, in order", async () => {
    const path = `${dir}/app.log`;
    const c = new Collector();
    let w = await Writer.open(path);
    const src = new FileTailSource({ paths: [path], startAt: "start", ...FAST }, c.ch);
    await src.start();
    const expected: string[] = [];
    const burst = async (w: Writer) => {
      for (let k = 0; k < 10; k++) {
        const s = `rotate line ${expected.length + 1}`;
        expected.push(s);
        await w.write(s + "\n");
        if (k % 3 === 0) await delay(4);
      }
    };
    for (let round = 1; round <= 3; round++) {
      await burst(w);
      // Rotation is far apart in real life: let the source reach this file before the next.
      await c.waitFor(() => c.lines.length === expected.length, "the source to catch up");
      await Deno.rename(path, `${path}.${round}`);
      // The daemon writes to the renamed file until it reopens its log.
      await burst(w);
      w.close();
      w = await Writer.open(path);
    }
    await burst(w);
    await c.settle(expected.length);
    assertEquals(c.texts(), expected);
    assertEquals(src.stats().rotations, 3);
    assertEquals(c.lines[0].source, `file:${path}`);
    w.close();
    await src.stop();
    await c.close();
  });

  await t.step("copytruncate: the emptied file is read again from its start", async () => {
    const path = `${dir}/ct.log`;
    const c = new Collector();
    const w = await Writer.open(path);
    const src = new FileTailSource({ paths: [path], startAt: "start", ...FAST }, c.ch);
    await src.start();
    const expected: string[] = [];
    for (let i = 1; i <= 10; i++) expected.push(`copytruncate line ${i}`);
    await w.write(expected.map((s) => s + "\n").join(""));
    await c.settle(10);
    await Deno.copyFile(path, `${path}.1`);
    await Deno.truncate(path, 0);
    for (let i = 11; i <= 13; i++) {
      expected.push(`after ${i}`);
      await w.write(`after ${i}\n`);
    }
    await c.settle(13);
    assertEquals(c.texts(), expected);
    assertEquals(src.stats().truncations, 1);
    w.close();
    await src.stop();
    await c.close();
  });

  await t.step("symlink swap: the new target is read from its start", async () => {
    const [a, b, link] = [`${dir}/a.log`, `${dir}/b.log`, `${dir}/current.log`];
    const c = new Collector();
    const wa = await Writer.open(a);
    await Deno.symlink(a, link);
    const src = new FileTailSource({ paths: [link], startAt: "start", ...FAST }, c.ch);
    await src.start();
    const expected: string[] = [];
    for (let i = 1; i <= 10; i++) {
      expected.push(`symlink line ${i}`);
      await wa.write(`symlink line ${i}\n`);
    }
    const wb = await Writer.open(b);
    await Deno.symlink(b, `${link}.tmp`);
    await Deno.rename(`${link}.tmp`, link);
    for (let i = 11; i <= 20; i++) {
      expected.push(`symlink line ${i}`);
      await wb.write(`symlink line ${i}\n`);
    }
    await c.settle(20);
    assertEquals(c.texts(), expected);
    assertEquals(src.stats().rotations, 1);
    wa.close();
    wb.close();
    await src.stop();
    await c.close();
  });

  await t.step("a file that appears later under a glob is read from its start", async () => {
    const c = new Collector();
    const src = new FileTailSource(
      { paths: [`${dir}/later/*.log`], startAt: "end", ...FAST },
      c.ch,
    );
    await src.start();
    await delay(60);
    await Deno.mkdir(`${dir}/later`);
    await Deno.writeTextFile(`${dir}/later/notes.txt`, "not a match\n");
    await Deno.writeTextFile(`${dir}/later/one.log`, "first\nsecond\n");
    await c.settle(2);
    await Deno.writeTextFile(`${dir}/later/two.log`, "third\n");
    await c.settle(3);
    assertEquals(c.texts(), ["first", "second", "third"]);
    assertEquals(c.lines[2].source, `file:${dir}/later/two.log`);
    assertEquals(src.health().state, "healthy");
    await src.stop();
    await c.close();
  });

  await t.step("a glob that also matches rotated names reads each line once", async () => {
    await Deno.mkdir(`${dir}/multi`);
    const path = `${dir}/multi/app.log`;
    const c = new Collector();
    let w = await Writer.open(path);
    const src = new FileTailSource(
      { paths: [`${dir}/multi/app.log*`], startAt: "start", ...FAST },
      c.ch,
    );
    await src.start();
    const expected: string[] = [];
    const write = async (n: number) => {
      for (let k = 0; k < n; k++) {
        expected.push(`multi line ${expected.length + 1}`);
        await w.write(`${expected.at(-1)}\n`);
      }
    };
    await write(10);
    await c.waitFor(() => c.lines.length === 10, "the first lines");
    await Deno.rename(path, `${path}.1`);
    await write(5); // to the renamed file, now also matched by the glob
    await delay(60);
    w.close();
    w = await Writer.open(path);
    await write(10);
    await c.settle(25);
    // Nothing lost or repeated; across two files there is no order, within one there is.
    assertEquals([...c.texts()].sort(), [...expected].sort());
    for (const name of [path, `${path}.1`]) {
      const nums = c.lines.filter((l) => l.source === `file:${name}`).map((l) =>
        Number(l.line.split(" ")[2])
      );
      assertEquals(nums, [...nums].sort((x, y) => x - y));
    }
    w.close();
    await src.stop();
    await c.close();
  });

  await t.step("a deleted file is closed; a new file at its path is read", async () => {
    const path = `${dir}/gone.log`;
    await Deno.writeTextFile(path, "");
    const c = new Collector();
    const src = new FileTailSource({ paths: [path], startAt: "start", ...FAST }, c.ch);
    await src.start();
    await Deno.writeTextFile(path, "before delete\n", { append: true });
    await c.settle(1);
    await Deno.remove(path);
    await c.waitFor(() => src.stats().files === 0, "the deleted file to be closed");
    await Deno.writeTextFile(path, "recreated\n");
    await c.settle(2);
    assertEquals(c.texts(), ["before delete", "recreated"]);
    await src.stop();
    await c.close();
  });

  await t.step("long lines are cut and flagged; invalid UTF-8 is replaced", async () => {
    const path = `${dir}/odd.log`;
    const w = await Writer.open(path);
    const c = new Collector();
    // Tiny reads put chunk edges inside lines and inside multi-byte characters.
    const src = new FileTailSource(
      { paths: [path], startAt: "start", maxLineBytes: 65, readChunkBytes: 7, ...FAST },
      c.ch,
    );
    await src.start();
    await w.write(`short 1\n${"x".repeat(200)}\n${"é".repeat(100)}\n`);
    await w.write(new Uint8Array([...enc.encode("ok "), 0xff, 0xfe, ...enc.encode(" end\n")]));
    await w.write("short 2\n");
    await c.settle(5);
    assertEquals(c.texts(), [
      "short 1",
      "x".repeat(65),
      "é".repeat(32), // 65 bytes would end inside the 33rd "é"
      "ok \uFFFD\uFFFD end",
      "short 2",
    ]);
    assertEquals(c.lines.map((l) => l.truncated ?? false), [false, true, true, false, false]);
    assertEquals(src.stats().truncated, 2);
    w.close();
    await src.stop();
    await c.close();
  });

  await t.step("a restart between two writes neither loses nor repeats a line", async () => {
    const path = `${dir}/restart.log`;
    await Deno.writeTextFile(path, "old 1\nold 2\n");
    const store = await SqliteStore.open(`${dir}/state/ironpost.db`);
    const opts = {
      paths: [path],
      startAt: "end" as const,
      checkpoints: checkpointsFromStore(store),
      ...FAST,
      flushIntervalMs: 60_000, // only the flush at stop matters here
    };
    // A small channel and a slow reader: the source waits on the channel mid-file.
    const c = new Collector(2, 3);
    const w = await Writer.open(path);
    const expected: string[] = [];
    const write = async (from: number, to: number) => {
      let text = "";
      for (let i = from; i <= to; i++) {
        expected.push(`restart line ${i}`);
        text += `restart line ${i}\n`;
      }
      await w.write(text);
    };

    const first = new FileTailSource(opts, c.ch);
    await first.start();
    await write(1, 30);
    await c.waitFor(() => c.lines.length >= 10, "10 lines");
    await first.stop();
    await delay(50); // the reader takes what the channel had accepted
    const accepted = c.lines.length;
    assert(accepted >= 10 && accepted < 30, `stopped mid-file (accepted ${accepted})`);
    const saved = JSON.parse((await store.getCheckpoint(`logs.files:${path}`))!);
    const st = await Deno.stat(path);
    assertEquals([saved.dev, saved.ino], [st.dev, st.ino]);
    const acceptedBytes = enc.encode(
      "old 1\nold 2\n" + expected.slice(0, accepted).map((s) => s + "\n").join(""),
    ).length;
    assertEquals(saved.offset, acceptedBytes);

    await write(31, 35); // while no source runs
    const second = new FileTailSource(opts, c.ch);
    await second.start();
    await write(36, 40);
    await c.settle(40);
    assertEquals(c.texts(), expected);
    w.close();
    await second.stop();
    await c.close();
    await store.close();
  });

  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------------------------------
// journald: a real systemd-journald, private to the test.

const JOURNALD = "/lib/systemd/systemd-journald";
const JOURNALD_CONF = new URL("../fixtures/logs_sources/journald-test.conf", import.meta.url);

interface TestJournald {
  dir: string;
  /** Host PID of the namespace's init (a `sleep`), the target of nsenter. */
  nsPid: number;
  /** Where journald keeps its files, seen from the host: journalctl --directory. */
  journalDir: string;
  /** Log through the syslog socket with logger(1). */
  logger(msg: string): Promise<void>;
  /** Log through the stdout stream with systemd-cat, run inside the namespaces. */
  cat(msg: string): Promise<void>;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .output();
  return { code: out.code, stderr: dec.decode(out.stderr).trim() };
}

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Child PIDs of `pid` (any of its threads may have forked them). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

/**
 * Start systemd-journald without systemd as PID 1. It binds its own sockets when none are
 * passed to it; what it needs is a private /run/systemd (sockets, the drop-in config) and
 * /run/log (the volatile journal). So: a holder process in new mount and PID namespaces
 * (`unshare -m -p -f --mount-proc`), two bind mounts from a temp dir made with nsenter,
 * and journald started in those namespaces. The PID namespace also keeps it away from the
 * kernel's audit settings, which the kernel only lets the initial PID namespace change.
 * Returns why when it cannot.
 */
async function startJournald(): Promise<TestJournald | string> {
  if (Deno.uid() !== 0) return "needs root for mount namespaces";
  if (!exists(JOURNALD)) return `${JOURNALD} is missing (Debian package systemd)`;
  const dir = await Deno.makeTempDir({ prefix: "ironpost-journald-" });
  await Deno.mkdir(`${dir}/run/journald.conf.d`, { recursive: true });
  await Deno.mkdir(`${dir}/log`);
  await Deno.copyFile(JOURNALD_CONF, `${dir}/run/journald.conf.d/ironpost-test.conf`);
  const holder = new Deno.Command("unshare", {
    args: [
      "--mount",
      "--pid",
      "--fork",
      "--mount-proc",
      "--propagation",
      "private",
      "--kill-child",
      "sleep",
      "infinity",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let nsPid = 0;
  let journald: Deno.ChildProcess | undefined;
  let journaldErr = Promise.resolve("");
  const stop = async () => {
    // SIGKILL to the namespace's init takes every process in it down; unshare then exits.
    if (nsPid) {
      try {
        Deno.kill(nsPid, "SIGKILL");
      } catch {
        // already gone
      }
    } else {
      holder.kill("SIGKILL");
    }
    await holder.status;
    if (journald) await journald.status;
    await journaldErr;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    for (let i = 0; i < 200 && !nsPid; i++) {
      nsPid = childrenOf(holder.pid)[0] ?? 0;
      if (!nsPid) await delay(10);
    }
    if (!nsPid) throw new Error("unshare did not start its namespace");
    const ns = ["--target", String(nsPid), "--mount"];
    await must("nsenter", [...ns, "--", "mount", "--bind", `${dir}/run`, "/run/systemd"]);
    await must("nsenter", [...ns, "--", "mount", "--bind", `${dir}/log`, "/run/log"]);
    journald = new Deno.Command("nsenter", {
      args: [...ns, "--pid", "--", JOURNALD],
      env: { SYSTEMD_LOG_TARGET: "console" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    journaldErr = new Response(journald.stderr).text();
    const ready = () => exists(`${dir}/run/journal/dev-log`) && exists(`${dir}/log/journal`);
    for (let i = 0; i < 500 && !ready(); i++) await delay(10);
    if (!ready()) throw new Error("journald did not create its sockets and journal in 5 s");
  } catch (err) {
    await stop();
    return `${errorMessage(err)}; journald said: ${await journaldErr}`;
  }
  return {
    dir,
    nsPid,
    journalDir: `${dir}/log/journal`,
    logger: (msg) =>
      must("logger", ["--socket", `${dir}/run/journal/dev-log`, "-t", "ironpost-test", msg]),
    // Inside the PID namespace too: journald refuses a stream whose peer PID it cannot see.
    cat: (msg) =>
      must("nsenter", [
        "--target",
        String(nsPid),
        "--mount",
        "--pid",
        "--",
        "systemd-cat",
        "-t",
        "ironpost-test",
        "echo",
        msg,
      ]),
    stop,
  };
}

/** MESSAGE of the entries our test wrote, from journal-json lines (probes only if asked). */
function ours(lines: RawLine[], probes = false): string[] {
  return lines.map((l) => JSON.parse(l.line) as Record<string, unknown>)
    .filter((e) => e.SYSLOG_IDENTIFIER === "ironpost-test")
    .map((e) => String(e.MESSAGE))
    .filter((m) => probes || !m.startsWith("probe "));
}

Deno.test("journald source (real systemd-journald)", async (t) => {
  const jd = await startJournald();
  if (typeof jd === "string") {
    requirePart(`systemd-journald (${jd})`, false);
    return;
  }
  const c = new Collector();
  const opts = {
    stateDir: `${jd.dir}/state`,
    directory: jd.journalDir,
    backoffMs: 100,
    flushIntervalMs: 100,
  };
  let src = new JournaldSource(opts, c.ch);
  try {
    await t.step("delivers what logger and systemd-cat write", async () => {
      await src.start();
      // journalctl starts "--since now" when it gets there: probe until it is reading.
      // (A probe that was slower than the next one's check may still come: ours() skips them.)
      for (let i = 0; ours(c.lines, true).length === 0; i++) {
        assert(i < 50, "journalctl never delivered a probe message");
        await jd.logger(`probe ${i}`);
        await delay(100);
      }
      const mark = c.lines.length;
      await jd.logger("logger one");
      await jd.cat("cat two");
      await jd.logger("logger three");
      await c.waitFor(() => ours(c.lines.slice(mark)).length >= 3, "three messages");
      assertEquals(ours(c.lines.slice(mark)), ["logger one", "cat two", "logger three"]);
      assert(c.lines.every((l) => l.source === "journald" && l.format === "journal-json"));
      assertEquals(src.health().state, "healthy");
    });

    await t.step("a restart resumes right after the last accepted entry", async () => {
      await src.stop();
      const last = JSON.parse(c.lines.at(-1)!.line).__CURSOR;
      assertEquals((await Deno.readTextFile(src.cursorFile)).trim(), last);
      await jd.logger("while stopped 1");
      await jd.cat("while stopped 2");
      const mark = c.lines.length;
      src = new JournaldSource(opts, c.ch);
      await src.start();
      await jd.logger("after restart 3");
      await c.waitFor(() => ours(c.lines.slice(mark)).length >= 3, "three messages");
      await delay(200);
      assertEquals(ours(c.lines.slice(mark)), [
        "while stopped 1",
        "while stopped 2",
        "after restart 3",
      ]);
    });

    await t.step(
      "journalctl is restarted, with backoff and degraded health, if it exits",
      async () => {
        const mine = childrenOf(Deno.pid).filter((pid) => {
          try {
            return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(src.cursorFile);
          } catch {
            return false;
          }
        });
        assertEquals(mine.length, 1, "one journalctl child of this source");
        Deno.kill(mine[0], "SIGKILL");
        await c.waitFor(() => src.stats().restarts === 1, "a restart");
        assertEquals(src.health().state, "degraded");
        assertMatch(src.health().reason!, /journalctl exited with signal SIGKILL/);
        const mark = c.lines.length;
        await jd.logger("after crash 4");
        await c.waitFor(() => ours(c.lines.slice(mark)).length >= 1, "a message after the crash");
        await delay(200);
        assertEquals(ours(c.lines.slice(mark)), ["after crash 4"]);
        assertEquals(src.health().state, "healthy");
      },
    );
  } finally {
    await src.stop();
    await c.close();
    await jd.stop();
  }
});

// ---------------------------------------------------------------------------------------
// syslog over UDP and TCP

async function logger(args: string[]): Promise<void> {
  await must("logger", ["--server", "127.0.0.1", "-t", "ironpost-test", ...args]);
}

/** The kernel's receive buffer (`rb`, bytes) of the UDP socket on `port`, from ss(8). */
async function ssReceiveBuffer(port: number): Promise<number> {
  const out = await new Deno.Command("ss", {
    args: ["-uamn", "sport", "=", `:${port}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const m = /rb(\d+)/.exec(dec.decode(out.stdout));
  assert(m, `ss shows no socket on :${port}`);
  return Number(m[1]);
}

Deno.test("syslog UDP source", async (t) => {
  const c = new Collector();
  const src = new SyslogUdpSource({ hostname: "127.0.0.1", port: 0, maxMessageBytes: 256 }, c.ch);
  await src.start();
  const port = src.addr!.port;
  const client = dgram.createSocket("udp4");
  const send = (msg: string | Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      client.send(msg, port, "127.0.0.1", (err) => err ? reject(err) : resolve())
    );
  try {
    await t.step(
      "the receive buffer really is 4 MiB (ss shows the kernel's doubled value)",
      async () => {
        assertEquals(src.stats().recvBufferBytes >= 4 * 1024 * 1024, true);
        assert((await ssReceiveBuffer(port)) >= 8 * 1024 * 1024);
        assertEquals(src.health().state, "healthy");
        assertEquals(src.stats().receiver, "recvmmsg");
      },
    );

    await t.step(
      "it needs only --allow-net and --allow-ffi scoped to libc (no /proc)",
      async () => {
        const libc = LIBC_PATHS.find(exists)!;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--no-prompt",
            "--allow-net=127.0.0.1",
            `--allow-ffi=${libc}`,
            new URL("../fixtures/logs_sources/udp_least_privilege.ts", import.meta.url).pathname,
          ],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let out = "";
        while (!out.includes("\n")) {
          const r = await reader.read();
          if (r.done) break;
          out += r.value;
        }
        try {
          if (!out.includes("\n")) {
            await child.stdin.close();
            throw new Error(`no report from the child: ${out} ${await stderr}`);
          }
          const report = JSON.parse(out);
          assertEquals(report.health, { state: "healthy" });
          assertEquals(report.recvBufferBytes, 4 * 1024 * 1024);
          assertEquals(report.receiver, "recvmmsg");
          assert((await ssReceiveBuffer(report.port)) >= 8 * 1024 * 1024);
        } finally {
          await child.stdin.close();
          await reader.cancel();
          await child.status;
          await stderr;
        }
      },
    );

    await t.step("messages from logger --udp arrive, with the peer address", async () => {
      for (let i = 1; i <= 5; i++) {
        await logger(["--udp", "--port", String(port), `udp logger ${i}`]);
      }
      await c.settle(5);
      assertEquals(c.lines.map((l) => l.line.replace(/^.* /, "")), ["1", "2", "3", "4", "5"]);
      assert(c.lines.every((l) => /udp logger \d$/.test(l.line)));
      assert(c.lines.every((l) => l.peer === "127.0.0.1" && l.format === "syslog"));
      assertEquals(c.lines[0].source, "syslog-udp");
    });

    await t.step("datagrams from a Deno client: one message each, newline stripped", async () => {
      const mark = c.lines.length;
      const expected: string[] = [];
      for (let i = 1; i <= 50; i++) {
        expected.push(`<14>deno datagram ${i}`);
        await send(`<14>deno datagram ${i}\n`);
      }
      await c.settle(mark + 50);
      assertEquals(c.texts(mark), expected);
    });

    await t.step("an oversized datagram is cut and flagged", async () => {
      const mark = c.lines.length;
      await send("<14>" + "u".repeat(400));
      await send("<14>after");
      await c.settle(mark + 2);
      assertEquals(c.texts(mark), ["<14>" + "u".repeat(252), "<14>after"]);
      assertEquals(c.lines.slice(mark).map((l) => l.truncated ?? false), [true, false]);
      assertEquals(src.stats().truncated, 1);
      assertEquals(src.stats().dropped, 0);
      assertEquals(src.stats().kernelDrops, 0); // read through SO_MEMINFO
    });
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
    await src.stop();
    await c.close();
  }
});

async function writeAll(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const b = typeof data === "string" ? enc.encode(data) : data;
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

/** Send `chunks` on one connection, pausing between them so they arrive as separate reads. */
async function tcpSend(port: number, chunks: string[]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for (const chunk of chunks) {
    await writeAll(conn, chunk);
    await delay(5);
  }
  conn.close();
}

/** True when the server closes `conn` within `ms` (EOF or reset). Always closes it. */
async function closedByServer(conn: Deno.Conn, ms: number): Promise<boolean> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  try {
    const n = await conn.read(new Uint8Array(16));
    return n === null;
  } catch {
    return !timedOut;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}

Deno.test("syslog TCP source", async (t) => {
  await t.step("logger over TCP, with LF framing and with octet counting", async () => {
    const c = new Collector();
    const src = new SyslogTcpSource({ port: 0 }, c.ch);
    await src.start();
    const port = String(src.addr!.port);
    await logger(["--tcp", "--port", port, "tcp lf 1"]);
    await logger(["--tcp", "--port", port, "--octet-count", "tcp octet 2"]);
    await logger(["--tcp", "--port", port, "tcp lf 3"]);
    await logger(["--tcp", "--port", port, "--octet-count", "tcp octet 4"]);
    await c.settle(4);
    assertEquals(c.lines.map((l) => /tcp (lf|octet) \d$/.exec(l.line)?.[0]), [
      "tcp lf 1",
      "tcp octet 2",
      "tcp lf 3",
      "tcp octet 4",
    ]);
    assert(c.lines.every((l) => l.peer === "127.0.0.1" && l.source === "syslog-tcp"));
    await src.stop();
    await c.close();
  });

  await t.step("a Deno client: both framings, split anywhere, oversize cut", async () => {
    const c = new Collector();
    const src = new SyslogTcpSource({ port: 0, maxMessageBytes: 16 }, c.ch);
    await src.start();
    const port = src.addr!.port;
    await tcpSend(port, ["<13>lf one\n<13>lf", " two\r\n", `<13>${"y".repeat(40)}\n<13>lf end`]);
    await c.settle(4);
    await tcpSend(port, ["1", "5 <13>hello w", "orld", "30 <13>" + "z".repeat(26), "9 <13>done\n"]);
    await c.settle(7);
    assertEquals(c.texts(), [
      "<13>lf one",
      "<13>lf two",
      "<13>" + "y".repeat(12),
      "<13>lf end", // the last line needs no LF: the connection closing ends it
      "<13>hello world",
      "<13>" + "z".repeat(12),
      "<13>done",
    ]);
    assertEquals(c.lines.map((l) => l.truncated ?? false), [
      false,
      false,
      true,
      false,
      false,
      true,
      false,
    ]);
    assertEquals(src.stats().truncated, 2);
    // A broken octet-counted stream closes the connection.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, "5 <13>ax oops");
    assert(await closedByServer(conn, 2000), "closed after a framing error");
    assertEquals(src.stats().framingErrors, 1);
    await src.stop();
    await c.close();
  });

  await t.step("the connection limit is enforced and counted", async () => {
    const c = new Collector();
    const src = new SyslogTcpSource({ port: 0, maxConnections: 2 }, c.ch);
    await src.start();
    const port = src.addr!.port;
    const a = await Deno.connect({ hostname: "127.0.0.1", port });
    const b = await Deno.connect({ hostname: "127.0.0.1", port });
    // One at a time: lines of different connections have no order between them.
    await writeAll(a, "<13>from a\n");
    await c.settle(1);
    await writeAll(b, "<13>from b\n");
    await c.settle(2);
    const third = await Deno.connect({ hostname: "127.0.0.1", port });
    assert(await closedByServer(third, 2000), "the third connection is closed");
    assertEquals(src.stats().refused, 1);
    assertEquals(src.stats().droppedConnections, 1);
    assertEquals(src.health().state, "degraded");
    a.close();
    await c.waitFor(() => src.stats().connections === 1, "a to be gone");
    await tcpSend(port, ["<13>from d\n"]);
    await c.settle(3);
    assertEquals(c.texts(), ["<13>from a", "<13>from b", "<13>from d"]);
    // stop closes the connections still open.
    const stopped = src.stop();
    assert(await closedByServer(b, 2000), "stop closes open connections");
    await stopped;
    await c.close();
  });

  await t.step("an idle connection is closed", async () => {
    const c = new Collector();
    const src = new SyslogTcpSource({ port: 0, idleTimeoutMs: 200 }, c.ch);
    await src.start();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: src.addr!.port });
    const t0 = Date.now();
    assert(await closedByServer(conn, 3000), "closed for idleness");
    assert(Date.now() - t0 >= 150, "not before the idle timeout");
    assertEquals(src.stats().idleClosed, 1);
    await src.stop();
    await c.close();
  });
});
