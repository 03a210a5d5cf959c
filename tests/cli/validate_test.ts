/**
 * `ironpost --validate` for CI: every format for a valid and an invalid config, a rule file
 * whose name needs GitHub's property escaping, SARIF 2.1.0 checked against the OASIS schema
 * with repository-relative locations, --strict, the exit codes and `--version`.
 */
import { escapeData, escapeProperty } from "../../mod/cli/ci_report.ts";
import { VERSION } from "../../mod/version.ts";
import { runAgent, tempAgentConfig } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { sarifValidator } from "../helpers/sarif.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const BAD_RULE =
  "title: Bad\nlogsource:\n  product: linux\ndetection:\n  sel:\n    Image|contians: x\n  condition: sel\n";

/** A git repository with the config in deploy/ and a broken rule named `we,ird:name.yml`. */
async function repoWithBrokenRule() {
  const repo = await Deno.makeTempDir({ prefix: "ironpost-ci-" });
  await Deno.chmod(repo, 0o755);
  const git = await new Deno.Command("git", { args: ["init", "-q", repo] }).output();
  assert(git.success, "git init");
  await Deno.mkdir(`${repo}/rules`, { mode: 0o755 });
  await Deno.chmod(`${repo}/rules`, 0o755);
  await Deno.writeTextFile(`${repo}/rules/we,ird:name.yml`, BAD_RULE);
  await Deno.mkdir(`${repo}/deploy`);
  const config = `${repo}/deploy/ironpost.toml`;
  await Deno.writeTextFile(
    config,
    `[general]\nstate_dir = "${repo}/state"\npid_file = "${repo}/run/ironpost.pid"\n` +
      `control_socket = "${repo}/run/ironpost.sock"\n` +
      `[log_pipeline]\nenabled = true\nrules_dir = "${repo}/rules"\n`,
  );
  return { repo, config };
}

Deno.test("GitHub workflow command escaping", () => {
  assertEquals(escapeData("100% done\r\nnext"), "100%25 done%0D%0Anext");
  assertEquals(escapeData("a:b,c"), "a:b,c");
  assertEquals(escapeProperty("rules/we,ird:name.yml"), "rules/we%2Cird%3Aname.yml");
  assertEquals(escapeProperty("50%\n"), "50%25%0A");
});

