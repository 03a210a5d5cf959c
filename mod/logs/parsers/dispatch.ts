/**
 * One entry point from a raw line to a `LogEvent`: the format parser for the source, then
 * the program's message parser (sshd, sudo, cron, PAM) and the Sigma logsource it implies.
 * @module
 */
import { errorMessage } from "../../core/mod.ts";
import type { LogEvent, LogSource } from "../log_event.ts";
import { AUDITD_LOGSOURCE, auditEvent, AuditGrouper, parseAuditRecord } from "./audit.ts";
import { parseCronMessage } from "./cron.ts";
import { type Fields, type ParsedLine, parseErrorEvent } from "./event.ts";
import { parseJournalJson, parseJsonLine } from "./json.ts";
import { isPamMessage, parsePamMessage } from "./pam.ts";
import { parseSshdMessage } from "./sshd.ts";
import { parseSudoMessage } from "./sudo.ts";
import { parseSyslog } from "./syslog.ts";
import { type ClockOptions, referenceMs } from "./timestamp.ts";

/**
 * The line formats `parseLine` reads, and the one word a source uses to say what its lines
 * are (`RawLine.format`). `sshd` is syslog whose every line is sshd's.
 */
export type LineFormat = "syslog" | "sshd" | "auditd" | "journal-json" | "json";

/**
 * The format of a log file the config does not name one for, from its first line: Linux
 * audit records (`type=… msg=audit(…)`), else syslog.
 *
 * @example
 * ```ts
 * import { sniffFormat } from "./dispatch.ts";
 * console.assert(sniffFormat("type=EOE msg=audit(1700000000.123:456): ") === "auditd");
 * console.assert(sniffFormat("Jan  1 00:00:00 h sshd[1]: x") === "syslog");
 * ```
 */
export function sniffFormat(firstLine: string): LineFormat {
  return firstLine.startsWith("type=") && firstLine.includes("msg=audit(") ? "auditd" : "syslog";
}

/** Options of `parseLine` and `LineParser`. */
export interface ParseOptions extends ClockOptions {
  /** The format of the lines. */
  source: LineFormat;
  /**
   * `LogEvent.source`: where the line came from (`file:/var/log/auth.log`, `journald`,
   * `syslog-udp`, …). Defaults to `journald` for `journal-json`, `unknown` otherwise.
   */
  origin?: string;
}

/** The program-specific parsers, by the Sigma service they imply. */
type Service = "sshd" | "sudo" | "cron" | "syslog";

const PROGRAM_SERVICES: Record<string, Service> = {
  sshd: "sshd",
  "sshd-session": "sshd", // OpenSSH 9.8+ logs sessions from a separate binary
  "sshd-auth": "sshd",
  sudo: "sudo",
  cron: "cron",
  crond: "cron",
  crontab: "cron",
};

const LEGACY_PAM_RE = /^(.+)\(pam_unix\)$/;

/**
 * The Sigma service a program's lines belong to: `sshd`, `sudo`, `cron`, else `syslog`.
 * The old `sshd(pam_unix)` form counts as its program (`sshd`).
 *
 * @example
 * ```ts
 * import { serviceOf } from "./dispatch.ts";
 * console.assert(serviceOf("CRON") === "cron" && serviceOf("sshd(pam_unix)") === "sshd");
 * console.assert(serviceOf("kernel") === "syslog" && serviceOf(undefined) === "syslog");
 * ```
 */
export function serviceOf(program: string | undefined): Service {
  if (program === undefined) return "syslog";
  const base = LEGACY_PAM_RE.exec(program)?.[1] ?? program;
  return PROGRAM_SERVICES[base.toLowerCase()] ?? "syslog";
}

function logsourceOf(service: Service): LogSource {
  return { product: "linux", service };
}

/**
 * The fields the message parsers find, routed by the message and program: a pam_unix line
 * (prefix `pam_unix(`, or a program of the old form `sshd(pam_unix)`) goes to the PAM
 * parser whatever the program, the rest to the service's parser.
 */
function messageFields(
  message: string,
  program: string | undefined,
  service: Service,
): Fields | undefined {
  if (isPamMessage(message)) return parsePamMessage(message);
  const legacy = program === undefined ? undefined : LEGACY_PAM_RE.exec(program);
  if (legacy) return parsePamMessage(message, legacy[1]);
  switch (service) {
    case "sshd":
      return parseSshdMessage(message);
    case "sudo":
      return parseSudoMessage(message);
    case "cron":
      return parseCronMessage(message);
    default:
      return undefined;
  }
}

function defaultOrigin(format: LineFormat): string {
  return format === "journal-json" ? "journald" : "unknown";
}

/** A parsed header plus what its program's parser adds, as a `LogEvent`. */
function toEvent(p: ParsedLine, raw: string, origin: string, forced?: Service): LogEvent {
  const service = forced ?? serviceOf(p.program);
  const extra = messageFields(p.message, p.program, service);
  const event: LogEvent = {
    source: origin,
    logsource: logsourceOf(service),
    ts: p.ts,
    message: p.message,
    fields: extra ? { ...p.fields, ...extra } : p.fields,
    raw,
  };
  if (p.host !== undefined) event.host = p.host;
  if (p.program !== undefined) event.program = p.program;
  if (p.pid !== undefined) event.pid = p.pid;
  return event;
}

