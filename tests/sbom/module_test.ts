/**
 * The SBOM module: alerts only for findings not seen before (state in a real SQLite store,
 * surviving a restart), `min_severity` with the rule for `unknown`, the rescan when a watched
 * lockfile changes, health without a database, and the module run by the orchestrator from
 * the registry with the flags its config derives.
 */
import { type AlertEvent, Channel } from "../../mod/core/mod.ts";
import { loadConfig } from "../../mod/config/mod.ts";
import { agentPermissions, CAPABILITIES, Orchestrator } from "../../mod/daemon/mod.ts";
import type { SbomConfig } from "../../mod/sbom/spec.ts";
import { type Finding, SbomModule, SEEN_CHECKPOINT } from "../../mod/sbom/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { waitFor } from "../helpers/agent.ts";
import { buildTestDb, packageLock } from "./sbom_fixtures.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-sbom-module-" });
  const dbPath = await buildTestDb(dir);
  const app = `${dir}/app`;
  await Deno.mkdir(app);
  // lodash: high (alerts); minimist: low (below medium); example.com/unrated: unknown
  // (counts as medium, alerts).
  await Deno.writeTextFile(
    `${app}/package-lock.json`,
    packageLock({ lodash: "4.17.20", minimist: "1.2.5" }),
  );
  await Deno.writeTextFile(
    `${app}/go.mod`,
    "module example.com/app\n\nrequire example.com/unrated v1.0.0\n",
  );
  const cfg: SbomConfig = {
    enabled: true,
    scan_dirs: [app],
    scan_interval_secs: 3600,
    vuln_db_path: dbPath,
    min_severity: "medium",
    scan_containers: false,
  };
  return { dir, app, cfg, dbPath };
}

