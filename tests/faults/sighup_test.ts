/**
 * Issue 16, item 7: SIGHUP honesty. Changing `log_pipeline.syslog_udp_addr` said "reloaded"
 * while the old port stayed bound. Now each spec declares the keys its module's `reload()`
 * applies live (`liveKeys`); any other changed key of a running module is named in a warning
 * and listed by `/status` (`restart_required`) and `ironpost status` until the restart, and
 * the module keeps running on the old value. A live key whose new value needs a permission
 * the process was not started with is reported the same way.
 */
import dgram from "node:dgram";
import { controlRequest } from "../../mod/daemon/mod.ts";
import { SqliteStore } from "../../mod/store/mod.ts";
import {
  agentFlags,
  MAIN,
  OutputTail,
  runAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";

const rule = (title: string) =>
  `title: ${title}\nlogsource:\n  product: linux\ndetection:\n` +
  `  keywords:\n    - '${title}'\n  condition: keywords\nlevel: high\n`;

/** Bind a UDP socket on 127.0.0.1:`port` (0: any); rejects with the bind error. */
function bindUdp(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.once("error", (e) => {
      s.close();
      reject(e);
    });
    s.bind(port, "127.0.0.1", () => resolve(s));
  });
}

const closeUdp = (s: dgram.Socket) => new Promise<void>((r) => s.close(() => r()));

/** A UDP port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const s = await bindUdp(0);
  const port = s.address().port;
  await closeUdp(s);
  return port;
}

/** Whether someone holds the UDP port (our bind fails with EADDRINUSE). */
async function bound(port: number): Promise<boolean> {
  try {
    await closeUdp(await bindUdp(port));
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") return true;
    throw e;
  }
}

async function sendSyslog(port: number, text: string): Promise<void> {
  const s = await bindUdp(0);
  try {
    const line = `<38>Jan  1 00:00:00 host sshd[1]: ${text}`;
    await new Promise<void>((r, j) => s.send(line, port, "127.0.0.1", (e) => e ? j(e) : r()));
  } finally {
    await closeUdp(s);
  }
}

Deno.test({
  name: "faults: SIGHUP names the keys that need a restart (log and status) and applies live ones",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const { dir, config } = await tempAgentConfig();
    const rulesA = `${dir}/rules-a`;
    const rulesB = `${dir}/rules-b`;
    const elsewhere = await Deno.makeTempDir({ prefix: "ironpost-hup-ungranted-" });
    for (const d of [rulesA, rulesB]) await Deno.mkdir(d, { mode: 0o755 });
    await Deno.chmod(elsewhere, 0o755);
    await Deno.writeTextFile(`${rulesA}/alpha.yml`, rule("Alpha"), { mode: 0o644 });
    await Deno.writeTextFile(`${rulesB}/alpha.yml`, rule("Alpha"), { mode: 0o644 });
    await Deno.writeTextFile(`${rulesB}/beta.yml`, rule("Beta"), { mode: 0o644 });
    await Deno.writeTextFile(`${elsewhere}/alpha.yml`, rule("Alpha"), { mode: 0o644 });
    const head = await Deno.readTextFile(config);
    const write = (addr: number, rules: string, extra: string[] = []) =>
      Deno.writeTextFile(
        config,
        `${head}[log_pipeline]\nenabled = true\nsyslog_udp_addr = "127.0.0.1:${addr}"\n` +
          `rules_dir = "${rules}"\nextra_rules_dirs = ${JSON.stringify(extra)}\n`,
        { mode: 0o644 },
      );
    const portA = await freePort();
    const portB = await freePort();
    await write(portA, rulesA);
    const socket = `${dir}/run/ironpost.sock`;
    // The derived flags, plus read of the test dir so rules-b is readable without a restart.
    const flags = [...await agentFlags(config), `--allow-read=${dir}`];
    const agent = new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, MAIN, "run", "--config", config],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const logs = new OutputTail(agent.stderr);
    const out = new OutputTail(agent.stdout);
    const status = async () =>
      JSON.parse((await controlRequest(socket, "GET", "/status")).body) as {
        restart_required?: string[];
      };
    let reloads = 0;
    const hup = async () => {
      const mark = logs.text.length;
      agent.kill("SIGHUP");
      reloads++;
      const n = () => logs.text.match(/SIGHUP: config reloaded/g)?.length ?? 0;
      assert(await waitFor(() => n() >= reloads, 10_000), logs.text.slice(-3000));
      return logs.text.slice(mark);
    };
    const alerts = async (title: string) => {
      const store = await SqliteStore.open(`${dir}/state/ironpost.db`);
      try {
        return (await store.listAlerts()).filter((a) => a.title === title).length;
      } finally {
        await store.close();
      }
    };
    try {
      assert(await waitHealthy(socket), logs.text);
      assert(await bound(portA), "the agent listens on the first UDP port");
      assertEquals((await status()).restart_required, []);

      await t.step("syslog_udp_addr changed: a warning names it, status lists it", async () => {
        await write(portB, rulesA);
        const said = await hup();
        assertMatch(
          said,
          /"level":"warn".*SIGHUP: log_pipeline\.syslog_udp_addr changed; it takes effect after a restart/,
        );
        assertEquals((await status()).restart_required, ["log_pipeline.syslog_udp_addr"]);
        const human = await runAgent(["status", "--config", config], { flagsFrom: config });
        assertEquals(human.code, 0, human.stderr);
        assertMatch(human.stdout, /RESTART REQUIRED to apply: log_pipeline\.syslog_udp_addr/);
        // Nothing pretends otherwise: the old port is still the one bound.
        assert(await bound(portA), "the old port stays bound until the restart");
        assert(!(await bound(portB)), "the new port is not bound before the restart");
        await sendSyslog(portA, "Alpha one");
        assert(await waitFor(async () => await alerts("Alpha") >= 1, 5000), logs.text);
      });

      await t.step(
        "rules_dir (live) reloads without a warning; the address changed back",
        async () => {
          await write(portA, rulesB);
          const said = await hup();
          assert(!/takes effect after a restart/.test(said), said);
          assertMatch(said, /SIGHUP: reloaded 2 rule\(s\)/);
          assertEquals((await status()).restart_required, []);
          const human = await runAgent(["status", "--config", config], { flagsFrom: config });
          assert(!/RESTART REQUIRED/.test(human.stdout), human.stdout);
          await sendSyslog(portA, "Beta one");
          assert(await waitFor(async () => await alerts("Beta") >= 1, 5000), logs.text);
        },
      );

      await t.step(
        "a live key whose new value the process may not read needs a restart",
        async () => {
          await write(portA, rulesB, [elsewhere]);
          const said = await hup();
          assertMatch(
            said,
            /SIGHUP: log_pipeline\.extra_rules_dirs changed; it takes effect after a restart/,
          );
          assertEquals((await status()).restart_required, ["log_pipeline.extra_rules_dirs"]);
          // The running rules are kept (not swapped for a set it could not read).
          assertMatch(said, /SIGHUP: reloaded 2 rule\(s\)/);
        },
      );
    } finally {
      agent.kill("SIGTERM");
      assertEquals((await agent.status).code, 0, logs.text.slice(-2000));
      await Promise.all([logs.closed(), out.closed()]);
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(elsewhere, { recursive: true });
    }
  },
});
