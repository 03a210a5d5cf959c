/**
 * Issue 16, item 6: the trust boundary. Rules and policies are instructions to a root agent,
 * so every file and directory they load from is held to the config file's ownership and mode
 * check; rule files and the config are read with a size cap, rules with a count cap, and a
 * reload parses without stalling the event loop. Each case failed on the code before the fix
 * (a worktree of the previous commit).
 */
import { ConfigError, loadConfig } from "../../mod/config/mod.ts";
import { controlRequest } from "../../mod/daemon/mod.ts";
import { loadRules, MAX_RULES } from "../../mod/logs/sigma/mod.ts";
import { MAIN, OutputTail, spawnAgent, tempAgentConfig, waitHealthy } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requireRoot } from "../helpers/require.ts";

const rule = (title: string, keyword = title) =>
  `title: ${title}\nlogsource:\n  product: linux\n  service: syslog\ndetection:\n` +
  `  keywords:\n    - '${keyword}'\n  condition: keywords\nlevel: high\n`;

/** A directory the check accepts: 0755, the test's own. */
async function safeDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.chmod(dir, 0o755);
  return dir;
}

/** Runs `work` while a 10 ms timer ticks; the longest gap between ticks, in ms. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; gap: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 10);
  try {
    const result = await work();
    gap = Math.max(gap, performance.now() - last);
    return { result, gap };
  } finally {
    clearInterval(timer);
  }
}

/** `count` small rules in YAML documents of one file. */
function manyRules(count: number, prefix: string): string {
  const docs = [];
  for (let i = 0; i < count; i++) {
    docs.push(
      `title: ${prefix}${i}\nlogsource: {product: linux}\n` +
        `detection: {s: {A|contains: x${i}}, condition: s}\n`,
    );
  }
  return docs.join("---\n");
}

Deno.test("faults: as root, a 0666 rule file, a 0777 rules subdirectory and a foreign-owned file are refused", async () => {
  if (!requireRoot()) return;
  const rules = await safeDir("ironpost-trust-");
  const policies = await safeDir("ironpost-trust-pol-");
  const { dir, config } = await tempAgentConfig(
    `[log_pipeline]\nenabled = true\nrules_dir = "${rules}"\n` +
      `[container]\npolicy_dir = "${policies}"\n`,
  );
  try {
    await Deno.writeTextFile(`${rules}/good.yml`, rule("Good"), { mode: 0o644 });
    await Deno.writeTextFile(`${rules}/open.yml`, rule("Open"));
    await Deno.chmod(`${rules}/open.yml`, 0o666);
    await Deno.writeTextFile(`${rules}/other.yml`, rule("Other"), { mode: 0o644 });
    await Deno.chown(`${rules}/other.yml`, 1000, 1000);
    await Deno.mkdir(`${rules}/sub`);
    await Deno.chmod(`${rules}/sub`, 0o777);
    await Deno.writeTextFile(`${rules}/sub/inner.yml`, rule("Inner"), { mode: 0o644 });
    await Deno.writeTextFile(`${policies}/p.toml`, "", { mode: 0o644 });
    await Deno.chmod(`${policies}/p.toml`, 0o646);

    // The config check (start, --validate, SIGHUP) names every one.
    const err = await loadConfig({ path: config, uid: 0 }).then(() => undefined, (e) => e);
    assert(err instanceof ConfigError, `accepted: ${err}`);
    const unsafe = err.diagnostics.filter((d) => d.code === "E_UNSAFE_PERMISSIONS")
      .map((d) => `${d.key}: ${d.message}`);
    assertEquals(unsafe, [
      `log_pipeline.rules_dir: ${rules}/open.yml is writable by group and others (mode 0666)`,
      `log_pipeline.rules_dir: ${rules}/other.yml is owned by uid 1000, not root, while the agent runs as root`,
      `log_pipeline.rules_dir: ${rules}/sub is writable by group and others (mode 0777)`,
      `container.policy_dir: ${policies}/p.toml is writable by others (mode 0646)`,
    ]);

    // `--validate` and start refuse it; `rules validate` refuses the same paths.
    const cli = async (args: string[]) => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, ...args],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
    };
    const run = await cli(["--validate", "--config", config]);
    assertEquals(run.code, 1, run.stdout + run.stderr);
    assertMatch(run.stderr, /open\.yml is writable by group and others \(mode 0666\)/);
    assertMatch(run.stderr, /sub is writable by group and others \(mode 0777\)/);

    const v = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "rules", "validate", rules, "--format", "json"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = JSON.parse(new TextDecoder().decode(v.stdout));
    assertEquals(v.code, 1);
    assertEquals(report.rules, 1); // good.yml only
    assertEquals(
      report.errors.map((e: { code: string; file: string }) => `${e.code} ${e.file}`).sort(),
      [
        `E_UNSAFE ${rules}/open.yml`,
        `E_UNSAFE ${rules}/other.yml`,
        `E_UNSAFE ${rules}/sub`,
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(rules, { recursive: true });
    await Deno.remove(policies, { recursive: true });
  }
});

