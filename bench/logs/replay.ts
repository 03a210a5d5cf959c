/**
 * One Ironpost replay, run by bench/logs.ts in its own process so its peak RSS is its own:
 * a log file through `LineParser` and a `Pipeline`, as `ironpost rules test` and the agent's
 * log module run them (agent defaults: 60 s suppression, 100,000 correlation groups).
 * Prints one JSON object on stdout.
 *
 *   deno run --allow-read bench/logs/replay.ts --input FILE --rules DIR [--rules DIR…]
 *     [--source sshd] [--reference-ms MS] [--peaks]
 *
 * `--peaks`: also the most failed passwords each source address had within any 60 s, the
 * quantity the shipped brute-force rule compares with 10 (to explain detection differences).
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

const { values } = parseArgs({
  args: Deno.args,
  options: {
    input: { type: "string" },
    rules: { type: "string", multiple: true },
    source: { type: "string", default: "sshd" },
    "reference-ms": { type: "string" },
    peaks: { type: "boolean", default: false },
  },
});
if (!values.input || !values.rules?.length) {
  console.error("usage: replay.ts --input FILE --rules DIR [--rules DIR…]");
  Deno.exit(2);
}

const tLoad = performance.now();
const { rules, correlations, errors } = await loadRules(values.rules);
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
/** Per source address: failed-password instants inside the current 60 s window, and the peak. */
const windows = new Map<string, { ts: number[]; head: number; peak: number }>();

function take(evs: Iterable<LogEvent>): void {
  for (const ev of evs) {
    if (ev.fields.parse_error !== undefined) parseErrors++;
    if (values.peaks && ev.fields.EventType === "failed_password") {
      const ip = ev.fields.SourceIp;
      if (typeof ip === "string") {
        const t = Date.parse(ev.ts);
        let w = windows.get(ip);
        if (!w) windows.set(ip, w = { ts: [], head: 0, peak: 0 });
        w.ts.push(t);
        while (w.ts[w.head] < t - 60_000) w.head++;
        if (w.head > 1024) {
          w.ts = w.ts.slice(w.head);
          w.head = 0;
        }
        w.peak = Math.max(w.peak, w.ts.length - w.head);
      }
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
  ...(values.peaks
    ? { peaks: Object.fromEntries([...windows].map(([ip, w]) => [ip, w.peak])) }
    : {}),
}));
