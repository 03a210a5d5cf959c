/**
 * Syslog headers: RFC 5424, RFC 3164 and the classic file format (`/var/log/auth.log`, an
 * RFC 3164 line without its `<PRI>`), plus the RFC 3339 variant rsyslog writes to files.
 * @module
 */
import type { Fields, ParsedLine } from "./event.ts";
import { toInt } from "./event.ts";
import {
  type ClockOptions,
  isoOrUndefined,
  monthIndex,
  parseIsoTimestamp,
  referenceMs,
  wallClockToUtc,
  yearlessToUtc,
} from "./timestamp.ts";

/** Facility names by code (RFC 5424 table 1, with the names syslog daemons use). */
export const FACILITY_NAMES: readonly string[] = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "authpriv",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "clock",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];

/** Severity names by code (RFC 5424 table 2). */
export const SEVERITY_NAMES: readonly string[] = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
];

/** `<PRI>` split into the fields events expose; undefined when out of range. */
export function priorityFields(pri: number): Fields | undefined {
  if (!Number.isInteger(pri) || pri < 0 || pri > 191) return undefined;
  return {
    priority: pri,
    facility: FACILITY_NAMES[pri >> 3],
    severity: SEVERITY_NAMES[pri & 7],
  };
}

/**
 * Parse a syslog line of any of the supported shapes: `<PRI>1 …` is RFC 5424, `<PRI>Mmm dd
 * …` RFC 3164, and a line without `<PRI>` the classic file format. Returns the reason as a
 * string when the line has no recognisable header; never throws.
 *
 * Messages are trimmed: syslog daemons keep the padding some programs add (PAM's trailing
 * space, the kernel's indentation), which no rule means to match.
 *
 * @example
 * ```ts
 * import { parseSyslog } from "./syslog.ts";
 * const p = parseSyslog("<38>Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 10.0.0.1", {
 *   referenceTime: Date.UTC(2024, 11, 20),
 *   timeZone: "UTC",
 * });
 * console.assert(typeof p !== "string" && p.ts === "2024-12-10T06:55:46.000Z");
 * console.assert(typeof p !== "string" && p.program === "sshd" && p.pid === 24200);
 * console.assert(typeof p !== "string" && p.fields.facility === "auth");
 * ```
 */
export function parseSyslog(line: string, opts: ClockOptions = {}): ParsedLine | string {
  if (line.charCodeAt(0) !== 0x3c /* < */) return parseClassic(line, {}, opts);
  const close = line.indexOf(">");
  if (close < 2 || close > 4) return "malformed syslog PRI";
  const priText = line.slice(1, close);
  if (!/^\d+$/.test(priText)) return "malformed syslog PRI";
  const fields = priorityFields(Number(priText));
  if (!fields) return `syslog PRI out of range: ${priText}`;
  const body = line.slice(close + 1);
  if (body.startsWith("1 ")) return parseRfc5424Body(body.slice(2), fields, opts);
  return parseClassic(body, fields, opts);
}

// "Mmm dd hh:mm:ss", optionally with fractional seconds (rsyslog) or a year before the
// time (some network devices), then the separating space(s).
const CLASSIC_TS_RE =
  /^([A-Za-z]{3}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: +|$)/;
// The ISO timestamp rsyslog's RSYSLOG_FileFormat (Debian 12+ default) writes instead.
const ISO_TS_RE = /^\d{4}-\d{2}-\d{2}T[^ ]+(?: +|$)/;
// TAG[PID]: — the usual shape; the tag has no space, colon or bracket.
const TAG_RE = /^([^\s[\]:]{1,64})(?:\[(\d{1,10})\])?:(?: +|$)/;
// A tag of at most two words, for the few programs that log one: sysklogd's
// "syslogd 1.4.1: restart." and login's "-- root[2421]: ROOT LOGIN ON tty2".
const SPACED_TAG_RE = /^([^\s[\]:]+ [^\s[\]:]+)(?:\[(\d{1,10})\])?:(?: +|$)/;

/**
 * The RFC 3164 part after `<PRI>`, which is also the whole line in log files:
 * `Mmm dd hh:mm:ss host tag[pid]: message`. The year comes from the reference time.
 */
