/**
 * `ironpost scan` and `ironpost vulndb`, run as users run them: `deno run main.ts` with the
 * permission flags the config derives (plus `--allow-read` for a scanned directory outside
 * the config, as the brief of each case says), against an index of the real OSV records in
 * `../shared/data/osv`.
 */
import { buildIndex } from "../../mod/sbom/osv/mod.ts";
import { validateCycloneDxJson } from "../../mod/sbom/report/mod.ts";
import { relative } from "node:path";
import { ROOT, runAgent, tempAgentConfig } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { ensureDocker, removeContainers, runContainer } from "../helpers/docker.ts";
import { requirePart } from "../helpers/require.ts";
import { ensureSbomImage, packageLock, sharedData } from "../sbom/sbom_fixtures.ts";

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId?: string };
      region?: { startLine: number };
    };
  }[];
  partialFingerprints: Record<string, string>;
}

interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: {
      driver: {
        name: string;
        version: string;
        rules: {
          id: string;
          shortDescription: { text: string };
          helpUri: string;
          defaultConfiguration: { level: string };
          properties: { tags: string[]; "security-severity"?: string };
        }[];
      };
    };
    originalUriBaseIds?: Record<string, { uri: string }>;
    results: SarifResult[];
  }[];
}

const LEVELS = ["none", "note", "warning", "error"];

