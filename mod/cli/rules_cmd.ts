import type { AlertEvent, HostEvent, IronpostEvent, PacketEvent } from "../core/mod.ts";
import { errorMessage, IronpostError } from "../core/mod.ts";
import {
  hostToLog,
  type LineFormat,
  LineParser,
  loadRules,
  packetToLog,
  Pipeline,
  type RuleError,
} from "../logs/mod.ts";
import { unsafeStat } from "../config/file_safety.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { err, out, table } from "./output.ts";

const SOURCES = ["sshd", "syslog", "auditd", "journal-json", "json", "events-ndjson"] as const;

/** `ironpost rules list|validate|test`. */
export async function rulesCommand(positionals: string[], values: Values): Promise<number> {
  const [sub, ...paths] = positionals;
  switch (sub) {
    case "list":
      return await listRules(values);
    case "validate":
      return await validateRules(paths, values);
    case "test":
      return await testRules(paths, values);
  }
  throw new UsageError(
    sub
      ? `unknown rules subcommand "${sub}"; expected list, validate or test`
      : "rules needs a subcommand: list, validate or test",
    "rules",
  );
}

/**
 * Load rules as the agent would accept them: a file or directory others may write (or, as
 * root, owned by another user) is refused like the config refuses it, whichever paths are
 * given.
 */
function loadTrusted(paths: string[]) {
  let root = false;
  try {
    root = Deno.uid() === 0;
  } catch {
    // Without --allow-sys=uid only the mode is judged.
  }
  return loadRules(paths, { unsafe: (path, st) => unsafeStat(path, st, root) });
}

/** The rule directories of the config: rules_dir and extra_rules_dirs. */
export async function configRuleDirs(values: Values): Promise<string[]> {
  const lp = (await loadOrFail(values)).config.log_pipeline;
  return [lp.rules_dir, ...lp.extra_rules_dirs];
}

async function listRules(values: Values): Promise<number> {
  const { rules, correlations, errors } = await loadTrusted(await configRuleDirs(values));
  for (const e of errors) err(e.format());
  const rows = [
    ...rules.map((r) => ({
      id: r.id ?? "",
      title: r.title,
      level: r.severity,
      kind: "rule",
      logsource: r.logsource,
      file: r.file,
    })),
    ...correlations.map((c) => ({
      id: c.id ?? "",
      title: c.title,
      level: c.severity,
      kind: c.type,
      logsource: {},
      file: c.file,
    })),
  ];
  if (values.json) out(JSON.stringify(rows, null, 2));
  else {
    out(table(
      ["ID", "LEVEL", "KIND", "LOGSOURCE", "TITLE"],
      rows.map((r) => [r.id, r.level, r.kind, Object.values(r.logsource).join("/"), r.title]),
    ));
  }
  return errors.length > 0 ? 1 : 0;
}

async function validateRules(paths: string[], values: Values): Promise<number> {
  const format = typeof values.format === "string" ? values.format : "human";
  if (!["human", "json", "github", "sarif"].includes(format)) {
    throw new UsageError(`--format must be human, json, github or sarif, got "${format}"`, "rules");
  }
  const targets = paths.length > 0 ? paths : await configRuleDirs(values);
  const { rules, correlations, errors } = await loadTrusted(targets);
  if (format === "json") {
    out(
      JSON.stringify(
        {
          valid: errors.length === 0,
          rules: rules.length,
          correlations: correlations.length,
          errors: errors.map(errorJson),
        },
        null,
        2,
      ),
    );
  } else if (format === "github") {
    for (const e of errors) {
      out(
        `::error file=${e.file},line=${e.line || 1},col=${
          e.col || 1
        },title=${e.code}::${e.message}`,
      );
    }
  } else if (format === "sarif") {
    out(JSON.stringify(sarif(errors), null, 2));
  } else {
    for (const e of errors) err(e.format());
    out(
      `${rules.length} rule(s), ${correlations.length} correlation(s), ${errors.length} error(s)`,
    );
  }
  return errors.length > 0 ? 1 : 0;
}

function errorJson(e: RuleError) {
  return { code: e.code, file: e.file, line: e.line, col: e.col, message: e.message };
}

