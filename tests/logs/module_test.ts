/**
 * The log pipeline inside the real agent (deno run with the derived flags): lines written
 * to a tailed file become alerts in the store within the time the issue asks.
 */
import { controlRequest } from "../../mod/daemon/mod.ts";
import {
  OutputTail,
  ROOT,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

function sshdLine(i: number, ip: string): string {
  const t = new Date();
  const month = t.toLocaleString("en-US", { month: "short" });
  const hms = t.toTimeString().slice(0, 8);
  return `${month} ${String(t.getDate()).padStart(2, " ")} ${hms} web1 sshd[${4000 + i}]: ` +
    `Failed password for root from ${ip} port ${40000 + i} ssh2`;
}

Deno.test({
  name: "agent: a brute force in a tailed file raises one alert in the store within 2 s",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { dir, config } = await tempAgentConfig();
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nfile_paths = ["${dir}/logs/*.log"]\n` +
        `rules_dir = "${ROOT}rules"\nstart_at = "start"\n`,
      { append: true },
    );
    await Deno.mkdir(`${dir}/logs`);
    const log = `${dir}/logs/auth.log`;
    await Deno.writeTextFile(log, "");
    const socket = `${dir}/run/ironpost.sock`;
    const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
    const logs = new OutputTail(agent.stderr);
    const out = new OutputTail(agent.stdout);
    try {
      assert(
        await waitHealthy(socket),
        logs.text,
      );
      assertMatch(logs.text, /loaded \d+ rule\(s\) and \d+ correlation\(s\)/);
      const ip = "198.18.7.9";
      const f = await Deno.open(log, { append: true });
      for (let i = 0; i < 9; i++) await f.write(new TextEncoder().encode(sshdLine(i, ip) + "\n"));
      await new Promise((r) => setTimeout(r, 400));
      const t0 = Date.now();
      await f.write(new TextEncoder().encode(sshdLine(9, ip) + "\n")); // the 10th: the threshold
      f.close();
      const cli = (args: string[]) =>
        runAgent([...args, "--config", config], { flagsFrom: config });
      let alerts: { title: string; srcIp?: string }[] = [];
      const seen = await waitFor(async () => {
        alerts = JSON.parse((await cli(["alerts", "--json"])).stdout || "[]");
        return alerts.some((a) => a.title === "SSH brute force from one source");
      }, 5000);
      const elapsed = Date.now() - t0;
      assert(seen, `no alert; agent log:\n${logs.text}`);
      assert(elapsed < 2000, `alert ${elapsed} ms after the threshold line`);
      const brute = alerts.filter((a) => a.title === "SSH brute force from one source");
      assertEquals(brute.length, 1);
      assertEquals(brute[0].srcIp, ip);
      const m = (await controlRequest(socket, "GET", "/metrics")).body;
      assertMatch(m, /^ironpost_log_lines_total\{source="files"\} 10$/m);
    } finally {
      agent.kill("SIGTERM");
      assertEquals((await agent.status).code, 0, logs.text);
      await Promise.all([logs.closed(), out.closed()]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("agent: --validate includes the enabled rules and a broken rule fails it", async () => {
  const rules = await Deno.makeTempDir();
  await Deno.chmod(rules, 0o755);
  await Deno.writeTextFile(
    `${rules}/bad.yml`,
    "title: Bad\nlogsource:\n  product: linux\ndetection:\n  sel:\n    Image|contians: x\n  condition: sel\n",
  );
  const { dir, config } = await tempAgentConfig(
    `[log_pipeline]\nenabled = true\nrules_dir = "${rules}"\n`,
  );
  const r = await runAgent(["--validate", "--config", config], { flagsFrom: config });
  assertEquals(r.code, 1);
  assertMatch(r.stderr, new RegExp(`^${rules}/bad\\.yml:6:11: error: rule: .*contians`, "m"));
  const run = await runAgent(["run", "--config", config], { flagsFrom: config });
  assertEquals(run.code, 1);
  assertMatch(run.stderr, /Module log_pipeline failed to start: 1 rule error\(s\):/);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(rules, { recursive: true });
});

Deno.test({
  name: "agent: SIGHUP reloads rules atomically; a broken rule file keeps the old set",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const rules = await Deno.makeTempDir();
    await Deno.chmod(rules, 0o755);
    const rule = (title: string, keyword: string) =>
      `title: ${title}\nlogsource:\n  product: linux\n  service: syslog\ndetection:\n` +
      `  keywords:\n    - '${keyword}'\n  condition: keywords\nlevel: high\n`;
    await Deno.writeTextFile(`${rules}/a.yml`, rule("Alpha marker", "alpha-marker"));
    const { dir, config } = await tempAgentConfig();
    await Deno.mkdir(`${dir}/logs`);
    const log = `${dir}/logs/app.log`;
    await Deno.writeTextFile(log, "");
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nfile_paths = ["${log}"]\nrules_dir = "${rules}"\n` +
        `suppress_window_secs = 0\n`,
      { append: true },
    );
    const socket = `${dir}/run/ironpost.sock`;
    const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
    const logs = new OutputTail(agent.stderr);
    const out = new OutputTail(agent.stdout);
    const cli = (args: string[]) => runAgent([...args, "--config", config], { flagsFrom: config });
    const titles = async () =>
      (JSON.parse((await cli(["alerts", "--json"])).stdout || "[]") as { title: string }[])
        .map((a) => a.title);
    const line = async (msg: string) => {
      const t = new Date();
      const month = t.toLocaleString("en-US", { month: "short" });
      await Deno.writeTextFile(
        log,
        `${month} ${String(t.getDate()).padStart(2, " ")} ${
          t.toTimeString().slice(0, 8)
        } web1 app[1]: ${msg}\n`,
        { append: true },
      );
    };
    try {
      assert(
        await waitHealthy(socket),
        logs.text,
      );
      await line("alpha-marker seen");
      assert(await waitFor(async () => (await titles()).includes("Alpha marker"), 5000), logs.text);

      // A broken file: the reload is refused and the running set keeps matching.
      await Deno.writeTextFile(`${rules}/b.yml`, "title: Broken\ndetection:\n  condition: nope\n");
      agent.kill("SIGHUP");
      assert(await logs.waitFor(/rules not reloaded, keeping the running set/), logs.text);
      await line("alpha-marker again");
      assert(
        await waitFor(
          async () => (await titles()).filter((t) => t === "Alpha marker").length === 2,
          5000,
        ),
        "the old rules still run",
      );

      // Fixed: the new set replaces the old one in one step.
      await Deno.writeTextFile(`${rules}/b.yml`, rule("Beta marker", "beta-marker"));
      agent.kill("SIGHUP");
      assert(await logs.waitFor(/SIGHUP: reloaded 2 rule\(s\)/), logs.text);
      await line("beta-marker seen");
      assert(await waitFor(async () => (await titles()).includes("Beta marker"), 5000), logs.text);
      const m = (await controlRequest(socket, "GET", "/metrics")).body;
      assertMatch(m, /^ironpost_rule_reloads_total\{result="failed"\} 1$/m);
      assertMatch(m, /^ironpost_rule_reloads_total\{result="ok"\} 1$/m);
    } finally {
      agent.kill("SIGTERM");
      assertEquals((await agent.status).code, 0, logs.text);
      await Promise.all([logs.closed(), out.closed()]);
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(rules, { recursive: true });
    }
  },
});