function parseUnsafe(line: string, opts: ParseOptions): LogEvent {
  const origin = opts.origin ?? defaultOrigin(opts.source);
  const now = () => new Date(referenceMs(opts)).toISOString();
  switch (opts.source) {
    case "syslog":
    case "sshd": {
      const forced = opts.source === "sshd" ? "sshd" : undefined;
      const p = parseSyslog(line, opts);
      if (typeof p !== "string") return toEvent(p, line, origin, forced);
      // sshd's own stderr (`sshd -D -e`) has no syslog header; the message is the line.
      if (forced) {
        const bare: ParsedLine = { ts: now(), message: line.trim(), fields: {} };
        const event = toEvent(bare, line, origin, forced);
        if (Object.keys(event.fields).length > 0) return event;
      }
      return parseErrorEvent(line, p, origin, logsourceOf(forced ?? "syslog"), now());
    }
    case "auditd": {
      const record = parseAuditRecord(line);
      if (typeof record === "string") {
        return parseErrorEvent(line, record, origin, { ...AUDITD_LOGSOURCE }, now());
      }
      return auditEvent([record], { source: origin });
    }
    case "journal-json":
    case "json": {
      const p = opts.source === "json" ? parseJsonLine(line, opts) : parseJournalJson(line, opts);
      if (typeof p === "string") {
        return parseErrorEvent(line, p, origin, logsourceOf("syslog"), now());
      }
      return toEvent(p, line, origin);
    }
    default:
      return parseErrorEvent(
        line,
        `unknown log format: ${String(opts.source)}`,
        origin,
        logsourceOf("syslog"),
        now(),
      );
  }
}

/**
 * Parse one line into a `LogEvent`. Never throws: a line that cannot be parsed becomes an
 * event whose message is the whole line and whose `fields.parse_error` says why, timed at
 * the reference time. `auditd` lines parse one record each; use `LineParser` (or
 * `AuditGrouper`) to group an event's records.
 *
 * @example
 * ```ts
 * import { parseLine } from "./dispatch.ts";
 * const e = parseLine(
 *   "Dec 31 23:59:59 bastion sshd[811]: Accepted publickey for deploy from 198.51.100.7 port 50022 ssh2",
 *   { source: "syslog", referenceTime: Date.UTC(2025, 0, 1, 0, 0, 10), timeZone: "UTC", origin: "file:/var/log/auth.log" },
 * );
 * console.assert(e.ts === "2024-12-31T23:59:59.000Z" && e.logsource.service === "sshd");
 * console.assert(e.fields.EventType === "accepted" && e.fields.AuthMethod === "publickey");
 * ```
 */
export function parseLine(line: string, opts: ParseOptions): LogEvent {
  try {
    return parseUnsafe(line, opts);
  } catch (err) {
    // A parser bug must cost one line, not the source.
    const origin = opts.origin ?? defaultOrigin(opts.source);
    let ts: string;
    try {
      ts = new Date(referenceMs(opts)).toISOString();
    } catch {
      ts = new Date().toISOString();
    }
    const reason = `parser error: ${errorMessage(err)}`;
    const logsource = opts.source === "auditd"
      ? { ...AUDITD_LOGSOURCE }
      : logsourceOf(opts.source === "sshd" ? "sshd" : "syslog");
    return parseErrorEvent(line, reason, origin, logsource, ts);
  }
}

/**
 * Streaming parser for one source: `push` each line, get the events it completed. For
 * `auditd` records are grouped into events (see `AuditGrouper`), so call `flush()` at the
 * end of input or when the source goes quiet; for the other formats each line is one event.
 *
 * @example
 * ```ts
 * import { LineParser } from "./dispatch.ts";
 * const p = new LineParser({ source: "auditd" });
 * p.push('type=SYSCALL msg=audit(1700000000.123:456): syscall=59 pid=7 comm="id"');
 * p.push('type=EXECVE msg=audit(1700000000.123:456): argc=1 a0="id"');
 * const [e] = p.push("type=EOE msg=audit(1700000000.123:456): ");
 * console.assert(e.fields.CommandLine === "id" && e.fields.record_types === "SYSCALL,EXECVE");
 * ```
 */
export class LineParser {
  readonly #opts: ParseOptions;
  readonly #audit: AuditGrouper | undefined;

  constructor(opts: ParseOptions) {
    this.#opts = opts;
    if (opts.source === "auditd") {
      this.#audit = new AuditGrouper({
        ...opts,
        source: opts.origin ?? defaultOrigin(opts.source),
      });
    }
  }

  /** Feed one line; returns the events it completed. Never throws. */
  push(line: string): LogEvent[] {
    if (!this.#audit) return [parseLine(line, this.#opts)];
    try {
      return this.#audit.push(line);
    } catch {
      return [parseLine(line, this.#opts)];
    }
  }

  /** Emit whatever is still being assembled (audit events awaiting their last record). */
  flush(): LogEvent[] {
    return this.#audit ? this.#audit.flush() : [];
  }
}
