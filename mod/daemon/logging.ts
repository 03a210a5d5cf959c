import {
  configure,
  getLogger,
  type Logger,
  type LogLevel as TapeLevel,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import { dirname } from "node:path";
import { redact, redactText } from "../core/mod.ts";
import type { LogFormat, LogLevel } from "../config/mod.ts";

const TAPE_LEVEL: Record<LogLevel, TapeLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
};

export interface LogSetup {
  level: LogLevel;
  format: LogFormat;
  /** Append to this file (created 0640) instead of stderr. */
  file?: string;
}

let output: Deno.FsFile | undefined;
let outputPath: string | undefined;

/**
 * (Re)configure logging. Called at start and on SIGHUP; the file stays open across calls
 * with the same path so no line is lost during a level change.
 */
export async function setupLogging(setup: LogSetup): Promise<void> {
  if (setup.file && setup.file !== outputPath) {
    await Deno.mkdir(dirname(setup.file), { recursive: true, mode: 0o750 });
    output?.close();
    output = await Deno.open(setup.file, { create: true, append: true, mode: 0o640 });
    outputPath = setup.file;
  }
  const file = setup.file ? output : undefined;
  const encoder = new TextEncoder();
  const format = setup.format === "json" ? jsonLine : prettyLine;
  const sink: Sink = (record) => {
    const bytes = encoder.encode(format(record));
    // Synchronous so the last lines before an exit are never lost in a buffer.
    if (file) file.writeSync(bytes);
    else Deno.stderr.writeSync(bytes);
  };
  await configure({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ["ironpost"], lowestLevel: TAPE_LEVEL[setup.level], sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

/** A logger for one module: `log("daemon").info("started {pid}", { pid })`. */
export function log(module: string): Logger {
  return getLogger(["ironpost", module]);
}

function renderMessage(record: LogRecord): string {
  let s = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    s += i % 2 === 0 ? String(part) : typeof part === "string" ? part : JSON.stringify(part);
  }
  return redactText(s);
}

const JSON_LEVEL: Record<TapeLevel, string> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "fatal",
};

/** One JSON object a line: ts, level, module, msg, and the structured fields. */
function jsonLine(record: LogRecord): string {
  return JSON.stringify({
    ts: new Date(record.timestamp).toISOString(),
    level: JSON_LEVEL[record.level],
    module: record.category.slice(1).join(".") || "ironpost",
    msg: renderMessage(record),
    ...(Object.keys(record.properties).length > 0 ? { fields: redact(record.properties) } : {}),
  }) + "\n";
}

function prettyLine(record: LogRecord): string {
  const ts = new Date(record.timestamp).toISOString().replace("T", " ").replace("Z", "");
  const level = JSON_LEVEL[record.level].toUpperCase().padEnd(5);
  const module = record.category.slice(1).join(".") || "ironpost";
  const props = Object.entries(redact(record.properties))
    .filter(([k]) => !record.rawMessage.includes(`{${k}}`))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${ts} ${level} [${module}] ${renderMessage(record)}${props ? " " + props : ""}\n`;
}
