import type { LogEvent } from "../../mod/logs/log_event.ts";
import {
  type CorrelationMatch,
  Correlator,
  type CorrelatorOptions,
  loadRules,
  parseRules,
  RuleSet,
} from "../../mod/logs/sigma/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const SPEC = new URL("../fixtures/sigma/spec-correlation/", import.meta.url);
const SHARED_SPEC = new URL(
  "../../../shared/data/sigma/spec-correlation-examples/",
  import.meta.url,
);
const T0 = Date.parse("2001-02-03T04:05:06Z");
const SEC = 1000;
const MIN = 60 * SEC;

type Fields = LogEvent["fields"];
type Source = LogEvent["logsource"];

const SECURITY: Source = { product: "windows", service: "security" };
const PROC: Source = { product: "linux", category: "process_creation" };

interface Harness {
  /** Run one event through the rules and the correlator at `at` ms. */
  feed(logsource: Source, fields: Fields, at: number): CorrelationMatch[];
  correlator: Correlator;
  set: RuleSet;
}

function harness(
  loaded: Awaited<ReturnType<typeof loadRules>>,
  options?: CorrelatorOptions,
): Harness {
  assertEquals(loaded.errors.map((e) => e.format()), []);
  const set = new RuleSet(loaded.rules);
  const correlator = new Correlator(loaded.correlations, options);
  return {
    set,
    correlator,
    feed(logsource, fields, at) {
      const ev: LogEvent = {
        source: "replay",
        logsource,
        ts: new Date(at).toISOString(),
        message: "",
        fields,
      };
      return set.match(ev).flatMap((m) => correlator.observe(m, ev, at));
    },
  };
}

async function spec(...files: string[]): Promise<Harness> {
  return harness(
    await loadRules([...files, "base_rules.yml"].map((f) => new URL(f, SPEC).pathname)),
  );
}

function inline(text: string, options?: CorrelatorOptions): Harness {
  return harness(parseRules(text, "inline.yml"), options);
}

const titles = (ms: CorrelationMatch[]) => ms.map((m) => m.title);

Deno.test("correlation rules load from the specification's examples", async (t) => {
  const cases: [string, string, string[], number, Record<string, unknown>][] = [
    ["event_count.yml", "event_count", ["ComputerName"], 3_600_000, { gte: 100 }],
    ["event_count_ecs.yml", "event_count", ["dns.question.name"], 3_600_000, { gte: 100 }],
    ["value_count.yml", "value_count", ["ComputerName", "WorkstationName"], 86_400_000, {
      field: ["User"],
      gte: 100,
    }],
    ["temporal.yml", "temporal", ["ComputerName", "User"], 300_000, { gte: 3 }],
    ["temporal_ordered.yml", "temporal_ordered", ["ComputerName", "User"], 300_000, { gte: 3 }],
    ["value_sum.yml", "value_sum", ["SourceIP", "User"], 3_600_000, {
      field: ["bytes_sent"],
      gt: 1000000,
    }],
    ["value_avg.yml", "value_avg", ["SourceIP", "User"], 86_400_000, {
      field: ["BytesOut"],
      gt: 500,
    }],
  ];
  for (const [file, type, groupBy, ms, condition] of cases) {
    await t.step(file, async () => {
      const { correlations, errors } = await loadRules(
        [file, "base_rules.yml"].map((f) => new URL(f, SPEC).pathname),
      );
      assertEquals(errors.map((e) => e.format()), []);
      assertEquals(correlations.length, 1);
      const c = correlations[0];
      assertEquals([c.type, c.groupBy, c.timespanMs, c.condition], [type, groupBy, ms, condition]);
    });
  }

  await t.step("value_percentile is refused as unsupported, with its position", async () => {
    const path = new URL("value_percentile.yml", SPEC).pathname;
    const { correlations, errors } = await loadRules([
      path,
      new URL("base_rules.yml", SPEC).pathname,
    ]);
    assertEquals(correlations, []);
    assertEquals(errors.map((e) => e.format()), [
      `${path}:3:11: E_UNSUPPORTED: Correlation type "value_percentile" is not supported`,
    ]);
  });

  await t.step("the copies in ../shared/data are the ones tested here", async () => {
    let present = false;
    try {
      present = (await Deno.stat(SHARED_SPEC)).isDirectory;
    } catch {
      present = false;
    }
    if (!requirePart(`the specification's examples in ${SHARED_SPEC.pathname}`, present)) return;
    for await (const e of Deno.readDir(SHARED_SPEC)) {
      if (!e.name.endsWith(".yml")) continue;
      assertEquals(
        await Deno.readTextFile(new URL(e.name, SPEC)),
        await Deno.readTextFile(new URL(e.name, SHARED_SPEC)),
        e.name,
      );
    }
  });
});

