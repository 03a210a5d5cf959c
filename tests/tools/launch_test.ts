/**
 * `deno task start` (tools/launch.ts): without `--config` it runs the built-in server profile
 * (as root: the host sensors and the log pipeline, whose events `ironpost trace` shows), and
 * a signal to the launcher or to its whole process group stops the agent once, gracefully
 * (exit 0, PID file removed), never as a double signal's "exit now".
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { OutputTail, ROOT, tempAgentConfig, waitFor, waitHealthy } from "../helpers/agent.ts";
import { requireRoot } from "../helpers/require.ts";
import { controlRequest } from "../../mod/daemon/mod.ts";

/** `deno task start <args>` in a process group of its own (its PID is the group's ID). */
function startTask(args: string[], env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
}

/** `kill -<sig> <target>` (a negative target is a process group). */
async function kill(target: number, sig = "INT"): Promise<void> {
  const out = await new Deno.Command("kill", { args: [`-${sig}`, "--", String(target)] }).output();
  assert(out.success, `kill -${sig} ${target} failed`);
}

/** The PIDs of a process's children. */
async function children(pid: number): Promise<number[]> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
    return text.trim().split(/\s+/).filter((s) => s !== "").map(Number);
  } catch {
    return [];
  }
}

/** The launcher (tools/launch.ts) under a `deno task start` process. */
async function launcherOf(taskPid: number): Promise<number> {
  let found = 0;
  await waitFor(async () => {
    for (const pid of await children(taskPid)) {
      const cmd = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
      if (cmd.includes("tools/launch.ts")) {
        found = pid;
        return true;
      }
    }
    return false;
  }, 10_000);
  assert(found > 0, "no launcher process under deno task");
  return found;
}

/** State, PID file and socket in a temp dir, through the environment. */
async function stateEnv(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-launch-" });
  return {
    dir,
    env: {
      IRONPOST_GENERAL_STATE_DIR: `${dir}/state`,
      IRONPOST_GENERAL_PID_FILE: `${dir}/run/ironpost.pid`,
      IRONPOST_GENERAL_CONTROL_SOCKET: `${dir}/run/ironpost.sock`,
      IRONPOST_GENERAL_SHUTDOWN_TIMEOUT_SECS: "5",
    },
  };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test({
  name: "deno task start with no --config runs the server profile: sensors, log pipeline, trace",
  ignore: !requireRoot(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { dir, env } = await stateEnv();
    const socket = env.IRONPOST_GENERAL_CONTROL_SOCKET;
    const task = startTask([], env);
    const stderr = new OutputTail(task.stderr);
    const stdout = new OutputTail(task.stdout);
    let trace: Deno.ChildProcess | undefined;
    try {
      assert(await waitHealthy(socket, 30_000), `agent not healthy:\n${stderr.text}`);
      assert(/running the built-in server profile/.test(stderr.text), stderr.text);
      assert(/off: +packet filter: name an interface/.test(stderr.text), stderr.text);

      const status = JSON.parse((await controlRequest(socket, "GET", "/status")).body);
      const names = (status.modules as { name: string }[]).map((m) => m.name);
      assert(names.includes("sensors"), `modules: ${names}`);
      assert(names.includes("log_pipeline"), `modules: ${names}`);
      assert(status.config.path.endsWith("config/profiles/server.toml"), status.config.path);

      // `ironpost trace --json` through the same default shows a command this test runs.
      trace = startTask(["trace", "--json"], env);
      const events = new OutputTail(trace.stdout);
      const marker = `ironpost-launch-probe-${crypto.randomUUID()}`;
      const seen = await waitFor(async () => {
        await new Deno.Command("/bin/sh", { args: ["-c", "true", marker] }).output();
        return events.text.includes(marker);
      }, 20_000);
      assert(seen, `trace did not show ${marker}:\n${events.text.slice(0, 2000)}`);
      const line = events.text.split("\n").find((l) => l.includes(marker))!;
      const event = JSON.parse(line);
      assertEquals([event.kind, event.sensor, event.action], ["host", "process", "exec"]);
      await kill(-trace.pid);
      await trace.status;
      await events.closed();
      trace = undefined;
    } finally {
      if (trace) {
        await kill(-trace.pid, "KILL").catch(() => {});
        await trace.status;
      }
      await kill(-task.pid).catch(() => {});
      const st = await task.status;
      await stderr.closed();
      await stdout.closed();
      assertEquals(st.code, 0, stderr.text.slice(-3000));
      assert(!(await exists(env.IRONPOST_GENERAL_PID_FILE)), "PID file left behind");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const target of ["launcher", "group"] as const) {
  Deno.test({
    name:
      `deno task start: SIGINT to the ${target} stops the agent once (exit 0, PID file gone), 5 of 5`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { dir, config } = await tempAgentConfig();
      const pidFile = `${dir}/run/ironpost.pid`;
      try {
        for (let i = 0; i < 5; i++) {
          const task = startTask(["run", "--config", config], {});
          const stderr = new OutputTail(task.stderr);
          const stdout = new OutputTail(task.stdout);
          assert(await waitHealthy(`${dir}/run/ironpost.sock`, 30_000), stderr.text);
          const launcher = await launcherOf(task.pid);
          await kill(target === "launcher" ? launcher : -task.pid);
          const st = await task.status;
          await stderr.closed();
          await stdout.closed();
          const tries = `try ${i + 1}:\n${stderr.text.slice(-2000)}`;
          assertEquals(st.code, 0, tries);
          assertEquals(stderr.text.match(/SIGINT received/g)?.length, 1, tries);
          assert(!(await exists(pidFile)), `PID file left behind, ${tries}`);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
