/**
 * One Ironpost replay, run by bench/logs.ts in its own process so its peak RSS is its own:
 * a log file through `LineParser` and a `Pipeline`, as `ironpost rules test` and the agent's
 * log module run them (agent defaults: 60 s suppression, 100,000 correlation groups).
 * Prints one JSON object on stdout.
 *
 *   deno run --allow-read bench/logs/replay.ts --input FILE --rules DIR [--rules DIR…]
 *     [--source sshd] [--reference-ms MS] [--bucket RULE_NAME]
 *
 * `--bucket RULE_NAME` (to explain detection differences, not for timing): also, per source
 * address, the lines the rule named RULE_NAME matches (ssh_auth_failure: the lines CrowdSec's
 * sshd parser tags ssh_failed-auth) poured into a reference leaky bucket with ssh-bf's
 * settings (capacity 5, one leaked every 10 s, replaced after an overflow, overflows within
 * 1 min of a reported one held back as its blackhole does): lines, overflows, reported ones,
 * and the first overflow's time.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import {
  type LineFormat,
  LineParser,
  loadRules,
  type LogEvent,
  Pipeline,
} from "../../mod/logs/mod.ts";
import { RuleSet } from "../../mod/logs/sigma/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    input: { type: "string" },
    rules: { type: "string", multiple: true },
    source: { type: "string", default: "sshd" },
    "reference-ms": { type: "string" },
    bucket: { type: "string" },
  },
});
if (!values.input || !values.rules?.length) {
  console.error("usage: replay.ts --input FILE --rules DIR [--rules DIR…]");
  Deno.exit(2);
}

const tLoad = performance.now();
const { rules, correlations, errors } = await loadRules(values.rules);
let bucketRule: RuleSet | undefined;
if (values.bucket !== undefined) {
  const rule = rules.find((r) => r.name === values.bucket);
  if (!rule) {
    console.error(`--bucket: no rule named ${values.bucket} in ${values.rules.join(", ")}`);
    Deno.exit(2);
  }
  bucketRule = new RuleSet([rule]);
}
const pipeline = new Pipeline(rules, correlations, {
  suppressWindowSecs: 60,
  correlationMaxGroups: 100_000,
});
const loadMs = performance.now() - tLoad;
const referenceTime = values["reference-ms"] ? Number(values["reference-ms"]) : undefined;
const parser = new LineParser({
  source: values.source as LineFormat,
  origin: `file:${values.input}`,
  ...(referenceTime !== undefined ? { referenceTime, timeZone: "UTC" } : {}),
});

interface RuleTally {
  title: string;
  alerts: number;
  ips: Set<string>;
}
const byRule = new Map<string, RuleTally>();
let alerts = 0;
let lines = 0;
let parseErrors = 0;
/** ssh-bf's leaky bucket, as --bucket runs it. */
const CAPACITY = 5;
const LEAK_MS = 10_000;
const BLACKHOLE_MS = 60_000;
interface Bucket {
  lines: number;
  /** Room left in ms of leaking (one event = LEAK_MS); undefined: none yet (a new one is full). */
  room?: number;
  last: number;
  overflows: number;
  reported: number;
  lastReported: number;
  first?: number;
}
const buckets = new Map<string, Bucket>();

function pour(ip: string, t: number): void {
  let b = buckets.get(ip);
  if (!b) {
    buckets.set(ip, b = { lines: 0, last: t, overflows: 0, reported: 0, lastReported: -Infinity });
  }
  b.lines++;
  const room = Math.min(CAPACITY * LEAK_MS, (b.room ?? CAPACITY * LEAK_MS) + (t - b.last));
  b.last = t;
  if (room >= LEAK_MS) {
    b.room = room - LEAK_MS;
    return;
  }
  // Overflow: this bucket is done; the next line starts a new, full one.
  b.room = undefined;
  b.overflows++;
  b.first ??= t;
  if (t >= b.lastReported + BLACKHOLE_MS) {
    b.reported++;
    b.lastReported = t;
  }
}

function take(evs: Iterable<LogEvent>): void {
  for (const ev of evs) {
    if (ev.fields.parse_error !== undefined) parseErrors++;
    if (bucketRule && typeof ev.fields.SourceIp === "string" && bucketRule.match(ev).length > 0) {
      pour(ev.fields.SourceIp, Date.parse(ev.ts));
    }
    for (const a of pipeline.evaluate(ev)) tally(a);
  }
}

function tally(a: { ruleId: string; title: string; srcIp?: string }): void {
  alerts++;
  let t = byRule.get(a.ruleId);
  if (!t) byRule.set(a.ruleId, t = { title: a.title, alerts: 0, ips: new Set() });
  t.alerts++;
  if (a.srcIp && t.ips.size < 5000) t.ips.add(a.srcIp);
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const file = await Deno.open(values.input);
const decoder = new TextDecoder();
let rest = "";
for await (const chunk of file.readable) {
  const text = rest + decoder.decode(chunk, { stream: true });
  let start = 0;
  let i: number;
  while ((i = text.indexOf("\n", start)) >= 0) {
    const line = text.slice(start, i);
    start = i + 1;
    lines++;
    if (line !== "") take(parser.push(line));
  }
  rest = text.slice(start);
}
rest += decoder.decode();
if (rest !== "") {
  lines++;
  take(parser.push(rest));
}
take(parser.flush());
for (const a of pipeline.flush()) tally(a);
const runMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);

function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) : 0;
}

const s = pipeline.stats();
console.log(JSON.stringify({
  lines,
  events: s.events,
  matches: s.matches,
  alerts,
  suppressed: s.suppressed,
  parseErrors,
  rules: rules.length,
  correlations: correlations.length,
  loadErrors: errors.map((e) => e.format()),
  loadMs,
  runMs,
  runCpuMs: (cpu.user + cpu.system) / 1000,
  vmHwmKb: statusKb("VmHWM"),
  vmRssKb: statusKb("VmRSS"),
  heapUsedKb: Math.round(Deno.memoryUsage().heapUsed / 1024),
  heapTotalKb: Math.round(Deno.memoryUsage().heapTotal / 1024),
  byRule: Object.fromEntries(
    [...byRule].map(([id, t]) => [id, { title: t.title, alerts: t.alerts, ips: [...t.ips] }]),
  ),
  ...(bucketRule
    ? {
      bucket: Object.fromEntries(
        [...buckets].map(([ip, b]) => [ip, {
          lines: b.lines,
          overflows: b.overflows,
          reported: b.reported,
          ...(b.first !== undefined ? { first: new Date(b.first).toISOString() } : {}),
        }]),
      ),
    }
    : {}),
}));