/** Structure SARIF 2.1.0 requires of a log, and what code-scanning services read from it. */
function checkSarif(text: string): SarifLog {
  const log = JSON.parse(text) as SarifLog;
  assertEquals(log.version, "2.1.0");
  assertMatch(log.$schema, /sarif-schema-2\.1\.0\.json$/);
  assertEquals(log.runs.length, 1);
  const run = log.runs[0];
  assertEquals(run.tool.driver.name, "ironpost");
  assertMatch(run.tool.driver.version, /^\d+\.\d+\.\d+/);
  assert(Array.isArray(run.tool.driver.rules), "tool.driver.rules is an array");
  assert(Array.isArray(run.results), "results is an array");
  const ids = run.tool.driver.rules.map((r) => r.id);
  assertEquals(new Set(ids).size, ids.length, "rule ids are unique");
  for (const rule of run.tool.driver.rules) {
    assert(rule.shortDescription.text.length > 0, `${rule.id} has a short description`);
    assertMatch(rule.helpUri, /^https:\/\//);
    assert(LEVELS.includes(rule.defaultConfiguration.level), rule.defaultConfiguration.level);
    const score = rule.properties["security-severity"];
    if (score !== undefined) assertMatch(score, /^\d+\.\d$/);
  }
  for (const r of run.results) {
    assertEquals(run.tool.driver.rules[r.ruleIndex].id, r.ruleId, "ruleIndex points at ruleId");
    assert(LEVELS.includes(r.level), r.level);
    assert(r.message.text.length > 0, "a message");
    assertEquals(r.locations.length, 1);
    const loc = r.locations[0].physicalLocation;
    assert(loc.artifactLocation.uri.length > 0, "an artifact uri");
    if (loc.artifactLocation.uriBaseId !== undefined) {
      assert(
        run.originalUriBaseIds?.[loc.artifactLocation.uriBaseId] !== undefined,
        "the base id is declared",
      );
    }
    if (loc.region !== undefined) {
      assert(Number.isInteger(loc.region.startLine) && loc.region.startLine >= 1, "startLine");
    }
    assert(Object.keys(r.partialFingerprints).length > 0, "a fingerprint");
  }
  return log;
}

Deno.test("ironpost scan", async (t) => {
  const osv = await sharedData("osv");
  const fixtures = await sharedData("lockfiles/osv-scanner/fixtures");
  const { dir, config } = await tempAgentConfig();
  const dbPath = `${dir}/state/vulndb.sqlite`;
  await Deno.writeTextFile(config, `[sbom]\nvuln_db_path = "${dbPath}"\n`, { append: true });
  await buildIndex(osv, dbPath);

  // A project outside the config's directories: lodash 4.17.20 (GHSA high 7.2 and medium
  // 5.3, fixed in 4.17.21) and gin 1.5.0 (Go records, which carry no severity: unknown).
  const base = await Deno.makeTempDir({ prefix: "ironpost-scan-project-" });
  const project = `${base}/project`;
  const goOnly = `${base}/go-only`;
  const goMod = "module example.com/app\n\nrequire github.com/gin-gonic/gin v1.5.0\n";
  await Deno.mkdir(project);
  await Deno.mkdir(goOnly);
  await Deno.writeTextFile(`${project}/package-lock.json`, packageLock({ lodash: "4.17.20" }));
  await Deno.writeTextFile(`${project}/go.mod`, goMod);
  await Deno.writeTextFile(`${goOnly}/go.mod`, goMod);
  const readProject = [`--allow-read=${base}`];
  const scan = (args: string[], extraFlags = readProject) =>
    runAgent(["scan", "--config", config, ...args], { flagsFrom: config, extraFlags });

  try {
    await t.step("the osv-scanner fixtures directory gives valid SARIF", async () => {
      // As the issue words it: from the repository, with the path relative to it.
      const r = await runAgent(
        ["scan", "--config", config, "--dir", relative(ROOT, fixtures), "--format", "sarif"],
        { flagsFrom: config, extraFlags: [`--allow-read=${fixtures}`], cwd: ROOT },
      );
      // Findings at or above the default threshold (sbom.min_severity, medium): exit 1.
      assertEquals(r.code, 1, r.stderr);
      const log = checkSarif(r.stdout);
      assertEquals(log.runs[0].originalUriBaseIds?.["%SRCROOT%"].uri, `file://${fixtures}/`);
      // Its files carry test names (one-package.json, …): an explicit --dir recognises
      // lockfiles by content too, so they are read, and their old versions have findings.
      const results = log.runs[0].results;
      assert(results.length > 0, "no results from the fixtures");
      const minimist = results.find((x) => x.message.text.startsWith("minimist 0.0.8 (npm)"));
      assert(minimist, "minimist 0.0.8 from the npm fixtures");
      assertEquals(minimist.ruleId, "GHSA-xvch-5gv4-984h");
      assertMatch(minimist.locations[0].physicalLocation.artifactLocation.uri, /^[a-z]+\/[^/]+$/);
      // A malformed fixture is a warning with file:line, not a failure of the scan.
      assertMatch(r.stderr, /invalid-package-path\.yaml:\d+: E_MALFORMED/);
    });

    await t.step("SARIF of a project: one result per finding, with the lockfile line", async () => {
      const r = await scan(["--dir", project, "--format", "sarif", "--fail-on", "never"]);
      assertEquals(r.code, 0, r.stderr);
      const log = checkSarif(r.stdout);
      const results = log.runs[0].results;
      const lock = await Deno.readTextFile(`${project}/package-lock.json`);
      const lodashLine = lock.split("\n").findIndex((l) => l.includes('"node_modules/lodash"')) + 1;
      const lodash = results.filter((x) => x.message.text.startsWith("lodash 4.17.20"));
      assertEquals(lodash.map((x) => x.ruleId).sort(), [
        "GHSA-29mw-wpgm-hmr9",
        "GHSA-35jh-r3h4-6jhm",
      ]);
      for (const x of lodash) {
        const loc = x.locations[0].physicalLocation;
        assertEquals(loc.artifactLocation, { uri: "package-lock.json", uriBaseId: "%SRCROOT%" });
        assertEquals(loc.region?.startLine, lodashLine);
        assertMatch(x.message.text, /Fixed in 4\.17\.21\./);
      }
      const high = lodash.find((x) => x.ruleId === "GHSA-35jh-r3h4-6jhm")!;
      assertEquals(high.level, "error");
      const gin = results.filter((x) => x.message.text.startsWith("github.com/gin-gonic/gin"));
      assert(gin.length >= 3, `gin findings: ${gin.length}`);
      assertEquals(gin[0].locations[0].physicalLocation.artifactLocation.uri, "go.mod");
      assertEquals(gin[0].locations[0].physicalLocation.region?.startLine, 3);
    });

    await t.step("--fail-on: 1 at or above the threshold, 0 below", async () => {
      // lodash's worst is high (7.2): it fails high, not critical.
      assertEquals((await scan(["--dir", project, "--fail-on", "critical"])).code, 0);
      const high = await scan(["--dir", project, "--fail-on", "high"]);
      assertEquals(high.code, 1, high.stderr);
      assertMatch(high.stdout, /GHSA-35jh-r3h4-6jhm/);
      assertMatch(high.stderr, /at or above --fail-on high/);
      assertEquals((await scan(["--dir", project, "--fail-on", "never"])).code, 0);
      // Without --fail-on, [sbom] min_severity decides (medium by default).
      assertEquals((await scan(["--dir", project])).code, 1);
    });

    await t.step("unknown severity counts as medium for --fail-on", async () => {
      const args = ["--dir", goOnly, "--format", "json"];
      const medium = await scan([...args, "--fail-on", "medium"]);
      assertEquals(medium.code, 1, medium.stderr);
      const body = JSON.parse(medium.stdout);
      assert(body.findings.length > 0, "gin has findings");
      assert(
        body.findings.every((f: { severity: string }) => f.severity === "unknown"),
        "Go records carry no severity",
      );
      assertEquals((await scan([...args, "--fail-on", "high"])).code, 0);
      assertEquals((await scan([...args, "--fail-on", "none"])).code, 1);
    });

    await t.step("2 when the scan cannot run", async () => {
      const missing = await scan(["--dir", `${project}/nope`]);
      assertEquals(missing.code, 2);
      assertMatch(missing.stderr, /no such directory/);

      const noDb = await scan(["--dir", project, "--db", `${dir}/state/none.sqlite`]);
      assertEquals(noDb.code, 2);
      assertMatch(noDb.stderr, /no vulnerability database at .*none\.sqlite/);
      assertMatch(noDb.stderr, /ironpost vulndb update --source DIR\|ZIP\|URL/);

      const usage = await scan(["--dir", project, "--format", "pdf"]);
      assertEquals(usage.code, 2);
      assertMatch(usage.stderr, /--format must be one of table, json, cyclonedx/);

      const badFail = await scan(["--dir", project, "--fail-on", "severe"]);
      assertEquals(badFail.code, 2);
    });

    await t.step("a directory outside the permissions names the flags", async () => {
      const r = await scan(["--dir", project], []);
      assertEquals(r.code, 2);
      assertMatch(r.stderr, new RegExp(`cannot scan --dir ${project}: Deno refuses to read`));
      assertMatch(r.stderr, new RegExp(`--allow-read=${project}`));
      assertMatch(r.stderr, /\[sbom\] scan_dirs/);
    });

    await t.step("CycloneDX JSON validates; XML is CycloneDX 1.6", async () => {
      const r = await scan(["--dir", project, "--format", "cyclonedx", "--fail-on", "never"]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await validateCycloneDxJson(r.stdout), []);
      const bom = JSON.parse(r.stdout);
      assertEquals([bom.bomFormat, bom.specVersion], ["CycloneDX", "1.6"]);
      const purls = bom.components.map((c: { purl: string }) => c.purl).sort();
      assertEquals(purls, ["pkg:golang/github.com/gin-gonic/gin@v1.5.0", "pkg:npm/lodash@4.17.20"]);
      assert(bom.vulnerabilities.length >= 5, "the findings are in the SBOM");
      const xml = await scan(["--dir", project, "--format", "cyclonedx-xml", "--fail-on", "never"]);
      assertEquals(xml.code, 0, xml.stderr);
      assertMatch(xml.stdout, /<bom xmlns="http:\/\/cyclonedx\.org\/schema\/bom\/1\.6"/);
    });

    await t.step("--output writes the report to a file", async () => {
      const out = `${dir}/state/report.sarif`;
      const r = await scan(["--dir", project, "--format", "sarif", "--output", out]);
      assertEquals(r.code, 1, r.stderr);
      assertEquals(r.stdout, "");
      checkSarif(await Deno.readTextFile(out));
    });

    await t.step("vulndb status, and update from a directory", async () => {
      const s = await runAgent(["vulndb", "status", "--json", "--config", config], {
        flagsFrom: config,
      });
      assertEquals(s.code, 0, s.stderr);
      const body = JSON.parse(s.stdout);
      assertEquals([body.present, body.records], [true, 8170]);
      const npm = body.ecosystems.find((e: { ecosystem: string }) => e.ecosystem === "npm");
      assertEquals(npm.records, 11);

      const other = `${dir}/state/other.sqlite`;
      const none = await runAgent(["vulndb", "status", "--db", other, "--config", config], {
        flagsFrom: config,
      });
      assertEquals(none.code, 1);
      assertMatch(none.stderr, /no vulnerability database at .*other\.sqlite; build it with/);

      const u = await runAgent(
        ["vulndb", "update", "--source", osv, "--db", other, "--config", config],
        { flagsFrom: config, extraFlags: [`--allow-read=${osv}`] },
      );
      assertEquals(u.code, 0, u.stderr);
      assertMatch(u.stdout, /records {2}8170 \(40 withdrawn/);
      const table = await runAgent(["vulndb", "status", "--db", other, "--config", config], {
        flagsFrom: config,
      });
      assertEquals(table.code, 0, table.stderr);
      assertMatch(table.stdout, /^Go\s+4291\s+\d+$/m);
    });

    await t.step("help documents the exit codes and the rule for unknown", async () => {
      const h = await runAgent(["scan", "--help"], { flagsFrom: config });
      assertEquals(h.code, 0);
      assertMatch(h.stdout, /^Usage: ironpost scan/);
      assertMatch(h.stdout, /Exit 0: no finding at or above --fail-on\. 1: at least one is\. 2:/);
      assertMatch(h.stdout, /"unknown" and counts as medium/);
      const v = await runAgent(["vulndb", "--help"], { flagsFrom: config });
      assertMatch(v.stdout, /^Usage: ironpost vulndb update/);
      const bad = await runAgent(["vulndb", "rebuild", "--config", config], { flagsFrom: config });
      assertEquals(bad.code, 2);
      assertMatch(bad.stderr, /expected update or status/);
    });

    await t.step("a running container, by name", async () => {
      if (!requirePart("docker", await ensureDocker())) return;
      const image = await ensureSbomImage();
      const name = `ironpost-scan-cli-${Deno.pid}`;
      await removeContainers([name]);
      const id = await runContainer(name, [], { image });
      try {
        const denied = await scan(["--container", name], []);
        assertEquals(denied.code, 2);
        assertMatch(denied.stderr, /--allow-net=unix:/);

        // With container scans in the config, the derived flags hold the container
        // inventory's grants (the Docker socket, dockerode's env) and Docker's data root.
        const withContainers = `${dir}/containers.toml`;
        await Deno.writeTextFile(
          withContainers,
          (await Deno.readTextFile(config)) + "enabled = true\nscan_containers = true\n",
        );
        const r = await runAgent(
          ["scan", "--config", withContainers, "--container", name, "--format", "json"].concat(
            ["--fail-on", "never"],
          ),
          { flagsFrom: withContainers },
        );
        assertEquals(r.code, 0, r.stderr);
        const body = JSON.parse(r.stdout);
        assertEquals(body.subject, { type: "container", name, image, id });
        const keys = body.components.map((c: { key: string }) => c.key).sort();
        assertEquals(keys, [
          "Debian:base-files@12.4+deb12u5",
          "Debian:openssl@3.0.11-1~deb12u2",
          "npm:lodash@4.17.20",
        ]);
        for (const c of body.components) assertEquals(c.container, { id, name, image });
        // lodash 4.17.20 is affected in the real records too.
        assert(
          body.findings.some((f: { id: string }) => f.id === "GHSA-35jh-r3h4-6jhm"),
          "lodash's finding in the container",
        );
      } finally {
        await removeContainers([name]);
      }
    });
  } finally {
    await Deno.remove(base, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});
