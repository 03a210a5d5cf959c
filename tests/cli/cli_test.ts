/** The `ironpost` commands, run as users run them (deno run with the derived flags). */
import { readPid } from "../../mod/daemon/mod.ts";
import { agentFlags, runAgent, tempAgentConfig } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

Deno.test("ironpost start / status / stop", async (t) => {
  const { dir, config } = await tempAgentConfig();
  const run = (args: string[]) => runAgent([...args, "--config", config], { flagsFrom: config });
  try {
    await t.step("status says not running (exit 3) before start", async () => {
      const r = await run(["status"]);
      assertEquals(r.code, 3);
      assertMatch(r.stderr, /No Ironpost agent is listening on .*ironpost\.sock/);
    });

    await t.step("start waits until healthy and prints PID and log path", async () => {
      const r = await run(["start"]);
      assertEquals(r.code, 0, r.stderr);
      const pid = await readPid(`${dir}/run/ironpost.pid`);
      assertEquals(
        r.stdout,
        `ironpost started: PID ${pid}, healthy\nlog: ${dir}/state/ironpost.log\ncontrol socket: ${dir}/run/ironpost.sock\n`,
      );
      assertEquals((await Deno.stat(`${dir}/state/ironpost.log`)).mode! & 0o027, 0);
    });

    await t.step("a second start refuses, naming the running PID", async () => {
      const r = await run(["start"]);
      assertEquals(r.code, 1);
      const pid = await readPid(`${dir}/run/ironpost.pid`);
      assertMatch(r.stderr, new RegExp(`already running with PID ${pid}`));
    });

    await t.step("status prints the table, or JSON", async () => {
      const r = await run(["status"]);
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stdout, /: HEALTHY\n/);
      assertMatch(r.stdout, /^CHANNEL\s+DEPTH\s+CAPACITY\s+SENT\s+DROPPED$/m);
      const j = await run(["status", "--json"]);
      const body = JSON.parse(j.stdout);
      assertEquals(body.status, "healthy");
      assertEquals(body.config.path, config);
    });

    await t.step("stop stops it gracefully; PID file and socket are gone", async () => {
      const r = await run(["stop"]);
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stdout, /^ironpost stopped \(PID \d+\)$/m);
      assertEquals(await readPid(`${dir}/run/ironpost.pid`), undefined);
      let socketGone = false;
      try {
        await Deno.lstat(`${dir}/run/ironpost.sock`);
      } catch {
        socketGone = true;
      }
      assert(socketGone);
      const log = await Deno.readTextFile(`${dir}/state/ironpost.log`);
      assertMatch(log, /"msg":"stopped \(exit 0\)"/);
      assertEquals((await run(["stop"])).stdout, "ironpost is not running\n");
    });

    await t.step("start fails with the agent's own reason when it cannot start", async () => {
      // A regular file where the control socket should be: the agent refuses to replace it.
      await Deno.mkdir(`${dir}/run`, { recursive: true });
      await Deno.writeTextFile(`${dir}/run/ironpost.sock`, "not a socket");
      const r = await run(["start"]);
      assertEquals(r.code, 1);
      assertMatch(r.stderr, /the agent exited with code 1 before becoming healthy/);
      assertMatch(r.stderr, /exists and is not a socket; refusing to replace it/);
      await Deno.remove(`${dir}/run/ironpost.sock`);
    });
  } finally {
    await run(["stop"]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ironpost config show / permissions / version / help", async (t) => {
  const { dir, config } = await tempAgentConfig(
    '[storage]\npostgres_url = "postgresql://ironpost:s3cr3t-pw@db.internal:5432/ironpost"\n' +
      'redis_url = "redis://:r3dis-tok@127.0.0.1:6379/0"\n',
  );
  const run = (args: string[], env?: Record<string, string>) =>
    runAgent([...args, "--config", config], { flagsFrom: config, env });

  await t.step("config show redacts credentials and marks origins", async () => {
    const r = await run(["config", "show", "--log-level", "debug"], {
      IRONPOST_GENERAL_SHUTDOWN_TIMEOUT_SECS: "9",
    });
    assertEquals(r.code, 0, r.stderr);
    assert(!r.stdout.includes("s3cr3t-pw") && !r.stdout.includes("r3dis-tok"));
    assertMatch(
      r.stdout,
      /^postgres_url = "postgresql:\/\/ironpost:\*\*\*@db\.internal:5432\/ironpost"$/m,
    );
    assertMatch(r.stdout, /^redis_url = "redis:\/\/:\*\*\*@127\.0\.0\.1:6379\/0"$/m);
    assertMatch(r.stdout, /^log_level = "debug" {2}# from the command line$/m);
    assertMatch(
      r.stdout,
      /^shutdown_timeout_secs = 9 {2}# from env IRONPOST_GENERAL_SHUTDOWN_TIMEOUT_SECS$/m,
    );
    const j = await run(["config", "show", "--json"]);
    assert(!j.stdout.includes("s3cr3t-pw"));
    const body = JSON.parse(j.stdout);
    assertEquals(
      body.config.storage.postgres_url,
      "postgresql://ironpost:***@db.internal:5432/ironpost",
    );
    assertEquals(body.origins["storage.postgres_url"], "file");
  });

  await t.step("permissions prints the derived flags: scoped, never -A", async () => {
    const r = await run(["permissions", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const flags: string[] = JSON.parse(r.stdout);
    assertEquals(flags, await agentFlags(config));
    assert(
      !flags.some((f) =>
        f === "-A" || f === "--allow-all" || /^--allow-(read|write|net|run|env|ffi|sys)$/.test(f)
      ),
    );
    // The control socket and its staging name; sd_notify's own end and systemd's socket.
    assertEquals(
      flags.find((f) => f.startsWith("--allow-net=")),
      `--allow-net=unix:${dir}/run/ironpost.sock,unix:${dir}/run/ironpost.sock.new,` +
        `unix:${dir}/run/ironpost.sock.notify,unix:/run/systemd/notify`,
    );
    assertMatch(
      flags.find((f) => f.startsWith("--allow-write="))!,
      new RegExp(`^--allow-write=/run/systemd/notify,${dir}/run,${dir}/state$`),
    );
  });

  await t.step("version and help", async () => {
    const v = await run(["version"]);
    assertMatch(v.stdout, /^ironpost \d+\.\d+\.\d+ \(deno \d/);
    for (const cmd of ["run", "start", "stop", "status", "config", "permissions", "version"]) {
      const h = await run([cmd, "--help"]);
      assertEquals(h.code, 0);
      assertMatch(h.stdout, new RegExp(`^Usage: ironpost ${cmd}`));
    }
    const main = await run(["--help"]);
    assertMatch(main.stdout, /^ironpost — Linux host security agent/);
  });

  await t.step("usage errors exit 2 and say what is valid", async () => {
    const r = await run(["frobnicate"]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /unknown command "frobnicate"; expected one of run, start, stop, status/);
    const o = await run(["status", "--bogus"]);
    assertEquals(o.code, 2);
    assertMatch(o.stderr, /Unknown option '--bogus'/);
    const f = await run(["--validate", "--format", "xml"]);
    assertEquals(f.code, 2);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ironpost alerts reads the store: filters, JSON, show", async () => {
  const { dir, config } = await tempAgentConfig();
  const { SqliteStore } = await import("../../mod/store/mod.ts");
  const { newEvent } = await import("../../mod/core/mod.ts");
  type AlertEvent = import("../../mod/core/mod.ts").AlertEvent;
  const store = await SqliteStore.open(`${dir}/state/ironpost.db`);
  const mk = (severity: AlertEvent["severity"], ts: string, ruleId: string) =>
    newEvent<AlertEvent>({
      kind: "alert",
      ruleId,
      title: `${ruleId} title`,
      severity,
      source: "test",
      tags: [],
      evidence: [],
      srcIp: "198.18.0.9",
      ts,
    });
  const recent = mk("high", new Date().toISOString(), "ssh-brute-force");
  await store.insertAlert(recent);
  await store.insertAlert(mk("low", new Date().toISOString(), "noise"));
  await store.insertAlert(mk("critical", "2001-01-01T00:00:00.000Z", "old"));
  await store.close();
  const run = (args: string[]) => runAgent([...args, "--config", config], { flagsFrom: config });

  const all = JSON.parse((await run(["alerts", "--json"])).stdout);
  assertEquals(all.length, 3);
  const high = JSON.parse(
    (await run(["alerts", "--severity", "high", "--since", "1h", "--json"])).stdout,
  );
  assertEquals(high.map((a: AlertEvent) => a.ruleId), ["ssh-brute-force"]);
  const text = await run(["alerts", "--since", "1h"]);
  assertMatch(text.stdout, /^ID\s+TIME\s+SEVERITY\s+RULE\s+SOURCE IP\s+TITLE$/m);
  assertMatch(text.stdout, /ssh-brute-force\s+198\.18\.0\.9/);
  const show = await run(["alerts", "show", recent.id]);
  assertEquals(JSON.parse(show.stdout), recent);
  const missing = await run(["alerts", "show", "01NOPE"]);
  assertEquals(missing.code, 1);
  assertMatch(missing.stderr, /no alert with id 01NOPE/);
  const bad = await run(["alerts", "--severity", "loud"]);
  assertEquals(bad.code, 2);
  await Deno.remove(dir, { recursive: true });
});
