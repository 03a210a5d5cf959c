/**
 * Issue 16, item 8 (the store half): the SQLite store had no retention and grew to 375 MB
 * within minutes of a flood. Now `storage.retention_days` deletes alerts and actions by age
 * and `storage.max_db_mb` by size (the oldest first, down to 90 % of the cap), without
 * VACUUM: freed pages are reused, so the file stops growing at about the cap.
 */
import { DatabaseSync } from "node:sqlite";
import { type ActionEvent, type AlertEvent, newEvent } from "../../mod/core/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const MiB = 1024 * 1024;
const DAY = 86_400_000;

function alert(ts: number, pad = 0): AlertEvent {
  return newEvent<AlertEvent>({
    kind: "alert",
    ruleId: "ssh-brute-force",
    title: "SSH brute force",
    severity: "high",
    source: "test",
    tags: ["attack.t1110"],
    evidence: [{ line: `Failed password for root from 198.18.0.9 ${"x".repeat(pad)}` }],
    srcIp: "198.18.0.9",
    ts: new Date(ts).toISOString(),
  });
}

function action(ts: number): ActionEvent {
  return newEvent<ActionEvent>({
    kind: "action",
    action: "pause",
    target: "web-1",
    outcome: "dry_run",
    reason: "policy p1",
    ts: new Date(ts).toISOString(),
  });
}

function integrity(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string })
      .integrity_check;
  } finally {
    db.close();
  }
}

Deno.test("faults: the store deletes alerts and actions older than retention_days", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-retention-" });
  const path = `${dir}/ironpost.db`;
  const now = Date.now();
  // Written by an agent without retention: 40 and 31 days old, and fresh ones.
  const plain = await SqliteStore.open(path);
  const old = [alert(now - 40 * DAY), alert(now - 31 * DAY)];
  const fresh = [alert(now - 29 * DAY), alert(now - 1000)];
  for (const a of [...old, ...fresh]) await plain.insertAlert(a);
  const oldAction = action(now - 45 * DAY);
  const freshAction = action(now - DAY);
  await plain.insertAction(oldAction);
  await plain.insertAction(freshAction);
  await plain.close();

  // Opening with retention prunes at once (and then on its timer).
  const store = await SqliteStore.open(path, {
    retention: { retentionDays: 30, maxBytes: 0 },
    pruneIntervalMs: 3_600_000,
  });
  try {
    for (const a of old) assertEquals(await store.getAlert(a.id), undefined);
    for (const a of fresh) assertEquals((await store.getAlert(a.id))?.id, a.id);
    assertEquals((await store.listActions()).map((a) => a.id), [freshAction.id]);
    assertEquals(store.pruned, { alerts: 2, actions: 1 });
    const m = store.metrics();
    const pruned = m.filter((s) => s.name === "ironpost_store_pruned_total");
    assertEquals(
      pruned.map((s) => [s.labels?.table, s.value]),
      [["alerts", 2], ["actions", 1]],
    );
    // A shorter retention on SIGHUP applies at the next prune.
    store.setRetention({ retentionDays: 1, maxBytes: 0 });
    store.prune();
    assertEquals(await store.counts(), { alerts: 1, actions: 0 });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("faults: a store filled past max_db_mb prunes the oldest to under it and stops growing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-retention-" });
  const path = `${dir}/ironpost.db`;
  const maxBytes = 2 * MiB;
  const store = await SqliteStore.open(path, {
    retention: { retentionDays: 30, maxBytes },
    pruneIntervalMs: 3_600_000,
    checkEvery: 64,
  });
  try {
    const start = Date.now() - 3_600_000;
    const ids: string[] = [];
    // ~2.2 KB a row: 6000 rows are ~13 MB of alerts, six times the cap.
    let peakFile = 0;
    for (let i = 0; i < 6000; i++) {
      const a = alert(start + i * 100, 2048);
      ids.push(a.id);
      await store.insertAlert(a);
      if (i % 500 === 499) peakFile = Math.max(peakFile, store.fileBytes() - walBytes(path));
    }
    // Checked every 64 inserts: the data never exceeds the cap by more than 64 rows.
    assert(store.usedBytes() <= maxBytes + 64 * 4096, `used ${store.usedBytes()}`);
    store.prune();
    const used = store.usedBytes();
    assert(used <= maxBytes, `after a prune the data (${used} B) is under ${maxBytes} B`);
    // Freed pages are reused: the database file stays near the cap, never near 13 MB.
    assert(peakFile <= maxBytes * 1.25, `database file peaked at ${peakFile} B`);
    // The newest are kept, the oldest went.
    const { alerts } = await store.counts();
    assert(alerts > 200 && alerts < 6000, `${alerts} alerts kept`);
    const kept = new Set((await store.listAlerts({ limit: 10_000 })).map((a) => a.id));
    assertEquals(kept, new Set(ids.slice(ids.length - alerts)));
    assert(store.pruned.alerts === 6000 - alerts, `pruned ${store.pruned.alerts}`);
    const bytes = store.metrics().find((s) => s.name === "ironpost_store_bytes");
    assert(bytes && bytes.value > 0 && bytes.value <= maxBytes * 1.25 + 8 * MiB, "store_bytes");
    console.log(
      `retention: 6000 x 2.2 KB inserted, ${alerts} kept, data ${used} B, ` +
        `db file peak ${peakFile} B (cap ${maxBytes} B)`,
    );
  } finally {
    await store.close();
  }
  assertEquals(integrity(path), "ok");
  await Deno.remove(dir, { recursive: true });
});

function walBytes(path: string): number {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}
