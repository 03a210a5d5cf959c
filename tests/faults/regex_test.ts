/**
 * Issue 16, item 1: one regex and one log line must not stop the agent, whichever entry
 * point runs the rule. Each case was run against the code before the fix (a worktree of the
 * previous commit): the issue's rule passed `rules validate`, `rules test` ran past its
 * deadline under both `-A` and the derived flags, and the agent stopped answering /health.
 */
import { controlRequest } from "../../mod/daemon/mod.ts";
import { loadRules } from "../../mod/logs/sigma/mod.ts";
import {
  agentFlags,
  MAIN,
  OutputTail,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

/** The issue's rule: a lookahead and a backreference over an attacker-chosen user name. */
const ISSUE_RULE = `title: Odd user name
logsource:
  product: linux
  service: sshd
detection:
  sel:
    EventType: failed_password
    User|re: '^(a+)+(?=!)\\1$'
  condition: sel
level: high
`;

/** Nested quantifiers: exponential on a backtracking engine; `i` defeats V8's fallback. */
const redosRule = (title: string, pattern: string) =>
  `title: ${title}
logsource:
  product: linux
  service: sshd
detection:
  sel:
    User|re: '${pattern}'
  condition: sel
level: high
`;

function sshdLine(user: string, i = 0): string {
  const t = new Date();
  const month = t.toLocaleString("en-US", { month: "short" });
  const hms = t.toTimeString().slice(0, 8);
  return `${month} ${String(t.getDate()).padStart(2, " ")} ${hms} web1 sshd[${4000 + i}]: ` +
    `Failed password for invalid user ${user} from 198.18.0.${i + 1} port ${40000 + i} ssh2`;
}

/** 50 KB of "a" and a "!": no match, and the worst case for a backtracking engine. */
const EVIL_USER = "a".repeat(50_000) + "!";

async function ruleDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-regex-" });
  await Deno.chmod(dir, 0o755);
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text, { mode: 0o644 });
  }
  return dir;
}