Deno.test("event_count", async (t) => {
  await t.step("100 failed logins on one host within 1h fire once", async () => {
    const h = await spec("event_count.yml");
    const fired: CorrelationMatch[] = [];
    for (let i = 0; i < 99; i++) {
      fired.push(...h.feed(SECURITY, { EventID: 4625, ComputerName: "ws1" }, T0 + i * 30 * SEC));
      // Another host interleaved: counted on its own.
      fired.push(...h.feed(SECURITY, { EventID: 4625, ComputerName: "ws2" }, T0 + i * 30 * SEC));
    }
    assertEquals(fired, []);
    const at = T0 + 99 * 30 * SEC;
    const [m, ...rest] = h.feed(SECURITY, { EventID: 4625, ComputerName: "ws1" }, at);
    assertEquals(rest, []);
    assertEquals([m.title, m.type, m.group, m.value, m.count, m.events.length], [
      "Many failed logins",
      "event_count",
      { ComputerName: "ws1" },
      100,
      100,
      100,
    ]);
    assertEquals([m.firstMs, m.lastMs, m.standalone], [T0, at, true]);
    // The group starts over after firing: the 101st event does not fire again.
    assertEquals(h.feed(SECURITY, { EventID: 4625, ComputerName: "ws1" }, at + SEC), []);
    // ws2's 100th fires for ws2.
    assertEquals(h.feed(SECURITY, { EventID: 4625, ComputerName: "ws2" }, at + SEC)[0].group, {
      ComputerName: "ws2",
    });
  });

  await t.step("the same 100 events spread over more than 1h do not fire", async () => {
    const h = await spec("event_count.yml");
    for (let i = 0; i < 100; i++) {
      assertEquals(h.feed(SECURITY, { EventID: 4625, ComputerName: "ws1" }, T0 + i * MIN), []);
    }
  });

  await t.step("ECS field names with dots group too", async () => {
    const h = await spec("event_count_ecs.yml");
    let fired: CorrelationMatch[] = [];
    for (let i = 0; i < 100; i++) {
      fired = h.feed(SECURITY, { EventID: 4625, "dns.question.name": "evil.example" }, T0 + i);
    }
    assertEquals(fired.map((m) => m.group), [{ "dns.question.name": "evil.example" }]);
  });
});

Deno.test("value_count", async (t) => {
  const fields = (user: string): Fields => ({
    EventID: 4625,
    ComputerName: "dc1",
    WorkstationName: "ws9",
    User: user,
  });
  await t.step("100 distinct users from one source within a day fire", async () => {
    const h = await spec("value_count.yml");
    const fired: CorrelationMatch[] = [];
    for (let i = 0; i < 100; i++) fired.push(...h.feed(SECURITY, fields(`user${i}`), T0 + i * MIN));
    assertEquals(fired.map((m) => [m.value, m.count, m.group]), [[100, 100, {
      ComputerName: "dc1",
      WorkstationName: "ws9",
    }]]);
  });
  await t.step("many events for 99 users do not", async () => {
    const h = await spec("value_count.yml");
    for (let i = 0; i < 300; i++) {
      assertEquals(h.feed(SECURITY, fields(`user${i % 99}`), T0 + i * SEC), []);
    }
  });
});