/** SARIF 2.1.0, the format code-scanning UIs read. */
function sarif(errors: RuleError[]) {
  return {
    version: "2.1.0",
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    runs: [{
      tool: {
        driver: {
          name: "ironpost rules validate",
          informationUri: "https://github.com/SigmaHQ/sigma-specification",
          rules: [...new Set(errors.map((e) => e.code))].map((id) => ({ id })),
        },
      },
      results: errors.map((e) => ({
        ruleId: e.code,
        level: "error",
        message: { text: e.message },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: e.file },
            region: { startLine: e.line || 1, startColumn: e.col || 1 },
          },
        }],
      })),
    }],
  };
}

/**
 * Replay a log file or a recorded event stream through rules offline and print the alerts
 * the agent would raise. `--expect N` makes the exit code say whether exactly N were raised.
 */
async function testRules(paths: string[], values: Values): Promise<number> {
  if (paths.length === 0) {
    throw new UsageError("rules test needs a rule file or directory", "rules");
  }
  const input = values.input;
  if (typeof input !== "string") throw new UsageError("rules test needs --input FILE", "rules");
  const source =
    (typeof values.source === "string" ? values.source : "syslog") as (typeof SOURCES)[number];
  if (!SOURCES.includes(source)) {
    throw new UsageError(`--source must be one of ${SOURCES.join(", ")}, got "${source}"`, "rules");
  }
  const { rules, correlations, errors } = await loadTrusted(paths);
  if (errors.length > 0) {
    for (const e of errors) err(e.format());
    return 1;
  }
  const suppress = Number(values.suppress ?? 60);
  if (!Number.isInteger(suppress) || suppress < 0) {
    throw new UsageError("--suppress must be a number of seconds (0: no suppression)", "rules");
  }
  // The agent's defaults (log_pipeline.suppress_window_secs, correlation_max_groups).
  const pipeline = new Pipeline(rules, correlations, {
    suppressWindowSecs: suppress,
    correlationMaxGroups: 100_000,
  });
  const alerts: AlertEvent[] = [];
  const parser = source === "events-ndjson"
    ? undefined
    : new LineParser({ source: source as LineFormat, origin: `replay:${input}` });
  let lineNo = 0;
  for await (const line of readLines(input)) {
    lineNo++;
    if (line === "") continue;
    if (parser) {
      for (const ev of parser.push(line)) alerts.push(...pipeline.evaluate(ev));
      continue;
    }
    let e: IronpostEvent;
    try {
      e = JSON.parse(line);
    } catch {
      throw new IronpostError(
        "E_INPUT",
        `${input}:${lineNo}: not a JSON event (expected one event a line, as \`ironpost trace --json\` records)`,
      );
    }
    if (e.kind === "packet") alerts.push(...pipeline.evaluate(packetToLog(e as PacketEvent)));
    else if (e.kind === "host") alerts.push(...pipeline.evaluate(hostToLog(e as HostEvent)));
  }
  for (const ev of parser?.flush() ?? []) alerts.push(...pipeline.evaluate(ev));
  alerts.push(...pipeline.flush());
  if (values.json) out(JSON.stringify(alerts, null, 2));
  else {
    for (const a of alerts) {
      out(
        `${a.ts} ${a.severity.toUpperCase().padEnd(8)} ${a.title}${
          a.srcIp ? ` src=${a.srcIp}` : ""
        }${a.user ? ` user=${a.user}` : ""}`,
      );
    }
    const s = pipeline.stats();
    out(
      `${alerts.length} alert(s) from ${s.events} event(s), ${s.matches} rule match(es), ${pipeline.ruleCount} rule(s)`,
    );
  }
  if (values.expect !== undefined) {
    const want = Number(values.expect);
    if (alerts.length !== want) {
      err(`expected ${want} alert(s), got ${alerts.length}`);
      return 1;
    }
  }
  return 0;
}

/** The lines of a file, streamed (replays can be large). */
async function* readLines(path: string): AsyncGenerator<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new IronpostError(
      "E_INPUT",
      `cannot read --input ${path}: ${errorMessage(e)}`,
    );
  }
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of file.readable) {
    rest += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
  rest += decoder.decode();
  if (rest) yield rest;
}
