/** `ironpost rules` as users run it: the real entry point with the derived flags. */
import { ROOT, runAgent, tempAgentConfig } from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const LOGHUB = `${ROOT}../shared/data/logs/loghub/OpenSSH_2k.log`;

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("ironpost rules", async (t) => {
  const { dir, config } = await tempAgentConfig(`[log_pipeline]\nrules_dir = "${ROOT}rules"\n`);
  // Offline commands read the paths they are given; under `deno run` that read is granted.
  const run = (args: string[], read: string[] = []) =>
    runAgent([...args, "--config", config], {
      flagsFrom: config,
      extraFlags: [`--allow-read=${[`${ROOT}rules`, ...read].join(",")}`],
    });

  await t.step("rules test replays loghub's sshd log and names the brute-forcing IPs", async () => {
    if (!requirePart("../shared/data (loghub)", await exists(LOGHUB))) return;
    const r = await run(["rules", "test", `${ROOT}rules`, "--input", LOGHUB, "--source", "sshd"], [
      LOGHUB,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const brute = new Set(
      [...r.stdout.matchAll(/HIGH +SSH brute force from one source src=(\S+)/g)].map((m) => m[1]),
    );
    assertEquals([...brute].sort(), [
      "103.99.0.122",
      "112.95.230.3",
      "183.62.140.253",
      "187.141.143.180",
      "5.188.10.180",
    ]);
    // The rule that mirrors CrowdSec's ssh-bf leaky bucket also flags the quicker bots, whose
    // every attempt logs "Invalid user", a PAM failure and "Failed password".
    const burst = new Set(
      [...r.stdout.matchAll(/HIGH +SSH brute-force burst from one source src=(\S+)/g)].map((m) =>
        m[1]
      ),
    );
    assertEquals([...burst].sort(), [
      "103.207.39.16",
      "103.207.39.212",
      "103.99.0.122",
      "112.95.230.3",
      "119.4.203.64",
      "123.235.32.19",
      "183.62.140.253",
      "187.141.143.180",
      "5.188.10.180",
      "60.2.12.12",
    ]);
    // The rule that mirrors fail2ban's sshd jail (5 failures as its filter counts them within
    // 10 minutes) flags what fail2ban 1.0.2 bans on this log (bench:guard runs fail2ban itself).
    const f2b = new Set(
      [...r.stdout.matchAll(
        /HIGH +SSH brute force from one source \(fail2ban's sshd jail threshold\) src=(\S+)/g,
      )]
        .map((m) => m[1]),
    );
    assertEquals([...f2b].sort(), [
      "103.207.39.16",
      "103.207.39.212",
      "103.99.0.122",
      "112.95.230.3",
      "119.4.203.64",
      "123.235.32.19",
      "183.62.140.253",
      "185.190.58.151",
      "187.141.143.180",
      "195.154.37.122",
      "5.188.10.180",
      "60.2.12.12",
    ]);
    assertMatch(r.stdout, /^97 alert\(s\) from 2000 event\(s\)/m);
    const exp = await run(
      ["rules", "test", `${ROOT}rules`, "--input", LOGHUB, "--source", "sshd", "--expect", "3"],
      [LOGHUB],
    );
    assertEquals(exp.code, 1);
    assertMatch(exp.stderr, /expected 3 alert\(s\), got 97/);
  });

  await t.step("rules list shows the shipped rules and correlations", async () => {
    const r = await run(["rules", "list", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { title: string; kind: string }[];
    assert(
      rows.some((x) => x.title === "SSH brute force from one source" && x.kind === "event_count"),
    );
    assert(
      rows.some((x) =>
        x.title === "SSH brute-force burst from one source" && x.kind === "event_count"
      ),
    );
    assert(rows.some((x) => x.title === "Shell spawned by a web server" && x.kind === "rule"));
  });

  await t.step("rules validate reports file:line:col in every format", async () => {
    const human = await run(["rules", "validate", `${ROOT}rules`]);
    assertEquals(human.code, 0, human.stderr);
    const broken = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${broken}/bad.yml`,
      "title: Bad\nlogsource:\n  product: linux\ndetection:\n  sel:\n    Image|contians: x\n  condition: sel\n",
    );
    const h = await run(["rules", "validate", broken], [broken]);
    assertEquals(h.code, 1);
    assertMatch(h.stderr, new RegExp(`^${broken}/bad\\.yml:6:11: E_MODIFIER: `, "m"));
    const gh = await run(["rules", "validate", broken, "--format", "github"], [broken]);
    assertMatch(
      gh.stdout,
      new RegExp(`^::error file=${broken}/bad\\.yml,line=6,col=11,title=E_MODIFIER::`, "m"),
    );
    const sarif = JSON.parse(
      (await run(["rules", "validate", broken, "--format", "sarif"], [broken])).stdout,
    );
    assertEquals(sarif.version, "2.1.0");
    assertEquals(sarif.runs[0].results[0].locations[0].physicalLocation.region, {
      startLine: 6,
      startColumn: 11,
    });
    await Deno.remove(broken, { recursive: true });
  });
  await Deno.remove(dir, { recursive: true });
});