Deno.test("temporal", async (t) => {
  const cmd = (c: string, user = "alice", host = "web1"): Fields => ({
    CommandLine: c,
    User: user,
    ComputerName: host,
  });
  await t.step("a, b and c in any order within 5m, same host and user, fire", async () => {
    const h = await spec("temporal.yml");
    assertEquals(h.feed(PROC, cmd("uname -a"), T0), []);
    assertEquals(h.feed(PROC, cmd("whoami"), T0 + MIN), []);
    const fired = h.feed(PROC, cmd("id alice"), T0 + 4 * MIN);
    assertEquals(fired.map((m) => [m.title, m.value, m.count, m.group]), [[
      "Recon",
      3,
      3,
      { ComputerName: "web1", User: "alice" },
    ]]);
    assertEquals(fired[0].events.map((e) => e.fields.CommandLine), [
      "uname -a",
      "whoami",
      "id alice",
    ]);
  });
  await t.step("the third command 6 minutes after the first does not", async () => {
    const h = await spec("temporal.yml");
    h.feed(PROC, cmd("whoami"), T0);
    h.feed(PROC, cmd("id alice"), T0 + MIN);
    assertEquals(h.feed(PROC, cmd("uname -a"), T0 + 6 * MIN + 1), []);
  });
  await t.step("another user's command does not complete the set", async () => {
    const h = await spec("temporal.yml");
    h.feed(PROC, cmd("whoami"), T0);
    h.feed(PROC, cmd("id alice"), T0 + SEC);
    assertEquals(h.feed(PROC, cmd("uname -a", "bob"), T0 + 2 * SEC), []);
    assertEquals(h.feed(PROC, cmd("uname -a", "alice", "web2"), T0 + 3 * SEC), []);
    assertEquals(titles(h.feed(PROC, cmd("uname -a"), T0 + 4 * SEC)), ["Recon"]);
  });
});

Deno.test("temporal_ordered", async (t) => {
  const cmd = (c: string): Fields => ({ CommandLine: c, User: "alice", ComputerName: "web1" });
  await t.step("a, b, c in order fire; interleaved repeats are fine", async () => {
    const h = await spec("temporal_ordered.yml");
    assertEquals(h.feed(PROC, cmd("whoami"), T0), []);
    assertEquals(h.feed(PROC, cmd("uname -r"), T0 + SEC), []);
    assertEquals(h.feed(PROC, cmd("id -u"), T0 + 2 * SEC), []);
    assertEquals(titles(h.feed(PROC, cmd("uname -a"), T0 + 3 * SEC)), ["Recon ordered"]);
  });
  await t.step("c, b, a do not", async () => {
    const h = await spec("temporal_ordered.yml");
    assertEquals(h.feed(PROC, cmd("uname -a"), T0), []);
    assertEquals(h.feed(PROC, cmd("id -u"), T0 + SEC), []);
    assertEquals(h.feed(PROC, cmd("whoami"), T0 + 2 * SEC), []);
  });
  await t.step("in order but over more than 5m do not", async () => {
    const h = await spec("temporal_ordered.yml");
    h.feed(PROC, cmd("whoami"), T0);
    h.feed(PROC, cmd("id -u"), T0 + 3 * MIN);
    assertEquals(h.feed(PROC, cmd("uname -a"), T0 + 5 * MIN + 1), []);
  });
});

Deno.test("value_sum and value_avg", async (t) => {
  await t.step("value_sum: more than 1 MB sent by one user to the web within 1h", async () => {
    const h = await spec("value_sum.yml");
    const proxy: Source = { category: "proxy" };
    const req = (bytes: number | string, user = "alice"): Fields => ({
      bytes_sent: bytes,
      SourceIP: "10.0.0.7",
      User: user,
    });
    assertEquals(h.feed(proxy, req(400_000), T0), []);
    assertEquals(h.feed(proxy, req("400000"), T0 + MIN), []);
    assertEquals(h.feed(proxy, req(400_000, "bob"), T0 + MIN), []);
    const [m] = h.feed(proxy, req(400_000), T0 + 2 * MIN);
    assertEquals([m.value, m.count], [1_200_000, 3]);
    // Spread over more than an hour, the same amounts do not add up.
    const h2 = await spec("value_sum.yml");
    for (let i = 0; i < 3; i++) assertEquals(h2.feed(proxy, req(400_000), T0 + i * 31 * MIN), []);
  });
  await t.step("value_avg: average bytes out above 500", async () => {
    const h = await spec("value_avg.yml");
    const net: Source = { category: "network_connection" };
    const f = (b: number): Fields => ({ BytesOut: b, SourceIP: "10.0.0.7", User: "alice" });
    assertEquals(h.feed(net, f(100), T0), []);
    assertEquals(h.feed(net, f(800), T0 + SEC), []);
    assertEquals(h.feed(net, f(1200), T0 + 2 * SEC).map((m) => m.value), [700]);
  });
});

