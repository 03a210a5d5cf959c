/**
 * The correlator keeps an event only while it can still be evidence (the newest
 * `maxEvidence` entries of its group): what it returns must not change because of that.
 */
import type { LogEvent } from "../../mod/logs/log_event.ts";
import { Pipeline } from "../../mod/logs/pipeline.ts";
import {
  type CorrelationMatch,
  Correlator,
  parseRules,
  RuleSet,
} from "../../mod/logs/sigma/mod.ts";
import { assertEquals } from "../helpers/assert.ts";

const T0 = Date.parse("2001-02-03T04:05:06Z");
const SSHD = { product: "linux", service: "sshd" };

const RULES = `
title: Failed login
name: failed
logsource: {product: linux, service: sshd}
detection: {sel: {Outcome: failure}, condition: sel}
---
title: Many failures
correlation: {type: event_count, rules: [failed], group-by: [SourceIp], timespan: 1h,
  condition: {gte: 50}}
`;

function event(i: number, ip: string, at: number): LogEvent {
  return {
    source: "replay",
    logsource: SSHD,
    ts: new Date(at).toISOString(),
    message: `failure ${i}`,
    fields: { Outcome: "failure", SourceIp: ip },
  };
}

Deno.test("correlation evidence with events kept only for the newest entries", async (t) => {
  await t.step("the firing carries the newest maxEvidence events, in time order", () => {
    const { rules, correlations } = parseRules(RULES, "inline.yml");
    const set = new RuleSet(rules);
    const c = new Correlator(correlations, { maxEvidence: 5 });
    const fired: CorrelationMatch[] = [];
    // Two sources interleaved, and every tenth event of one arriving a little late (out of
    // order), so entries are also inserted before the newest ones.
    for (let i = 0; i < 60; i++) {
      const late = i % 10 === 9 ? 1500 : 0;
      for (const ip of ["198.51.100.1", "198.51.100.2"]) {
        const ev = event(i, ip, T0 + i * 1000 - late);
        for (const m of set.match(ev)) fired.push(...c.observe(m, ev, T0 + i * 1000 - late));
      }
    }
    assertEquals(fired.map((f) => [f.group.SourceIp, f.count]), [
      ["198.51.100.1", 50],
      ["198.51.100.2", 50],
    ]);
    for (const f of fired) {
      // The 50th to arrive is #49, 1.5 s late: it goes in before #48, and the entry it pushes
      // out of the evidence range (#44) is not the one before it in arrival.
      assertEquals(f.events.map((e) => e.message), [
        "failure 45",
        "failure 46",
        "failure 47",
        "failure 49",
        "failure 48",
      ]);
      assertEquals(f.events.every((e) => e.fields.SourceIp === f.group.SourceIp), true);
    }
  });

  await t.step("the pipeline's alert evidence is the newest maxEvidence events", () => {
    const { rules, correlations } = parseRules(RULES, "inline.yml");
    const p = new Pipeline(rules, correlations, {
      suppressWindowSecs: 60,
      correlationMaxGroups: 10,
      maxEvidence: 3,
    });
    const alerts = [];
    for (let i = 0; i < 50; i++) alerts.push(...p.evaluate(event(i, "203.0.113.9", T0 + i * 100)));
    assertEquals(alerts.length, 1);
    assertEquals(alerts[0].srcIp, "203.0.113.9");
    assertEquals((alerts[0].evidence as LogEvent[]).map((e) => e.message), [
      "failure 47",
      "failure 48",
      "failure 49",
    ]);
  });
});
