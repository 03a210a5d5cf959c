/**
 * `ironpost guard test` and `ironpost --validate` with the guard on, run as users run them
 * (deno run with the derived flags): the shipped policies answer an alert with the actions
 * they promise, nothing is done, and a broken policy directory fails validation with every
 * problem at its file:line:col.
 */
import { type AlertEvent, newEvent } from "../../mod/core/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { FIXTURES, ROOT, runAgent, tempAgentConfig } from "../helpers/agent.ts";

Deno.test("ironpost guard test and --validate with response policies", async (t) => {
  const shipped = `${ROOT}config/policies`;

  await t.step("guard test: which shipped policy answers an SSH brute force, and how", async () => {
    const { dir, config } = await tempAgentConfig(
      `[container]\nenabled = true\npolicy_dir = "${shipped}"\n`,
    );
    try {
      const alert = newEvent<AlertEvent>({
        kind: "alert",
        ruleId: "1c9e5a7f-3d2b-4f6a-8b0c-7e4d2a1f2a10",
        title: "SSH brute-force burst from one source",
        severity: "high",
        source: "log_pipeline",
        tags: ["attack.credential_access", "attack.t1110"],
        srcIp: "198.18.7.7",
        evidence: [],
      });
      await Deno.writeTextFile(`${dir}/alert.json`, JSON.stringify(alert));
      const r = await runAgent(
        ["guard", "test", "--alert", `${dir}/alert.json`, "--json", "--config", config],
        { flagsFrom: config, extraFlags: [`--allow-read=${dir}`] },
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals(JSON.parse(r.stdout), [
        { policy: "block-ssh-brute-force", actions: [{ type: "block_ip", ttlSecs: 600 }] },
      ]);
      const human = await runAgent(
        ["guard", "test", "--alert", `${dir}/alert.json`, "--config", config],
        { flagsFrom: config, extraFlags: [`--allow-read=${dir}`] },
      );
      assertEquals(human.code, 0, human.stderr);
      assertMatch(human.stdout, /block-ssh-brute-force/);
      assertMatch(human.stdout, /198\.18\.7\.7/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("--validate checks the policies: the shipped ones pass", async () => {
    const { dir, config } = await tempAgentConfig(
      `[container]\nenabled = true\npolicy_dir = "${shipped}"\n`,
    );
    try {
      const r = await runAgent(["--validate", "--config", config], { flagsFrom: config });
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stdout, /config is valid/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("--validate fails on broken policies, each problem at file:line:col", async () => {
    const broken = `${FIXTURES}policies/broken`;
    const { dir, config } = await tempAgentConfig(
      `[container]\nenabled = true\npolicy_dir = "${broken}"\n`,
    );
    try {
      const r = await runAgent(["--validate", "--format", "json", "--config", config], {
        flagsFrom: config,
      });
      assertEquals(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as {
        valid: boolean;
        diagnostics: { file: string; line?: number; col?: number; key: string; code: string }[];
      };
      assertEquals(report.valid, false);
      const where = report.diagnostics.map((d) =>
        `${d.file.replace(broken + "/", "")}:${d.line}:${d.col} ${d.key} ${d.code}`
      );
      for (
        const want of [
          "10-values.toml:5:16 policy[0].match.min_severity E_ENUM",
          "10-values.toml:10:7 policy[0].actions[0].ttl E_DURATION",
          "30-syntax.toml:",
        ]
      ) {
        assert(where.some((w) => w.startsWith(want)), `${want} not in:\n${where.join("\n")}`);
      }
      assert(!where.some((w) => w.startsWith("kubearmor.yaml")), "YAML files are not policies");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