Deno.test("faults: a 20 MB rule file is refused unread, quickly, without stalling the event loop", async () => {
  const rules = await safeDir("ironpost-big-");
  try {
    await Deno.writeTextFile(`${rules}/good.yml`, rule("Good"));
    // Valid YAML all the way: one rule whose keyword list is 20 MB.
    const f = await Deno.open(`${rules}/huge.yml`, { create: true, write: true });
    const enc = new TextEncoder();
    await f.write(enc.encode(`${rule("Huge").replace(/\n {2}condition.*\nlevel.*\n$/, "")}`));
    const chunk = enc.encode(
      "    - 'padding padding padding padding padding padding'\n".repeat(1000),
    );
    for (let n = 0; n < 20_000_000; n += chunk.length) await f.write(chunk);
    await f.write(enc.encode("  condition: keywords\n"));
    f.close();
    const t0 = performance.now();
    const { result, gap } = await longestStall(() => loadRules([rules]));
    const ms = performance.now() - t0;
    assertEquals(result.rules.map((r) => r.title), ["Good"]);
    assertEquals(result.errors.map((e) => `${e.code} ${e.file.slice(rules.length)}`), [
      "E_LIMIT /huge.yml",
    ]);
    assertMatch(result.errors[0].message, /larger than 1048576 bytes/);
    assert(ms < 1000, `loading took ${ms.toFixed(0)} ms`);
    assert(gap < 200, `the event loop stalled ${gap.toFixed(0)} ms`);
  } finally {
    await Deno.remove(rules, { recursive: true });
  }
});

Deno.test(`faults: 6,000 rules in one file load without stalling; past ${MAX_RULES} rules loading stops`, async () => {
  const rules = await safeDir("ironpost-many-");
  try {
    // Just under the size cap: thousands of documents parse in one file.
    await Deno.writeTextFile(`${rules}/a.yml`, manyRules(6000, "a"));
    const { result, gap } = await longestStall(() => loadRules([rules]));
    assertEquals([result.rules.length, result.errors.length], [6000, 0]);
    assert(gap < 200, `the event loop stalled ${gap.toFixed(0)} ms`);

    await Deno.writeTextFile(`${rules}/b.yml`, manyRules(6000, "b"));
    const over = await loadRules([rules]);
    assertEquals(over.errors.map((e) => `${e.code} ${e.file}`), [`E_LIMIT ${rules}`]);
    assertMatch(over.errors[0].message, new RegExp(`^More than ${MAX_RULES} rules`));
    // A third file is not even read.
    await Deno.writeTextFile(`${rules}/c.yml`, rule("C"));
    const third = await loadRules([rules]);
    assertEquals(third.errors.map((e) => `${e.code} ${e.file.slice(rules.length)}`), [
      "E_LIMIT /c.yml",
    ]);
  } finally {
    await Deno.remove(rules, { recursive: true });
  }
});