Deno.test("chained correlations: failed logins followed by a success (spec example)", async (t) => {
  const load = () => spec("failed_then_success.yml");
  const fail = (user: string): Fields => ({ EventID: 4625, User: user });
  const ok = (user: string): Fields => ({ EventID: 4624, User: user });

  await t.step(
    "10 failures then a success for the same user fire the outer correlation",
    async () => {
      const h = await load();
      const inner: CorrelationMatch[] = [];
      for (let i = 0; i < 10; i++) inner.push(...h.feed(SECURITY, fail("alice"), T0 + i * SEC));
      assertEquals(inner.map((m) => [m.title, m.standalone, m.severity]), [
        ["Multiple failed logons", false, "medium"],
      ]);
      const outer = h.feed(SECURITY, ok("alice"), T0 + 2 * MIN);
      assertEquals(outer.map((m) => [m.title, m.type, m.group, m.standalone, m.severity]), [
        [
          "Correlation - Multiple Failed Logins Followed by Successful Login",
          "temporal_ordered",
          { User: "alice" },
          true,
          "high",
        ],
      ]);
      // The base rules only feed the correlation: their matches are not standalone alerts.
      const base = h.set.match({
        source: "replay",
        logsource: SECURITY,
        ts: "",
        message: "",
        fields: ok("alice"),
      });
      assertEquals(base.map((m) => [m.title, m.standalone]), [["Successful login", false]]);
    },
  );

  await t.step("a success before the failures, or for another user, does not", async () => {
    const h = await load();
    assertEquals(h.feed(SECURITY, ok("alice"), T0), []);
    for (let i = 0; i < 10; i++) h.feed(SECURITY, fail("alice"), T0 + (i + 1) * SEC);
    assertEquals(h.feed(SECURITY, ok("bob"), T0 + MIN), []);
    assertEquals(titles(h.feed(SECURITY, ok("alice"), T0 + 2 * MIN)), [
      "Correlation - Multiple Failed Logins Followed by Successful Login",
    ]);
  });

  await t.step("a success more than 10 minutes after the burst does not", async () => {
    const h = await load();
    for (let i = 0; i < 10; i++) h.feed(SECURITY, fail("alice"), T0 + i * SEC);
    assertEquals(h.feed(SECURITY, ok("alice"), T0 + 9 * SEC + 10 * MIN + 1), []);
  });
});

Deno.test("field name aliases (spec example)", async (t) => {
  const web: Source = { category: "webserver" };
  const net: Source = { category: "network_connection" };
  const error = {
    "http.response.status_code": 500,
    "destination.ip": "10.0.0.5",
    "source.ip": "203.0.113.7",
  };
  const conn = (src: string, dst: string): Fields => ({
    "event.category": "network",
    "event.type": "connection",
    "event.outcome": "success",
    "source.ip": src,
    "destination.ip": dst,
  });
  await t.step("the same addresses under different field names correlate", async () => {
    const h = await spec("aliases.yml");
    assertEquals(h.feed(web, error, T0), []);
    const fired = h.feed(net, conn("10.0.0.5", "203.0.113.7"), T0 + 5 * SEC);
    assertEquals(fired.map((m) => m.group), [{
      internal_ip: "10.0.0.5",
      remote_ip: "203.0.113.7",
    }]);
  });
  await t.step("swapped addresses, or too late, do not", async () => {
    const h = await spec("aliases.yml");
    h.feed(web, error, T0);
    assertEquals(h.feed(net, conn("203.0.113.7", "10.0.0.5"), T0 + SEC), []);
    assertEquals(h.feed(net, conn("10.0.0.5", "203.0.113.7"), T0 + 11 * SEC), []);
  });
});

const BASE = `
title: Login
name: login
logsource: {product: linux, service: sshd}
detection: {sel: {Event: login}, condition: sel}
`;
const login = { product: "linux", service: "sshd" };

