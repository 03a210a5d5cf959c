/**
 * JSON lines: journald's export (`journalctl --output=json`) and the generic one-object-
 * per-line logs applications write.
 * @module
 */
import type { Fields, ParsedLine } from "./event.ts";
import { toInt } from "./event.ts";
import { FACILITY_NAMES, SEVERITY_NAMES } from "./syslog.ts";
import { type ClockOptions, isoOrUndefined, parseIsoTimestamp, referenceMs } from "./timestamp.ts";

const utf8 = new TextDecoder();

/** How deep `journalValue` follows arrays in arrays. */
const MAX_ARRAY_DEPTH = 32;

function parseObject(line: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "invalid JSON";
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "not a JSON object";
  }
  return value as Record<string, unknown>;
}

function isByteArray(v: unknown[]): v is number[] {
  return v.every((b) => typeof b === "number" && Number.isInteger(b) && b >= 0 && b <= 255);
}

/**
 * A journal field as text. journalctl writes a field that is not valid UTF-8 (or has
 * control bytes) as an array of byte values, a field given more than once as an array of
 * its values, and a field too large to show as null.
 */
export function journalValue(v: unknown, depth = 0): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  // journalctl nests at most an array of byte arrays; a line of 200,000 nested `[` overflowed
  // the stack here (RangeError out of the parser), so deeper arrays read as absent.
  if (Array.isArray(v) && depth < MAX_ARRAY_DEPTH) {
    if (v.length > 0 && isByteArray(v)) return utf8.decode(new Uint8Array(v));
    const parts = v.map((x) => journalValue(x, depth + 1)).filter((p) => p !== undefined);
    return parts.length > 0 ? parts.join("\n") : undefined;
  }
  return undefined;
}

/**
 * Parse one line of `journalctl --output=json`: `__REALTIME_TIMESTAMP` (µs) is the time,
 * `_HOSTNAME` the host, `SYSLOG_IDENTIFIER` (else `_COMM`) the program, `SYSLOG_PID` (else
 * `_PID`) the pid, `MESSAGE` the message, string or byte array. Every other journal field
 * is kept under its own name, and `PRIORITY`/`SYSLOG_FACILITY` also as `severity`/`facility`
 * names as for syslog. Returns the reason as a string when the line is not a JSON object.
 *
 * @example
 * ```ts
 * import { parseJournalJson } from "./json.ts";
 * const p = parseJournalJson(JSON.stringify({
 *   __REALTIME_TIMESTAMP: "1700000000123456", _HOSTNAME: "web1", SYSLOG_IDENTIFIER: "sshd",
 *   _PID: "812", PRIORITY: "6", MESSAGE: [104, 105],
 * }));
 * console.assert(typeof p !== "string" && p.message === "hi" && p.pid === 812);
 * console.assert(typeof p !== "string" && p.ts === "2023-11-14T22:13:20.123Z");
 * console.assert(typeof p !== "string" && p.fields.severity === "info");
 * ```
 */
export function parseJournalJson(line: string, opts: ClockOptions = {}): ParsedLine | string {
  const obj = parseObject(line);
  if (typeof obj === "string") return obj;
  const fields: Fields = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "MESSAGE" || k === "__proto__") continue;
    const text = journalValue(v);
    if (text !== undefined) fields[k] = text;
  }
  const us = journalValue(obj.__REALTIME_TIMESTAMP) ?? journalValue(obj._SOURCE_REALTIME_TIMESTAMP);
  let ms = us !== undefined && /^\d{1,19}$/.test(us) ? Math.floor(Number(us) / 1000) : undefined;
  if (ms === undefined || isoOrUndefined(ms) === undefined) ms = referenceMs(opts);
  const out: ParsedLine = {
    ts: new Date(ms).toISOString(),
    message: (journalValue(obj.MESSAGE) ?? "").trim(),
    fields,
  };
  const host = journalValue(obj._HOSTNAME);
  if (host) out.host = host;
  const program = journalValue(obj.SYSLOG_IDENTIFIER) ?? journalValue(obj._COMM);
  if (program) out.program = program;
  const pid = toInt(journalValue(obj.SYSLOG_PID) ?? journalValue(obj._PID));
  if (pid !== undefined) out.pid = pid;
  const severity = toInt(journalValue(obj.PRIORITY));
  if (severity !== undefined && severity < 8) fields.severity = SEVERITY_NAMES[severity];
  const facility = toInt(journalValue(obj.SYSLOG_FACILITY));
  if (facility !== undefined && facility < 24) fields.facility = FACILITY_NAMES[facility];
  return out;
}

