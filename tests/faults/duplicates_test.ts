/**
 * Issue 16, item 4: a crash neither loses nor repeats an alert. The real agent tails a file
 * that a writer floods with lines which each raise an alert (one keyword rule in a temp
 * rules_dir, no suppression); the agent is killed with SIGKILL at a random moment of the
 * flood and started again; when the flood is done the store must hold exactly one alert per
 * line: none lost (every line's alert is there) and none repeated (no line twice).
 */
import { DatabaseSync } from "node:sqlite";
import { OutputTail, spawnAgent, tempAgentConfig, waitFor, waitHealthy } from "../helpers/agent.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const ITERATIONS = 12;
const LINES = 3000;
const BATCH = 15;
const BATCH_EVERY_MS = 10;

const RULE = `title: Flood marker
id: 6f1d2c3e-0000-4000-8000-000000000016
logsource:
  product: linux
  service: syslog
detection:
  keywords:
    - 'flood-marker'
  condition: keywords
level: high
`;

function syslogTime(t: Date): string {
  const month = t.toLocaleString("en-US", { month: "short" });
  return `${month} ${String(t.getDate()).padStart(2, " ")} ${t.toTimeString().slice(0, 8)}`;
}

/** Append LINES lines in batches; resolves when all are written. */
async function flood(path: string): Promise<void> {
  const file = await Deno.open(path, { append: true });
  try {
    const enc = new TextEncoder();
    for (let seq = 0; seq < LINES;) {
      let chunk = "";
      const ts = syslogTime(new Date());
      for (let i = 0; i < BATCH && seq < LINES; i++, seq++) {
        chunk += `${ts} web1 app[7]: flood-marker seq=${seq}\n`;
      }
      const bytes = enc.encode(chunk);
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      await new Promise((r) => setTimeout(r, BATCH_EVERY_MS));
    }
  } finally {
    file.close();
  }
}

/** The alerts of the flood rule in the store: how many rows, and how many per line. */
function stored(db: string): { rows: number; perLine: Map<number, number> } {
  const perLine = new Map<number, number>();
  let rows = 0;
  let conn: DatabaseSync;
  try {
    conn = new DatabaseSync(db, { readOnly: true });
  } catch {
    return { rows, perLine };
  }
  try {
    const all = conn.prepare("SELECT body FROM alerts WHERE rule_id = ?").all(
      "6f1d2c3e-0000-4000-8000-000000000016",
    ) as { body: string }[];
    for (const { body } of all) {
      rows++;
      const m = /seq=(\d+)/.exec(JSON.parse(body).evidence?.[0]?.message ?? "");
      const seq = m ? Number(m[1]) : -1; // -1: an alert without its line (a failure)
      perLine.set(seq, (perLine.get(seq) ?? 0) + 1);
    }
  } catch {
    // The agent may not have created the table yet.
  } finally {
    conn.close();
  }
  return { rows, perLine };
}

Deno.test({
  name:
    `kill -9 at random moments of a log flood (${ITERATIONS} runs of ${LINES} lines): no alert lost, none repeated`,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    for (let run = 0; run < ITERATIONS; run++) {
      await t.step(`run ${run + 1}`, async () => {
        const rules = await Deno.makeTempDir({ prefix: "ironpost-dup-rules-" });
        await Deno.chmod(rules, 0o755);
        await Deno.writeTextFile(`${rules}/flood.yml`, RULE, { mode: 0o644 });
        const { dir, config } = await tempAgentConfig();
        const log = `${dir}/logs/app.log`;
        await Deno.mkdir(`${dir}/logs`);
        await Deno.writeTextFile(log, "");
        await Deno.writeTextFile(
          config,
          `[log_pipeline]\nenabled = true\nfile_paths = ["${log}"]\nrules_dir = "${rules}"\n` +
            `start_at = "start"\nsuppress_window_secs = 0\nflush_interval_secs = 1\n`,
          { append: true },
        );
        const socket = `${dir}/run/ironpost.sock`;
        const db = `${dir}/state/ironpost.db`;
        const start = async () => {
          const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
          const logs = new OutputTail(agent.stderr);
          const out = new OutputTail(agent.stdout);
          assert(await waitHealthy(socket), logs.text);
          return { agent, logs, out };
        };
        let a = await start();
        try {
          const writer = flood(log);
          const floodMs = (LINES / BATCH) * BATCH_EVERY_MS;
          // Somewhere in the flood, once at least a few alerts are stored.
          await new Promise((r) => setTimeout(r, 50 + Math.random() * floodMs * 0.9));
          a.agent.kill("SIGKILL");
          assertEquals((await a.agent.status).signal, "SIGKILL");
          await Promise.all([a.logs.closed(), a.out.closed()]);
          const atKill = stored(db).rows;
          a = await start();
          await writer;
          const done = await waitFor(() => stored(db).perLine.size === LINES, 30_000);
          // A repeat would arrive after the last new line: give the agent a moment more.
          await new Promise((r) => setTimeout(r, 1500));
          a.agent.kill("SIGTERM");
          assertEquals((await a.agent.status).code, 0, a.logs.text);
          await Promise.all([a.logs.closed(), a.out.closed()]);
          const { rows, perLine } = stored(db);
          const repeated = [...perLine].filter(([, n]) => n > 1).map(([seq]) => seq);
          const lost = Array.from({ length: LINES }, (_, i) => i).filter((i) => !perLine.has(i));
          assert(
            done && repeated.length === 0 && lost.length === 0 && rows === LINES,
            `${rows} alerts for ${LINES} lines (${atKill} stored at the kill): ` +
              `${repeated.length} line(s) repeated (e.g. ${repeated.slice(0, 5)}), ` +
              `${lost.length} lost (e.g. ${lost.slice(0, 5)})`,
          );
        } finally {
          try {
            a.agent.kill("SIGKILL");
          } catch { /* already gone */ }
          await a.agent.status;
          await Deno.remove(dir, { recursive: true });
          await Deno.remove(rules, { recursive: true });
        }
      });
    }
  },
});
