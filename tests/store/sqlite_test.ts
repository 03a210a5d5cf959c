import { newEvent } from "../../mod/core/mod.ts";
import type { ActionEvent, AlertEvent } from "../../mod/core/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assertEquals } from "../helpers/assert.ts";

function alert(severity: AlertEvent["severity"], ts?: string): AlertEvent {
  return newEvent<AlertEvent>({
    kind: "alert",
    ruleId: "ssh-brute-force",
    title: "SSH brute force",
    severity,
    source: "test",
    tags: ["attack.t1110"],
    evidence: [{ line: "Failed password for root from 198.18.0.9" }],
    srcIp: "198.18.0.9",
    ...(ts ? { ts } : {}),
  });
}

Deno.test("SQLite store", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state/ironpost.db`;
  const store = await SqliteStore.open(path);

  await t.step("the file is 0600 in a 0700 dir, in WAL mode", async () => {
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${dir}/state`)).mode! & 0o777, 0o700);
    await store.insertAlert(alert("low"));
    assertEquals((await Deno.stat(`${path}-wal`)).isFile, true);
    assertEquals((await Deno.stat(`${path}-wal`)).mode! & 0o077, 0);
  });

  await t.step("inserting the same alert twice writes one row", async () => {
    const a = alert("high");
    assertEquals(await store.insertAlert(a), true);
    assertEquals(await store.insertAlert(a), false);
    assertEquals(await store.getAlert(a.id), a);
  });

  await t.step("actions are idempotent by id too", async () => {
    const act = newEvent<ActionEvent>({
      kind: "action",
      action: "pause",
      target: "web-1",
      outcome: "dry_run",
      reason: "policy p1",
    });
    assertEquals(await store.insertAction(act), true);
    assertEquals(await store.insertAction(act), false);
    assertEquals((await store.listActions()).map((a) => a.id), [act.id]);
  });

  await t.step("listing filters by time and severity", async () => {
    await store.insertAlert(alert("critical", "2000-01-01T00:00:00.000Z"));
    const recent = await store.listAlerts({ since: "2020-01-01T00:00:00Z" });
    assertEquals(recent.every((a) => a.ts >= "2020"), true);
    const high = await store.listAlerts({ minSeverity: "high" });
    assertEquals(high.map((a) => a.severity).sort(), ["critical", "high"]);
    assertEquals(await store.counts(), { alerts: 3, actions: 1 });
  });

  await t.step("checkpoints upsert and survive reopening", async () => {
    await store.setCheckpoint("logs:file:/var/log/auth.log", '{"ino":1,"off":10}');
    await store.setCheckpoint("logs:file:/var/log/auth.log", '{"ino":1,"off":20}');
    await store.close();
    const again = await SqliteStore.open(path);
    assertEquals(await again.getCheckpoint("logs:file:/var/log/auth.log"), '{"ino":1,"off":20}');
    assertEquals(await again.getCheckpoint("missing"), undefined);
    assertEquals((await again.counts()).alerts, 3);
    await again.close();
  });
  await Deno.remove(dir, { recursive: true });
});