Deno.test("SbomModule alerts once per finding", async (t) => {
  const { dir, app, cfg } = await setup();
  const storePath = `${dir}/ironpost.db`;
  let store = await SqliteStore.open(storePath);
  const alerts = new Channel<AlertEvent>("alerts", 64);
  const received: AlertEvent[] = [];
  const reader = (async () => {
    for await (const a of alerts) received.push(a);
  })();
  const make = (c: SbomConfig = cfg) =>
    new SbomModule(c, { alerts }, store, {
      stateDir: dir,
      initialScan: false,
      watchDebounceMs: 150,
    });
  try {
    await t.step("the first scan alerts on what meets min_severity", async () => {
      const m = make();
      await m.start();
      const s = await m.scanNow();
      await m.stop();
      assertEquals([s.components, s.findings, s.alertable, s.newAlerts], [3, 3, 2, 2]);
      await waitFor(() => received.length === 2, 2000);
      const byRule = new Map(received.map((a) => [a.ruleId, a]));
      assertEquals([...byRule.keys()].sort(), ["GHSA-35jh-r3h4-6jhm", "GO-TEST-0001"]);
      const lodash = byRule.get("GHSA-35jh-r3h4-6jhm")!;
      assertEquals([lodash.kind, lodash.source, lodash.severity], ["alert", "sbom", "high"]);
      assertMatch(lodash.description ?? "", /Fixed in lodash 4\.17\.21\./);
      assertMatch(lodash.description ?? "", /package-lock\.json:\d+/);
      assertMatch(lodash.title, /lodash 4\.17\.20 \(npm\)/);
      assert(lodash.tags.includes("vuln:CVE-2021-23337"), lodash.tags.join(","));
      assert(lodash.tags.includes("vuln:OSV-TEST-1"), "the merged alias is tagged");
      const evidence = lodash.evidence[0] as Finding;
      assertEquals([evidence.id, evidence.fixedVersion], ["GHSA-35jh-r3h4-6jhm", "4.17.21"]);
      // Unknown severity counts as medium: it alerts at min_severity medium, as medium.
      assertEquals(byRule.get("GO-TEST-0001")!.severity, "medium");
      assertMatch(
        byRule.get("GO-TEST-0001")!.description ?? "",
        /Fixed in example\.com\/unrated 2\.0\.0/,
      );
    });

    await t.step("a second scan with nothing changed raises no alert", async () => {
      const m = make();
      await m.start();
      const s = await m.scanNow();
      await m.stop();
      assertEquals([s.findings, s.alertable, s.newAlerts], [3, 2, 0]);
      assertEquals(received.length, 2);
    });

    await t.step("nor after a restart with the store reopened", async () => {
      await store.close();
      store = await SqliteStore.open(storePath);
      const saved = JSON.parse((await store.getCheckpoint(SEEN_CHECKPOINT))!);
      assertEquals(saved.v, 1);
      const m = make();
      await m.start();
      const s = await m.scanNow();
      await m.stop();
      assertEquals(s.newAlerts, 0);
      assertEquals(received.length, 2);
    });

    await t.step("a lower min_severity alerts on what it let through before", async () => {
      const m = make();
      await m.start();
      await m.reload({ ...cfg, min_severity: "low" });
      const s = await m.scanNow();
      await m.stop();
      assertEquals(s.newAlerts, 1);
      await waitFor(() => received.length === 3, 2000);
      assertEquals([received[2].ruleId, received[2].severity], ["GHSA-xvch-5gv4-984h", "low"]);
    });

    await t.step("a changed lockfile is rescanned and only the new finding alerts", async () => {
      const m = make();
      await m.start();
      await new Promise((r) => setTimeout(r, 100)); // let the watch settle
      await Deno.writeTextFile(
        `${app}/package-lock.json`,
        packageLock({ lodash: "4.17.20", minimist: "1.2.5", jsonwebtoken: "8.5.1" }),
      );
      const got = await waitFor(() => received.length === 4, 10_000);
      await m.stop();
      assert(got, `a watch-triggered alert (have ${received.map((a) => a.ruleId)})`);
      assertEquals(received[3].ruleId, "GHSA-27h2-hvpr-p74q");
      assertMatch(received[3].description ?? "", /Fixed in jsonwebtoken 9\.0\.0/);
    });

    await t.step("health, metrics", async () => {
      const m = make();
      await m.start();
      await m.scanNow();
      assertEquals(m.health().state, "healthy");
      const metrics = m.metrics();
      const value = (name: string, labels: Record<string, string> = {}) =>
        metrics.find((x) =>
          x.name === name && Object.entries(labels).every(([k, v]) => x.labels?.[k] === v)
        )?.value;
      assertEquals(value("ironpost_sbom_scans_total", { result: "ok" }), 1);
      assertEquals(value("ironpost_sbom_components"), 4);
      assertEquals(value("ironpost_sbom_findings", { severity: "high" }), 2);
      assertEquals(value("ironpost_sbom_findings", { severity: "unknown" }), 1);
      assert((value("ironpost_sbom_vulndb_age_seconds") ?? -1) >= 0);
      await m.stop();
    });
  } finally {
    alerts.close();
    await reader;
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SbomModule without a database is degraded and says how to build one", async () => {
  const { dir, cfg } = await setup();
  const store = await SqliteStore.open(`${dir}/ironpost.db`);
  try {
    const m = new SbomModule(
      { ...cfg, vuln_db_path: `${dir}/missing.sqlite` },
      {},
      store,
      { stateDir: dir, initialScan: false },
    );
    await m.start();
    const s = await m.scanNow();
    await m.stop();
    assertEquals(s.targets, 0);
    const h = m.health();
    assertEquals(h.state, "degraded");
    assertMatch(h.reason ?? "", /ironpost vulndb update --source/);
    assertEquals(
      m.metrics().find((x) =>
        x.name === "ironpost_sbom_scans_total" && x.labels?.result === "failed"
      )
        ?.value,
      1,
    );
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the orchestrator runs the sbom module from the registry", async (t) => {
  const { dir, app, dbPath } = await setup();
  const toml = `${dir}/ironpost.toml`;
  await Deno.writeTextFile(
    toml,
    `[general]\nstate_dir = "${dir}/state"\nshutdown_timeout_secs = 2\n` +
      `[sbom]\nenabled = true\nscan_dirs = ["${app}"]\nvuln_db_path = "${dbPath}"\n` +
      `scan_containers = false\n`,
  );
  const loaded = await loadConfig({ path: toml, env: () => undefined, uid: 0 });

  await t.step("its grants: the scan dirs and the database's directory", () => {
    const flags = agentPermissions(loaded, "/usr/local/bin/ironpost");
    const read = flags.find((f) => f.startsWith("--allow-read="))!.split("=")[1].split(",");
    const write = flags.find((f) => f.startsWith("--allow-write="))!.split("=")[1].split(",");
    // The database sits in `dir`, which covers the scan dir too.
    assert(read.includes(dir), read.join(","));
    assert(write.includes(dir), write.join(","));
    assertEquals(flags.find((f) => f.startsWith("--allow-run="))?.includes("docker"), false);
    assertEquals(flags.find((f) => f.startsWith("--allow-net="))?.includes("docker.sock"), false);
    const withContainers = agentPermissions(
      {
        ...loaded,
        config: { ...loaded.config, sbom: { ...loaded.config.sbom, scan_containers: true } },
      },
      "/usr/local/bin/ironpost",
    );
    // Containers are reached through the shared inventory: Docker's socket, not its CLI.
    assertMatch(
      withContainers.find((f) => f.startsWith("--allow-net="))!,
      /unix:\/var\/run\/docker\.sock/,
    );
    assertEquals(
      withContainers.find((f) => f.startsWith("--allow-run="))?.includes("docker"),
      false,
    );
    assertMatch(withContainers.find((f) => f.startsWith("--allow-read="))!, /\/var\/lib\/docker/);
  });

  await t.step("alerts reach the store; a restarted agent raises none again", async () => {
    const storePath = `${dir}/ironpost.db`;
    // The scanner and the services it may ask for (the container inventory).
    const sbomOnly = CAPABILITIES.filter((s) => s.name === "sbom" || s.kind === "service");
    for (const round of [1, 2]) {
      const store = await SqliteStore.open(storePath);
      const orch = new Orchestrator(loaded.config, sbomOnly, store);
      try {
        await orch.start();
        assertEquals(orch.planned, ["sbom"]);
        const scanned = await waitFor(
          () =>
            orch.metrics().some((m) =>
              m.name === "ironpost_sbom_scans_total" && m.labels?.result === "ok" && m.value >= 1
            ),
          10_000,
        );
        assert(scanned, "the first scan ran");
      } finally {
        await orch.stop();
      }
      const stored = await store.listAlerts();
      await store.close();
      assertEquals(stored.filter((a) => a.source === "sbom").length, 2, `round ${round}`);
    }
  });

  await Deno.remove(dir, { recursive: true });
});