Deno.test("upper-bounded conditions are judged when the window closes", async (t) => {
  const rule = (cond: string) =>
    `${BASE}---\ntitle: Few logins\ncorrelation: {type: event_count, rules: [login], group-by: [User], timespan: 1m, condition: {${cond}}}\n`;

  await t.step("lt: judged on flush at the end of a replay", () => {
    const h = inline(rule("lt: 3"));
    assertEquals(h.feed(login, { Event: "login", User: "alice" }, T0), []);
    assertEquals(h.feed(login, { Event: "login", User: "alice" }, T0 + 10 * SEC), []);
    for (let i = 0; i < 3; i++) h.feed(login, { Event: "login", User: "bob" }, T0 + i * SEC);
    assertEquals(h.correlator.flush().map((m) => [m.group, m.value]), [[{ User: "alice" }, 2]]);
    assertEquals(h.correlator.stats().groups, 0);
  });

  await t.step("lt: judged when a later event shows the window is over", () => {
    const h = inline(rule("lt: 3"));
    h.feed(login, { Event: "login", User: "alice" }, T0);
    assertEquals(h.feed(login, { Event: "login", User: "bob" }, T0 + 30 * SEC), []);
    // 61 s later alice's window [T0, T0+60s] has closed with one login.
    const fired = h.feed(login, { Event: "login", User: "carol" }, T0 + 61 * SEC);
    assertEquals(fired.map((m) => [m.group, m.value, m.firstMs]), [[{ User: "alice" }, 1, T0]]);
    // flush(now) closes only what has ended by then: bob's window ends at T0+90s.
    assertEquals(h.correlator.flush(T0 + 80 * SEC), []);
    assertEquals(h.correlator.flush(T0 + 91 * SEC).map((m) => m.group), [{ User: "bob" }]);
  });

  await t.step("eq and a range", () => {
    const eq = inline(rule("eq: 2"));
    for (const [user, n] of [["a", 1], ["b", 2], ["c", 3]] as const) {
      for (let i = 0; i < n; i++) eq.feed(login, { Event: "login", User: user }, T0 + i * SEC);
    }
    assertEquals(eq.correlator.flush().map((m) => m.group.User), ["b"]);
    const range = inline(rule("gt: 1, lte: 2"));
    for (const [user, n] of [["a", 1], ["b", 2], ["c", 3]] as const) {
      for (let i = 0; i < n; i++) range.feed(login, { Event: "login", User: user }, T0 + i * SEC);
    }
    assertEquals(range.correlator.flush().map((m) => m.group.User), ["b"]);
  });
});

Deno.test("bounded memory: group cap, eviction, per-group cap", async (t) => {
  const text =
    `${BASE}---\ntitle: Burst\ncorrelation: {type: event_count, rules: [login], group-by: [User], timespan: 1h, condition: {gte: 3}}\n`;
  const seq = (h: Harness, users: string[]) =>
    users.flatMap((u, i) => h.feed(login, { Event: "login", User: u }, T0 + i * SEC));

  await t.step("without pressure alice's third login fires", () => {
    const h = inline(text);
    assertEquals(seq(h, ["alice", "alice", "bob", "carol", "alice"]).map((m) => m.group.User), [
      "alice",
    ]);
    assertEquals(h.correlator.evictions, 0);
  });

  await t.step("with maxGroups 2 the least recently seen group is evicted and counted", () => {
    const h = inline(text, { maxGroups: 2 });
    // alice (2), bob, then carol evicts alice, the least recently seen.
    assertEquals(seq(h, ["alice", "alice", "bob", "carol", "alice"]), []);
    const s = h.correlator.stats();
    // carol evicted alice; alice's return evicted bob.
    assertEquals([s.evictions, s.groups, h.correlator.evictions], [2, 2, 2]);
  });

  await t.step("recency, not age: a group seen again is kept", () => {
    const h = inline(text, { maxGroups: 2 });
    assertEquals(seq(h, ["alice", "bob", "alice", "carol", "alice"]).map((m) => m.group.User), [
      "alice",
    ]);
    assertEquals(h.correlator.evictions, 1);
  });

  await t.step("many distinct groups stay within the cap", () => {
    const h = inline(text, { maxGroups: 100 });
    for (let i = 0; i < 5000; i++) h.feed(login, { Event: "login", User: `u${i}` }, T0 + i);
    const s = h.correlator.stats();
    assertEquals([s.groups, s.evictions], [100, 4900]);
  });

  await t.step("entries per group are capped, raised to the condition's threshold", () => {
    const h = inline(
      `${BASE}---\ntitle: Big\ncorrelation: {type: event_count, rules: [login], group-by: [User], timespan: 1h, condition: {gte: 50}}\n`,
      { maxEventsPerGroup: 10, maxEvidence: 5 },
    );
    let fired: CorrelationMatch[] = [];
    for (let i = 0; i < 50; i++) fired = h.feed(login, { Event: "login", User: "a" }, T0 + i);
    assertEquals(fired.map((m) => [m.value, m.events.length]), [[50, 5]]);
    assertEquals(h.correlator.stats().droppedEntries, 0);
    const v = inline(
      `${BASE}---\ntitle: Users\ncorrelation: {type: value_count, rules: [login], group-by: [Host], timespan: 1h, condition: {field: User, lt: 1000}}\n`,
      { maxEventsPerGroup: 10 },
    );
    for (let i = 0; i < 1500; i++) {
      v.feed(login, { Event: "login", Host: "h", User: `u${i}` }, T0 + i);
    }
    assertEquals(v.correlator.stats().droppedEntries, 1500 - 1001);
  });
});