const TIME_KEYS = ["ts", "timestamp", "time", "@timestamp"];
const MESSAGE_KEYS = ["message", "msg"];
const HOST_KEYS = ["host", "hostname"];
const PROGRAM_KEYS = ["program", "app", "appname", "ident"];

function first(obj: Record<string, unknown>, keys: string[]): [string, unknown] | undefined {
  for (const k of keys) if (Object.hasOwn(obj, k) && obj[k] !== null) return [k, obj[k]];
  return undefined;
}

/** Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by size. */
function epochMs(n: number): number {
  const abs = Math.abs(n);
  if (abs < 1e11) return n * 1000;
  if (abs < 1e14) return n;
  if (abs < 1e17) return n / 1e3;
  return n / 1e6;
}

function timeOf(v: unknown, timeZone?: string): number | undefined {
  let ms: number | undefined;
  if (typeof v === "number" && Number.isFinite(v)) ms = epochMs(v);
  else if (typeof v === "string") {
    ms = /^\d+(\.\d+)?$/.test(v) ? epochMs(Number(v)) : parseIsoTimestamp(v, timeZone);
    if (ms === undefined) {
      const parsed = Date.parse(v);
      if (!Number.isNaN(parsed)) ms = parsed;
    }
  }
  return ms !== undefined && isoOrUndefined(Math.floor(ms)) !== undefined
    ? Math.floor(ms)
    : undefined;
}

/** Nested objects as dotted keys, arrays as JSON text: `fields` holds scalars only. */
function flatten(prefix: string, v: unknown, out: Fields, depth: number): void {
  if (prefix === "__proto__" || prefix.endsWith(".__proto__")) return;
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
    out[prefix] = v;
  } else if (typeof v === "object" && !Array.isArray(v) && depth < 4) {
    for (const [k, inner] of Object.entries(v)) flatten(`${prefix}.${k}`, inner, out, depth + 1);
  } else {
    out[prefix] = JSON.stringify(v) ?? null;
  }
}

/**
 * Parse a generic JSON log line: the time from `ts`, `timestamp`, `time` or `@timestamp`
 * (RFC 3339 text or epoch seconds/ms/µs/ns; the reference time when absent), the message
 * from `message` or `msg` (the whole line when absent), host from `host`/`hostname`,
 * program from `program`/`app`/`appname`/`ident`, `pid`. Other keys become fields, nested
 * objects with dotted names. Returns the reason as a string when the line is not a JSON
 * object.
 *
 * @example
 * ```ts
 * import { parseJsonLine } from "./json.ts";
 * const p = parseJsonLine('{"ts":"2024-05-01T10:00:00+02:00","msg":"login ok","user":{"name":"bob"}}');
 * console.assert(typeof p !== "string" && p.ts === "2024-05-01T08:00:00.000Z");
 * console.assert(typeof p !== "string" && p.message === "login ok" && p.fields["user.name"] === "bob");
 * ```
 */
export function parseJsonLine(line: string, opts: ClockOptions = {}): ParsedLine | string {
  const obj = parseObject(line);
  if (typeof obj === "string") return obj;
  const time = first(obj, TIME_KEYS);
  const message = first(obj, MESSAGE_KEYS);
  const fields: Fields = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k !== time?.[0] && k !== message?.[0]) flatten(k, v, fields, 0);
  }
  let ms = time ? timeOf(time[1], opts.timeZone) : undefined;
  if (ms === undefined) {
    if (time) fields.ts_unparsed = String(JSON.stringify(time[1]));
    ms = referenceMs(opts);
  }
  const msgValue = message?.[1];
  const out: ParsedLine = {
    ts: new Date(ms).toISOString(),
    message: typeof msgValue === "string"
      ? msgValue.trim()
      : msgValue === undefined
      ? line.trim()
      : JSON.stringify(msgValue),
    fields,
  };
  const host = first(obj, HOST_KEYS)?.[1];
  if (typeof host === "string" && host) out.host = host;
  const program = first(obj, PROGRAM_KEYS)?.[1];
  if (typeof program === "string" && program) out.program = program;
  const pid = obj.pid;
  if (typeof pid === "number" && Number.isInteger(pid) && pid >= 0) out.pid = pid;
  else if (typeof pid === "string" && toInt(pid) !== undefined) out.pid = toInt(pid);
  return out;
}