/** `deno run <flags> main.ts <args>`, killed after `limitMs` so a hang fails the test. */
async function cli(flags: string[], args: string[], limitMs = 20_000) {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(limitMs),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    ms: performance.now() - t0,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("faults: the issue's lookahead/backreference rule is refused at load, with its position", async () => {
  const rules = await ruleDir({ "odd_user.yml": ISSUE_RULE });
  const { dir, config } = await tempAgentConfig(
    `[log_pipeline]\nenabled = true\nrules_dir = "${rules}"\n`,
  );
  try {
    const file = `${rules}/odd_user.yml`;
    const { rules: loaded, errors } = await loadRules([rules]);
    assertEquals(loaded.length, 0);
    assertEquals(errors.map((e) => [e.name, e.code, e.line, e.col]), [
      ["RuleError", "E_REGEX", 8, 21],
    ]);
    assertMatch(errors[0].message, /lookahead "\(\?=" is not supported .*linear-time engine/);

    // `rules validate`, run as users run it (the flags `ironpost permissions` derives).
    const flags = await agentFlags(config);
    const v = await cli(flags, ["rules", "validate", rules, "--config", config]);
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assertMatch(v.stderr, new RegExp(`^${file}:8:21: E_REGEX: The lookahead "\\(\\?="`, "m"));
    // And the agent's own check of its config.
    const a = await cli(flags, ["--validate", "--config", config]);
    assertEquals(a.code, 1, a.stdout + a.stderr);
    assertMatch(a.stderr, new RegExp(`^${file}:8:21: error: .*lookahead`, "m"));

    // A backreference alone, after a flag group: the position is the construct's.
    const { errors: e2 } = await loadRules([
      await Deno.makeTempFile().then(async (f) => {
        await Deno.writeTextFile(f, redosRule("Backref", "(?i)(x)y\\1"));
        return f;
      }),
    ]);
    assertEquals(e2.map((e) => [e.code, e.line, e.col]), [["E_REGEX", 7, 23]]);
    assertMatch(e2[0].message, /^The backreference "\\1" is not supported/);
    await Deno.remove(e2[0].file);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(rules, { recursive: true });
  }
});

Deno.test("faults: `rules test` with a catastrophic regex and a 50 KB line finishes, under -A and under the derived flags", async () => {
  const rules = await ruleDir({
    "a_nested.yml": redosRule("Nested quantifier", "(a+)+$"),
    "b_nested_i.yml": redosRule("Nested quantifier, any case", "(?i)(a+)+$"),
  });
  const { dir, config } = await tempAgentConfig();
  try {
    const evil = `${dir}/evil.log`;
    const benign = `${dir}/benign.log`;
    // The replayed files are the agent's tailed files, so the derived flags may read them.
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nrules_dir = "${rules}"\n` +
        `file_paths = ["${evil}", "${benign}"]\n`,
      { append: true },
    );
    // The evil line, then a line both rules match: 2 alerts prove the rules ran.
    await Deno.writeTextFile(evil, `${sshdLine(EVIL_USER, 0)}\n${sshdLine("aaaa", 1)}\n`);
    await Deno.writeTextFile(benign, `${sshdLine("bob", 0)}\n${sshdLine("aaaa", 1)}\n`);
    const derived = await agentFlags(config);
    for (const [name, flags] of [["-A", ["-A"]], ["derived flags", derived]] as const) {
      const args = (input: string) => [
        "rules",
        "test",
        rules,
        "--source",
        "sshd",
        "--input",
        input,
        "--expect",
        "2",
        "--config",
        config,
      ];
      const base = await cli([...flags], args(benign));
      assertEquals(base.code, 0, `${name}: ${base.stdout}${base.stderr}`);
      const r = await cli([...flags], args(evil));
      assertEquals(
        [r.code, r.signal],
        [0, null],
        `${name}: killed or failed after ${r.ms.toFixed(0)} ms: ${r.stderr}`,
      );
      assertMatch(r.stdout, /^2 alert\(s\) from 2 event\(s\)/m);
      // The same command on a harmless line is the baseline: start-up is not the regex.
      assert(
        r.ms - base.ms < 1000,
        `${name}: the 50 KB line took ${(r.ms - base.ms).toFixed(0)} ms more than a short one`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(rules, { recursive: true });
  }
});

Deno.test({
  name:
    "faults: the live agent keeps answering /health after a catastrophic-regex line, and stops on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const rules = await ruleDir({
      "a_nested.yml": redosRule("Nested quantifier", "(a+)+$"),
      "b_nested_i.yml": redosRule("Nested quantifier, any case", "(?i)^(a+)+$"),
    });
    const { dir, config } = await tempAgentConfig();
    await Deno.mkdir(`${dir}/logs`);
    const log = `${dir}/logs/auth.log`;
    await Deno.writeTextFile(log, "");
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nfile_paths = ["${log}"]\nrules_dir = "${rules}"\n` +
        `start_at = "start"\nsuppress_window_secs = 0\n`,
      { append: true },
    );
    const socket = `${dir}/run/ironpost.sock`;
    const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
    const logs = new OutputTail(agent.stderr);
    const out = new OutputTail(agent.stdout);
    let exited = false;
    const status = agent.status.then((s) => {
      exited = true;
      return s;
    });
    try {
      assert(await waitHealthy(socket), logs.text);
      await Deno.writeTextFile(log, sshdLine(EVIL_USER, 0) + "\n", { append: true });
      // /health answers within 1 s, every time, while the line is (or was) being matched.
      const deadline = Date.now() + 3000;
      let answers = 0;
      while (Date.now() < deadline) {
        const t0 = performance.now();
        const r = await controlRequest(socket, "GET", "/health", 1000).catch((e) => e as Error);
        const ms = performance.now() - t0;
        assert(!(r instanceof Error), `/health failed after ${ms.toFixed(0)} ms: ${r}`);
        assertEquals(r.status, 200);
        assert(ms < 1000, `/health took ${ms.toFixed(0)} ms`);
        answers++;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert(answers >= 5, `only ${answers} /health answers in 3 s`);
      // The pipeline is not stuck: a line after it still raises its alerts.
      await Deno.writeTextFile(log, sshdLine("aaaa", 1) + "\n", { append: true });
      const m = await waitFor(async () => {
        const body = (await controlRequest(socket, "GET", "/metrics", 1000)).body;
        return /^ironpost_log_lines_total\{source="files"\} 2$/m.test(body);
      }, 5000);
      assert(m, `the line after the evil one was not read:\n${logs.text.slice(-2000)}`);
    } finally {
      agent.kill("SIGTERM");
      const stopped = await waitFor(() => exited, 10_000);
      if (!stopped) agent.kill("SIGKILL");
      const s = await status;
      await Promise.all([logs.closed(), out.closed()]);
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(rules, { recursive: true });
      assert(stopped, "SIGTERM did not stop the agent within 10 s (killed)");
      assertEquals(s.code, 0, logs.text.slice(-2000));
    }
  },
});