function parseClassic(body: string, fields: Fields, opts: ClockOptions): ParsedLine | string {
  let ms: number | undefined;
  let rest: string;
  const m = CLASSIC_TS_RE.exec(body);
  if (m) {
    const month = monthIndex(m[1]);
    if (month === undefined) return `unknown month: ${m[1]}`;
    const fraction = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
    const [day, hour, minute, second] = [m[2], m[4], m[5], m[6]].map(Number);
    if (m[3]) {
      if (hour > 23 || minute > 59 || second > 60 || day < 1 || day > 31) {
        return "invalid syslog timestamp";
      }
      const year = Number(m[3]);
      ms = wallClockToUtc(
        year,
        month,
        day,
        hour,
        minute,
        Math.min(second, 59),
        fraction,
        opts.timeZone,
      );
    } else {
      ms = yearlessToUtc(month, day, hour, minute, second, fraction, opts);
    }
    rest = body.slice(m[0].length);
  } else {
    const iso = ISO_TS_RE.exec(body);
    if (!iso) return "no syslog timestamp";
    ms = parseIsoTimestamp(iso[0].trimEnd(), opts.timeZone);
    rest = body.slice(iso[0].length);
  }
  const ts = ms === undefined ? undefined : isoOrUndefined(ms);
  if (ts === undefined) return "invalid syslog timestamp";

  let host: string | undefined;
  const sp = rest.indexOf(" ");
  const first = sp < 0 ? rest : rest.slice(0, sp);
  // A sender that leaves out the host (allowed by RFC 3164) puts the tag right after the
  // time; a tag ends in ":" where a host name does not.
  if (first !== "" && !TAG_RE.test(first + " ")) {
    host = first;
    rest = sp < 0 ? "" : rest.slice(sp + 1).trimStart();
  }
  const tag = TAG_RE.exec(rest) ?? SPACED_TAG_RE.exec(rest);
  const out: ParsedLine = { ts, message: rest.trim(), fields };
  if (host !== undefined) out.host = host;
  if (tag) {
    out.program = tag[1];
    const pid = toInt(tag[2]);
    if (pid !== undefined) out.pid = pid;
    out.message = rest.slice(tag[0].length).trim();
  }
  return out;
}

/**
 * The RFC 5424 part after `<PRI>1 `: `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`.
 * Structured data params become fields named `SD-ID.PARAM`; `-` is nil; a BOM before the
 * message is dropped.
 */
function parseRfc5424Body(body: string, fields: Fields, opts: ClockOptions): ParsedLine | string {
  let pos = 0;
  const header: string[] = [];
  for (let i = 0; i < 5; i++) {
    const sp = body.indexOf(" ", pos);
    if (sp < 0) return "truncated RFC 5424 header";
    header.push(body.slice(pos, sp));
    pos = sp + 1;
  }
  const [tsText, hostText, app, procid, msgid] = header;
  let ts: string | undefined;
  if (tsText === "-") {
    // Nil timestamp: the receiver's time is the best there is.
    ts = new Date(referenceMs(opts)).toISOString();
  } else {
    const ms = parseIsoTimestamp(tsText, opts.timeZone);
    ts = ms === undefined ? undefined : isoOrUndefined(ms);
    if (ts === undefined) return `invalid RFC 5424 timestamp: ${tsText.slice(0, 40)}`;
  }
  if (body[pos] === "-") {
    pos++;
  } else if (body[pos] === "[") {
    const end = parseStructuredData(body, pos, fields);
    if (typeof end === "string") return end;
    pos = end;
  } else {
    return "malformed RFC 5424 structured data";
  }
  if (pos < body.length && body[pos] !== " ") return "malformed RFC 5424 structured data";
  let message = body.slice(pos + 1);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);

  const out: ParsedLine = { ts, message: message.trim(), fields };
  if (hostText !== "-") out.host = hostText;
  if (app !== "-") out.program = app;
  if (procid !== "-") {
    const pid = toInt(procid);
    if (pid !== undefined) out.pid = pid;
    else fields.procid = procid;
  }
  if (msgid !== "-") fields.msgid = msgid;
  return out;
}

/**
 * Read `[id name="value" …]…` from `pos` into `fields` as `id.name`. Inside values `\"`,
 * `\\` and `\]` are escapes; any other backslash is kept, as RFC 5424 §6.3.3 says. A param
 * given twice keeps both values, comma-joined. Returns the position after the last element.
 */
export function parseStructuredData(text: string, pos: number, fields: Fields): number | string {
  while (text[pos] === "[") {
    pos++;
    const idEnd = scanName(text, pos);
    if (idEnd === pos) return "malformed RFC 5424 SD-ID";
    const id = text.slice(pos, idEnd);
    pos = idEnd;
    while (text[pos] === " ") {
      pos++;
      const nameEnd = scanName(text, pos);
      if (nameEnd === pos || text[nameEnd] !== "=" || text[nameEnd + 1] !== '"') {
        return `malformed RFC 5424 param in [${id}]`;
      }
      const name = text.slice(pos, nameEnd);
      pos = nameEnd + 2;
      let value = "";
      for (;;) {
        if (pos >= text.length) return `unterminated RFC 5424 param value in [${id}]`;
        const c = text[pos];
        if (c === '"') break;
        if (
          c === "\\" && (text[pos + 1] === '"' || text[pos + 1] === "\\" || text[pos + 1] === "]")
        ) {
          value += text[pos + 1];
          pos += 2;
        } else {
          value += c;
          pos++;
        }
      }
      pos++;
      const key = `${id}.${name}`;
      const prev = fields[key];
      fields[key] = typeof prev === "string" ? `${prev},${value}` : value;
    }
    if (text[pos] !== "]") return `malformed RFC 5424 structured data in [${id}]`;
    pos++;
  }
  return pos;
}

/** End of an SD-NAME: printable US-ASCII except `=`, space, `]` and `"`. */
function scanName(text: string, pos: number): number {
  let end = pos;
  while (end < text.length && end - pos < 32) {
    const c = text.charCodeAt(end);
    if (c <= 32 || c >= 127 || c === 0x3d || c === 0x5d || c === 0x22) break;
    end++;
  }
  return end;
}
