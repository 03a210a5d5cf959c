/**
 * The agent as users run it: `deno task start` and `deno run <derived flags> main.ts`,
 * talking to it over its real control socket and sending it real signals.
 */
import { controlRequest, readPid } from "../../mod/daemon/mod.ts";
import {
  OutputTail,
  ROOT,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitFor,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function healthy(socket: string): Promise<boolean> {
  try {
    return (await controlRequest(socket, "GET", "/health", 1000)).status === 200;
  } catch {
    return false;
  }
}

Deno.test("deno task start: runs the shipped config, status healthy, SIGTERM exits 0 fast", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-task-" });
  const env = {
    IRONPOST_GENERAL_STATE_DIR: `${dir}/state`,
    IRONPOST_GENERAL_PID_FILE: `${dir}/run/ironpost.pid`,
    IRONPOST_GENERAL_CONTROL_SOCKET: `${dir}/run/ironpost.sock`,
  };
  const task = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: ROOT,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = new OutputTail(task.stderr);
  const out = new OutputTail(task.stdout);
  try {
    assert(await waitFor(() => healthy(env.IRONPOST_GENERAL_CONTROL_SOCKET), 15000), err.text);
    const status = await runAgent(["status", "--config", `${ROOT}config/ironpost.toml`], {
      flagsFrom: `${ROOT}config/ironpost.toml`,
      env,
    });
    assertEquals(status.code, 0, status.stderr);
    assertMatch(status.stdout, /^ironpost \d+\.\d+\.\d+: HEALTHY/);
    assertMatch(status.stdout, /store\s+healthy/);
    const pid = await readPid(env.IRONPOST_GENERAL_PID_FILE);
    assert(pid !== undefined);

    const t0 = Date.now();
    task.kill("SIGTERM");
    const st = await task.status;
    const elapsed = Date.now() - t0;
    assertEquals(st.code, 0, err.text);
    assert(elapsed < 5000, `stopped in ${elapsed} ms`);
    assertEquals(await exists(env.IRONPOST_GENERAL_PID_FILE), false, "PID file removed");
    assertEquals(await exists(env.IRONPOST_GENERAL_CONTROL_SOCKET), false, "socket removed");
    assertMatch(err.text + out.text, /"msg":"stopped \(exit 0\)"/);
  } finally {
    try {
      task.kill("SIGKILL");
    } catch { /* exited */ }
    await task.status;
    await Promise.all([err.closed(), out.closed()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("running agent: control API, SIGHUP, second instance, denied reads", async (t) => {
  const { dir, config } = await tempAgentConfig();
  const socket = `${dir}/run/ironpost.sock`;
  const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
  const logs = new OutputTail(agent.stderr);
  const stdout = new OutputTail(agent.stdout);
  try {
    assert(await waitFor(() => healthy(socket), 15000), logs.text);

    await t.step("the socket is mode 0600 and /health reports per module", async () => {
      assertEquals((await Deno.stat(socket)).mode! & 0o777, 0o600);
      const r = await controlRequest(socket, "GET", "/health");
      assertEquals(r.status, 200);
      assertEquals(JSON.parse(r.body), {
        status: "healthy",
        modules: { store: { state: "healthy" } },
      });
    });

    await t.step("/status has version, uptime, config path and sha256, channels", async () => {
      const body = JSON.parse((await controlRequest(socket, "GET", "/status")).body);
      const text = await Deno.readFile(config);
      const sha = Array.from(
        new Uint8Array(await crypto.subtle.digest("SHA-256", text)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      assertEquals(body.config, { path: config, sha256: sha });
      assertMatch(body.version, /^\d+\.\d+\.\d+$/);
      assert(body.uptime_secs >= 0);
      assertEquals(body.channels.map((c: { name: string }) => c.name), [
        "packets",
        "host",
        "alerts",
        "actions",
        "decisions",
      ]);
      assertEquals(body.channels[0].capacity, 1024);
      assertEquals(body.channels[2].capacity, 256);
    });

    await t.step("/metrics is Prometheus text with ironpost_ names", async () => {
      const r = await controlRequest(socket, "GET", "/metrics");
      assertEquals(r.status, 200);
      assertMatch(r.headers["content-type"], /^text\/plain; version=0\.0\.4/);
      assertMatch(r.body, /^ironpost_build_info\{version="[^"]+",deno="[^"]+",v8="[^"]+"\} 1$/m);
      assertMatch(r.body, /^# TYPE ironpost_channel_dropped_total counter$/m);
      for (const line of r.body.split("\n").filter((l) => l.startsWith("# TYPE"))) {
        const [, , name, type] = line.split(" ");
        assert(name.startsWith("ironpost_"), name);
        if (type === "counter") assert(name.endsWith("_total"), `${name} is a counter`);
      }
    });

    await t.step("unknown endpoints and methods get 404 and 405", async () => {
      assertEquals((await controlRequest(socket, "GET", "/nope")).status, 404);
      assertEquals((await controlRequest(socket, "POST", "/health")).status, 405);
    });

    await t.step("SIGHUP with a broken config keeps the running one", async () => {
      const before =
        JSON.parse((await controlRequest(socket, "GET", "/status")).body).config.sha256;
      const good = await Deno.readTextFile(config);
      await Deno.writeTextFile(config, good + '\n[general.oops]\nlog_level = "loud"\n');
      agent.kill("SIGHUP");
      assert(await logs.waitFor(/new config is invalid, keeping the running one/), logs.text);
      const after = JSON.parse((await controlRequest(socket, "GET", "/status")).body);
      assertEquals(after.config.sha256, before);
      assertEquals(after.status, "healthy");
      const m = (await controlRequest(socket, "GET", "/metrics")).body;
      assertMatch(m, /^ironpost_config_reloads_total\{result="failed"\} 1$/m);

      // A valid change is applied live: debug logging turns on.
      await Deno.writeTextFile(
        config,
        good.replace('log_format = "json"', 'log_format = "json"\nlog_level = "debug"'),
      );
      agent.kill("SIGHUP");
      assert(await logs.waitFor(/SIGHUP: config reloaded/), logs.text);
      const reloaded = JSON.parse((await controlRequest(socket, "GET", "/status")).body);
      assert(reloaded.config.sha256 !== before);
      await Deno.writeTextFile(config, good);
    });

    await t.step(
      "a second agent with the same PID file refuses to start, naming the PID",
      async () => {
        const r = await runAgent(["run", "--config", config], { flagsFrom: config });
        assertEquals(r.code, 1);
        assertMatch(
          r.stderr,
          new RegExp(
            `Ironpost is already running with PID ${agent.pid} \\(PID file ${dir}/run/ironpost.pid\\)`,
          ),
        );
        assert(await healthy(socket), "the first agent is untouched");
      },
    );

    await t.step("the agent is denied a read outside its derived permissions", async () => {
      const outside = await Deno.makeTempFile({ suffix: ".toml" });
      await Deno.writeTextFile(outside, "[general]\n");
      const r = await runAgent(["--validate", "--config", outside], { flagsFrom: config });
      // An unreadable config is an I/O error for --validate: exit 2.
      assertEquals(r.code, 2);
      assertEquals(
        r.stderr.split("\n")[0],
        `${outside}: error: (config file): reading it is outside this agent's Deno permissions; expected a config path inside the --allow-read scope the agent was started with (\`ironpost permissions --config PATH\` prints the flags for a config)`,
      );
      await Deno.remove(outside);
    });
  } finally {
    agent.kill("SIGTERM");
    const st = await agent.status;
    await Promise.all([logs.closed(), stdout.closed()]);
    assertEquals(st.code, 0, logs.text);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stale PID file is replaced with a warning", async () => {
  const { dir, config } = await tempAgentConfig();
  const done = new Deno.Command("true").spawn();
  await done.status;
  await Deno.mkdir(`${dir}/run`, { recursive: true });
  await Deno.writeTextFile(`${dir}/run/ironpost.pid`, `${done.pid}\n`);
  const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
  const logs = new OutputTail(agent.stderr);
  try {
    assert(await logs.waitFor(/running \(PID/), logs.text);
    assertMatch(
      logs.text,
      new RegExp(`replacing stale PID file .*\\(PID ${done.pid} is not running\\)`),
    );
    assertEquals(await readPid(`${dir}/run/ironpost.pid`), agent.pid);
  } finally {
    agent.kill("SIGINT");
    assertEquals((await agent.status).code, 0);
    await logs.closed();
    await agent.stdout.cancel();
    await Deno.remove(dir, { recursive: true });
  }
});