Deno.test({
  name: "faults: SIGHUP with a 20 MB rule file keeps /health answering within 1 s",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const rules = await safeDir("ironpost-hup-");
    await Deno.writeTextFile(`${rules}/a.yml`, rule("Alpha"));
    const { dir, config } = await tempAgentConfig();
    await Deno.mkdir(`${dir}/logs`);
    const log = `${dir}/logs/app.log`;
    await Deno.writeTextFile(log, "");
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nfile_paths = ["${log}"]\nrules_dir = "${rules}"\n`,
      { append: true },
    );
    const socket = `${dir}/run/ironpost.sock`;
    const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
    const logs = new OutputTail(agent.stderr);
    const out = new OutputTail(agent.stdout);
    try {
      assert(await waitHealthy(socket), logs.text);
      // 20 MB of small rules: seconds of parsing if it were read.
      await Deno.writeTextFile(`${rules}/huge.yml`, manyRules(200_000, "h"));
      agent.kill("SIGHUP");
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        const t0 = performance.now();
        const r = await controlRequest(socket, "GET", "/health", 1000).catch((e) => e as Error);
        const ms = performance.now() - t0;
        assert(!(r instanceof Error) && ms < 1000, `/health: ${r} after ${ms.toFixed(0)} ms`);
        await new Promise((res) => setTimeout(res, 50));
      }
      assert(await logs.waitFor(/rules not reloaded, keeping the running set/), logs.text);
      assertMatch(logs.text, /huge\.yml: E_LIMIT: Not loaded: larger than 1048576 bytes/);
    } finally {
      agent.kill("SIGTERM");
      assertEquals((await agent.status).code, 0, logs.text.slice(-2000));
      await Promise.all([logs.closed(), out.closed()]);
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(rules, { recursive: true });
    }
  },
});

Deno.test("faults: --config /dev/zero and a 2 MiB config are refused with a clear error", async () => {
  const run = async (path: string) => {
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--validate", "--config", path],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    return {
      code: out.code,
      ms: performance.now() - t0,
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  const zero = await run("/dev/zero");
  assertEquals(zero.code, 1, zero.stderr);
  assertMatch(zero.stderr, /E_CONFIG_TOO_LARGE|larger than 1048576 bytes \(1 MiB\)/);
  assert(zero.ms < 5000, `took ${zero.ms.toFixed(0)} ms`);

  const dir = await Deno.makeTempDir();
  try {
    const big = `${dir}/big.toml`;
    await Deno.writeTextFile(big, "# x\n".repeat(512 * 1024 + 1), { mode: 0o644 });
    const r = await run(big);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, /larger than 1048576 bytes \(1 MiB\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("faults: every bad CIDR of a list is reported, from the file and from the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ironpost.toml`;
    await Deno.writeTextFile(
      path,
      `[ebpf]\nblocklist = ["10.0.0.0/33", "192.0.2.0/24", "not-a-cidr", "2001:db8::/129"]\n`,
      { mode: 0o644 },
    );
    const env: Record<string, string> = { IRONPOST_EBPF_ALLOWLIST: "1.2.3.4/40,10.0.0.0/8,x" };
    const err = await loadConfig({ path, env: (n) => env[n] }).then(() => undefined, (e) => e);
    assert(err instanceof ConfigError, `accepted: ${err}`);
    const cidr = err.diagnostics.filter((d) => d.code === "E_CIDR")
      .map((d) => `${d.file === path ? `${d.line}:${d.col}` : d.file} ${d.message.split(":")[0]}`);
    assertEquals(cidr, [
      "2:13 item 1",
      "2:13 item 3",
      "2:13 item 4",
      "env:IRONPOST_EBPF_ALLOWLIST item 1",
      "env:IRONPOST_EBPF_ALLOWLIST item 3",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