Deno.test("correlation bookkeeping", async (t) => {
  const text =
    `${BASE}---\ntitle: Burst\ncorrelation: {type: event_count, rules: [login], group-by: [User], timespan: 1m, condition: {gte: 2}}\n`;
  await t.step("time is the event's: a replay of 2001 works, late events are counted", () => {
    const h = inline(text);
    h.feed(login, { Event: "login", User: "a" }, T0 + 10 * MIN);
    assertEquals(h.feed(login, { Event: "login", User: "a" }, T0), []);
    assertEquals(h.correlator.stats().late, 1);
    // Slightly out of order but inside the window still counts.
    assertEquals(h.feed(login, { Event: "login", User: "a" }, T0 + 10 * MIN - 30 * SEC).length, 1);
  });
  await t.step("events without the group-by field are left out and counted", () => {
    const h = inline(text);
    h.feed(login, { Event: "login" }, T0);
    h.feed(login, { Event: "login", User: null }, T0);
    assertEquals(h.correlator.stats().missingGroupBy, 2);
  });
  await t.step("group-by values compare as text, case-sensitively", () => {
    const h = inline(text);
    h.feed(login, { Event: "login", User: 1000 }, T0);
    assertEquals(h.feed(login, { Event: "login", User: "1000" }, T0 + SEC).length, 1);
    h.feed(login, { Event: "login", User: "Root" }, T0);
    assertEquals(h.feed(login, { Event: "login", User: "root" }, T0 + SEC), []);
  });
  await t.step("generate: true keeps the base rule's own alerts", () => {
    const quiet = parseRules(text);
    assertEquals(quiet.rules[0].standalone, false);
    const loud = parseRules(
      text.replace("condition: {gte: 2}}", "condition: {gte: 2}, generate: true}"),
    );
    assertEquals(loud.errors, []);
    assertEquals(loud.rules[0].standalone, true);
    // A correlation without a level is as severe as its rules (medium by default here).
    assertEquals(loud.correlations[0].severity, "medium");
  });
});

Deno.test("correlation rule errors", async (t) => {
  const errs = (text: string) => parseRules(text, "c.yml").errors.map((e) => e.format());
  await t.step("unknown references, bad conditions, extended conditions", () => {
    assertEquals(
      errs(`${BASE}---
title: Bad
correlation:
    type: event_count
    rules: [logn, other]
    group-by: User
    timespan: 1h
    condition:
        field: User
        gte: many
`),
      [
        'c.yml:14:9: E_CORRELATION: "field" is for value_* correlations, not event_count',
        'c.yml:15:14: E_CORRELATION: "gte" must be a number',
        'c.yml:10:13: E_REFERENCE: Unknown rule "logn"; did you mean "login"?',
        'c.yml:10:19: E_REFERENCE: Unknown rule "other"',
      ],
    );
    assertEquals(
      errs(
        `${BASE}---\ntitle: T\ncorrelation: {type: temporal, rules: [login], timespan: 1m, condition: login and not x}\n`,
      ),
      [
        "c.yml:8:72: E_UNSUPPORTED: Extended (boolean expression) correlation conditions are not supported",
      ],
    );
    assertEquals(
      errs(
        `${BASE}---\ntitle: T\ncorrelation: {type: value_count, rules: [login], timespan: 1m, condition: {gte: 3}}\n`,
      ),
      ['c.yml:8:75: E_CORRELATION: A value_count correlation needs "field" in its condition'],
    );
    assertEquals(
      errs(
        `${BASE}---\ntitle: T\ncorrelation: {type: event_count, rules: [login], timespan: 1m}\n`,
      ),
      ['c.yml:8:1: E_CORRELATION: A event_count correlation needs a "condition"'],
    );
  });
  await t.step("correlations referring to each other in a loop", () => {
    const loop = `${BASE}---
title: A
name: a
correlation: {type: temporal, rules: [login, b], timespan: 1m}
---
title: B
name: b
correlation: {type: temporal, rules: [login, a], timespan: 1m}
`;
    const r = parseRules(loop, "c.yml");
    assertEquals(r.correlations, []);
    assertEquals(r.errors.map((e) => e.code), ["E_REFERENCE", "E_REFERENCE"]);
    assert(r.errors[0].message.startsWith('Correlation "A" refers to itself'));
  });
});