Deno.test("--validate: a valid config in every format", async (t) => {
  const { dir, config } = await tempAgentConfig();
  const run = (...args: string[]) =>
    runAgent(["--validate", "--config", config, ...args], { flagsFrom: config });
  try {
    await t.step("human", async () => {
      const r = await run();
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout, `${config}: config is valid\n`);
    });
    await t.step("json", async () => {
      const r = await run("--format", "json");
      assertEquals(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assertEquals([j.valid, j.errors, j.warnings, j.diagnostics], [true, 0, 0, []]);
    });
    await t.step("github: no annotation", async () => {
      const r = await run("--format", "github");
      assertEquals([r.code, r.stdout], [0, ""]);
    });
    await t.step("sarif: schema-valid, no result", async () => {
      const r = await run("--format", "sarif");
      assertEquals(r.code, 0, r.stderr);
      const log = JSON.parse(r.stdout);
      assertEquals((await sarifValidator())(log), []);
      assertEquals(log.runs[0].results, []);
      assertEquals(log.runs[0].tool.driver.name, "ironpost");
      assertEquals(log.runs[0].tool.driver.version, VERSION);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--validate: an invalid config in every format (exit 1)", async (t) => {
  const { dir, config } = await tempAgentConfig();
  const bad = `${dir}/bad.toml`;
  await Deno.writeTextFile(bad, `[general]\nlog_level = "loud"\n`);
  const run = (...args: string[]) =>
    runAgent(["--validate", "--config", bad, ...args], {
      flagsFrom: config,
      extraFlags: [`--allow-read=${dir}`],
    });
  try {
    await t.step("human: file:line:col", async () => {
      const r = await run();
      assertEquals(r.code, 1);
      assertMatch(r.stderr, new RegExp(`^${bad}:2:13: error: general\\.log_level: `, "m"));
      assertMatch(r.stderr, /^1 error\(s\); the config was not accepted$/m);
    });
    await t.step("json", async () => {
      const r = await run("--format", "json");
      assertEquals(r.code, 1);
      const j = JSON.parse(r.stdout);
      assertEquals([j.valid, j.errors], [false, 1]);
      assertEquals(j.diagnostics[0].code, "E_ENUM");
    });
    await t.step("github: one ::error line", async () => {
      const r = await run("--format", "github");
      assertEquals(r.code, 1);
      const lines = r.stdout.trimEnd().split("\n");
      assertEquals(lines.length, 1);
      // Outside any repository and the current directory: the path as it is.
      assertEquals(
        lines[0],
        `::error file=${bad},line=2,col=13,title=general.log_level::general.log_level: ` +
          `"loud" is not a valid value; expected one of "trace", "debug", "info", "warn", "error"`,
      );
    });
    await t.step("sarif: schema-valid, one error result at line 2", async () => {
      const r = await run("--format", "sarif");
      assertEquals(r.code, 1);
      const log = JSON.parse(r.stdout);
      assertEquals((await sarifValidator())(log), []);
      const [result] = log.runs[0].results;
      assertEquals([result.ruleId, result.level], ["E_ENUM", "error"]);
      assertEquals(log.runs[0].tool.driver.rules[result.ruleIndex].id, "E_ENUM");
      assertEquals(result.locations[0].physicalLocation.region, { startLine: 2, startColumn: 13 });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--validate in a repository: a rule named we,ird:name.yml", async (t) => {
  const { repo, config } = await repoWithBrokenRule();
  const run = (...args: string[]) =>
    runAgent(["--validate", "--config", config, ...args], {
      flagsFrom: config,
      extraFlags: ["--allow-run=git"],
    });
  try {
    await t.step("github: the file property is escaped, relative to the repository", async () => {
      const r = await run("--format", "github");
      assertEquals(r.code, 1, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assertEquals(lines.length, 1, r.stdout);
      assertMatch(
        lines[0],
        /^::error file=rules\/we%2Cird%3Aname\.yml,line=6,col=11,title=rule::rule: .*contians/,
      );
      // The message holds no raw line break and the properties no raw , or : of the name.
      assert(!lines[0].includes("we,ird") && !lines[0].includes("\r"));
    });
    await t.step("sarif: schema-valid, uri relative to %SRCROOT%", async () => {
      const r = await run("--format", "sarif");
      assertEquals(r.code, 1, r.stderr);
      const log: Json = JSON.parse(r.stdout);
      assertEquals((await sarifValidator())(log), []);
      const run0 = log.runs[0];
      const loc = run0.results[0].locations[0].physicalLocation;
      assertEquals(loc.artifactLocation, {
        uri: "rules/we%2Cird%3Aname.yml",
        uriBaseId: "%SRCROOT%",
      });
      assertEquals(loc.region, { startLine: 6, startColumn: 11 });
      const root = await Deno.realPath(repo);
      assertEquals(run0.originalUriBaseIds["%SRCROOT%"].uri, `file://${root}/`);
      assertEquals(run0.results[0].level, "error");
      assertEquals(run0.tool.driver.rules.map((r: Json) => r.id), [run0.results[0].ruleId]);
    });
    await t.step("human: file:line:col", async () => {
      const r = await run();
      assertEquals(r.code, 1);
      assertMatch(
        r.stderr,
        new RegExp(`^${repo}/rules/we,ird:name\\.yml:6:11: error: rule: `, "m"),
      );
    });
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("--validate --strict: warnings become errors", async () => {
  const { dir, config } = await tempAgentConfig();
  await Deno.mkdir(`${dir}/policies`, { mode: 0o755 });
  await Deno.chmod(`${dir}/policies`, 0o755);
  // The first policy matches every alert and stops, so the second is never evaluated: a warning.
  const policy = (id: string, match: string) =>
    `[[policy]]\nid = "${id}"\n[policy.match]\n${match}[[policy.actions]]\n` +
    `type = "block_ip"\nttl = "10m"\n\n`;
  await Deno.writeTextFile(
    `${dir}/policies/10.toml`,
    policy("all", "") + policy("never", `rules = ["x"]\n`),
  );
  await Deno.writeTextFile(
    config,
    `[container]\nenabled = true\npolicy_dir = "${dir}/policies"\n`,
    { append: true },
  );
  const run = (...args: string[]) =>
    runAgent(["--validate", "--config", config, ...args], { flagsFrom: config });
  try {
    const lax = await run("--format", "github");
    assertEquals(lax.code, 0, lax.stderr);
    assertMatch(lax.stdout, /^::warning file=[^\n]*,line=\d+,col=\d+,title=policy\[1\]::/);
    const human = await run();
    assertEquals(human.code, 0);
    assertMatch(human.stdout, /config is valid \(1 warning\(s\)\)/);
    const strict = await run("--format", "github", "--strict");
    assertEquals(strict.code, 1);
    assertMatch(strict.stdout, /^::error file=[^\n]*title=policy\[1\]::/);
    const sarif = JSON.parse((await run("--format", "sarif", "--strict")).stdout);
    assertEquals(sarif.runs[0].results[0].level, "error");
    const laxSarif = JSON.parse((await run("--format", "sarif")).stdout);
    assertEquals(laxSarif.runs[0].results[0].level, "warning");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--validate exit 2: usage errors and an unreadable or missing config, one line", async () => {
  const { dir, config } = await tempAgentConfig();
  const run = (...args: string[]) =>
    runAgent(["--validate", ...args], { flagsFrom: config, extraFlags: [`--allow-read=${dir}`] });
  try {
    const usage = await run("--config", config, "--format", "xml");
    assertEquals(usage.code, 2);
    assertMatch(usage.stderr, /--format must be human, json, github or sarif, got "xml"/);
    const missing = await run("--config", `${dir}/nope.toml`, "--format", "sarif");
    assertEquals(missing.code, 2);
    assertEquals(missing.stdout, "");
    assertEquals(
      missing.stderr,
      `${dir}/nope.toml: error: (config file): the config file does not exist; expected the path of a TOML config (--config PATH; config/ironpost.toml documents every key)\n`,
    );
    const isDir = await run("--config", dir);
    assertEquals(isDir.code, 2);
    assertEquals(isDir.stderr.trimEnd().split("\n").length, 1, isDir.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--version works like version", async () => {
  const { dir, config } = await tempAgentConfig();
  try {
    const a = await runAgent(["--version"], { flagsFrom: config });
    const b = await runAgent(["version"], { flagsFrom: config });
    assertEquals(a.code, 0, a.stderr);
    assertEquals(a.stdout, b.stdout);
    assertMatch(a.stdout, new RegExp(`^ironpost ${VERSION.replaceAll(".", "\\.")} \\(deno `));
    const j = await runAgent(["--version", "--json"], { flagsFrom: config });
    assertEquals(JSON.parse(j.stdout).ironpost, VERSION);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
