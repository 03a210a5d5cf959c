/**
 * Issue 16, fault suite: disk full on the state dir. The agent's state dir is a 4 MiB tmpfs;
 * a log flood whose every line raises an alert fills it. Then: health is degraded with the
 * reason (store writes failing: the disk is full), the agent keeps answering, the database
 * is never corrupted (`PRAGMA integrity_check` is ok), and when space returns (the tmpfs is
 * remounted larger) writes resume and health is back to healthy.
 */
import { DatabaseSync } from "node:sqlite";
import { controlRequest } from "../../mod/daemon/mod.ts";
import { OutputTail, spawnAgent, tempAgentConfig, waitFor, waitHealthy } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requireRoot } from "../helpers/require.ts";

const rule = (title: string, keyword: string) =>
  `title: ${title}\nlogsource:\n  product: linux\ndetection:\n` +
  `  keywords:\n    - '${keyword}'\n  condition: keywords\nlevel: high\n`;

async function run(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

interface HealthBody {
  status: string;
  modules: Record<string, { state: string; reason?: string }>;
}

Deno.test({
  name: "faults: a full state dir degrades health with the reason, corrupts nothing, recovers",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!requireRoot()) return;
    const { dir, config } = await tempAgentConfig();
    const state = `${dir}/state`;
    const rules = `${dir}/rules`;
    await Deno.mkdir(state, { mode: 0o700 });
    await Deno.mkdir(rules, { mode: 0o755 });
    await Deno.mkdir(`${dir}/logs`);
    await Deno.writeTextFile(`${rules}/flood.yml`, rule("Flood", "FLOODMARK"), { mode: 0o644 });
    await Deno.writeTextFile(`${rules}/back.yml`, rule("Back", "RECOVERMARK"), { mode: 0o644 });
    const log = `${dir}/logs/app.log`;
    await Deno.writeTextFile(log, "");
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nfile_paths = ["${log}"]\nrules_dir = "${rules}"\n` +
        `flush_interval_secs = 1\nsuppress_window_secs = 0\n`,
      { append: true },
    );
    await run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "ironpost-test", state);
    const socket = `${dir}/run/ironpost.sock`;
    let agent: Deno.ChildProcess | undefined;
    let logs: OutputTail | undefined;
    let out: OutputTail | undefined;
    const health = async () =>
      JSON.parse((await controlRequest(socket, "GET", "/health", 2000)).body) as HealthBody;
    let n = 0;
    const flood = async (lines: number, mark = "FLOODMARK") => {
      const pad = "x".repeat(900);
      let text = "";
      for (let i = 0; i < lines; i++, n++) {
        text += `Dec  7 10:00:00 host app[1]: ${mark} n=${n} ${pad}\n`;
      }
      await Deno.writeTextFile(log, text, { append: true });
    };
    try {
      agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
      logs = new OutputTail(agent.stderr);
      out = new OutputTail(agent.stdout);
      assert(await waitHealthy(socket), logs.text);

      // Flood until the store's writes fail (bounded: 4 MiB holds ~2000 of these alerts).
      let degraded: HealthBody | undefined;
      for (let round = 0; round < 20 && !degraded; round++) {
        await flood(1000);
        await waitFor(async () => {
          const h = await health();
          if (h.modules.store?.state === "degraded") degraded = h;
          return degraded !== undefined;
        }, 2000);
      }
      assert(degraded, `store never degraded: ${JSON.stringify(await health())}`);
      assertEquals(degraded.status, "degraded");
      assertMatch(degraded.modules.store.reason ?? "", /store writes failing since .*full/i);
      const metrics = (await controlRequest(socket, "GET", "/metrics")).body;
      const failures = Number(
        metrics.match(/^ironpost_store_write_failures_total (\d+)$/m)?.[1] ?? "0",
      );
      assert(failures > 0, "write failures are counted");
      // Still answering while full, and still full while the flood goes on.
      await flood(200);
      await new Promise((r) => setTimeout(r, 500));
      assertEquals((await health()).modules.store.state, "degraded");

      // Space returns: writes resume, health is healthy again.
      await run("mount", "-o", "remount,size=64m", state);
      await flood(20, "RECOVERMARK");
      assert(
        await waitFor(async () => (await health()).status === "healthy", 20_000),
        `not healthy after space returned: ${JSON.stringify(await health())}`,
      );
      agent.kill("SIGTERM");
      assertEquals((await agent.status).code, 0, logs.text.slice(-2000));
      agent = undefined;

      // Nothing corrupted, and what was written after the recovery is there.
      const db = new DatabaseSync(`${state}/ironpost.db`, { readOnly: true });
      try {
        const ok = db.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
        assertEquals(ok.integrity_check, "ok");
        const back = db.prepare("SELECT count(*) AS n FROM alerts WHERE body LIKE '%RECOVERMARK%'")
          .get() as { n: number };
        assert(Number(back.n) > 0, "alerts written after space returned are stored");
        const all = db.prepare("SELECT count(*) AS n FROM alerts").get() as { n: number };
        console.log(
          `disk full: ${n} lines, ${failures} failed writes when first degraded, ` +
            `${all.n} alerts stored (${back.n} after space returned), integrity ok`,
        );
      } finally {
        db.close();
      }
    } finally {
      if (agent) {
        agent.kill("SIGKILL");
        await agent.status;
      }
      await Promise.all([logs?.closed(), out?.closed()]);
      await run("umount", state).catch(() => run("umount", "-l", state));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
