/**
 * Linux audit records (`type=SYSCALL msg=audit(1700000000.123:456): key=value …`) and the
 * grouping of one event's records (SYSCALL, EXECVE, CWD, PATH, PROCTITLE, …) into one
 * `LogEvent`, as auditd writes them to /var/log/audit/audit.log.
 * @module
 */
import type { LogEvent, LogSource } from "../log_event.ts";
import { type Fields, parseErrorEvent } from "./event.ts";
import { type ClockOptions, referenceMs } from "./timestamp.ts";

/** The logsource of every audit event. */
export const AUDITD_LOGSOURCE: LogSource = { product: "linux", service: "auditd" };

/** One audit record: one line of audit.log. */
export interface AuditRecord {
  /** Record type: `SYSCALL`, `EXECVE`, `PATH`, `USER_LOGIN`, … (a number for unnamed ones). */
  type: string;
  /** Event time, milliseconds since the epoch. */
  timeMs: number;
  /** The event's serial number; all records of one event share it and the time. */
  serial: number;
  /** `node=` of multi-host setups. */
  node?: string;
  /** Key/value pairs, quotes removed and hex-encoded values decoded. */
  fields: Record<string, string>;
  raw: string;
}

const RECORD_RE =
  /^(?:audit: )?(?:node=(\S+) )?type=(\S+) (?:msg=)?audit\((\d{1,12})\.(\d{1,3}):(\d{1,20})\):\s*(.*)$/s;

// Fields auditd hex-encodes (unquoted) when the value has a space, quote or control byte.
const ENCODED = new Set([
  "proctitle",
  "cmd",
  "exe",
  "comm",
  "ocomm",
  "name",
  "cwd",
  "path",
  "data",
  "acct",
  "key",
]);

// Records that describe a SYSCALL's details rather than an event of their own.
const AUXILIARY = new Set(["EXECVE", "CWD", "PATH", "PROCTITLE", "SOCKADDR", "EOE"]);

const HEX_RE = /^(?:[0-9A-Fa-f]{2})+$/;
const ARG_RE = /^a(\d+)(?:\[(\d+)\])?$/;
const utf8 = new TextDecoder();

function hexDecode(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return utf8.decode(bytes);
}

/**
 * Split `key=value key="quoted" msg='nested …'` into pairs. `quoted` says whether the value
 * was in double quotes (a quoted value is never hex). Words without `=` (an AVC's
 * `avc:  denied  { read } for`) are skipped; the enriched format's `\x1d` separator is
 * whitespace.
 */
function tokenize(text: string, out: [string, string, boolean][]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && (text[i] === " " || text[i] === "\x1d")) i++;
    let j = i;
    while (j < n && text[j] !== "=" && text[j] !== " " && text[j] !== "\x1d") j++;
    if (j >= n || text[j] !== "=") {
      i = j + 1;
      continue;
    }
    const key = text.slice(i, j);
    j++;
    const q = text[j];
    if (q === '"' || q === "'") {
      let end = text.indexOf(q, j + 1);
      if (end < 0) end = n;
      const value = text.slice(j + 1, end);
      // USER_* records nest their details as msg='op=… acct="root" res=success'.
      if (q === "'" && key === "msg") tokenize(value, out);
      else out.push([key, value, q === '"']);
      i = end + 1;
    } else {
      let end = j;
      while (end < n && text[end] !== " " && text[end] !== "\x1d") end++;
      out.push([key, text.slice(j, end), false]);
      i = end;
    }
  }
}

/**
 * Parse one audit record. Values lose their quotes; the values auditd hex-encodes (`exe`,
 * `comm`, `proctitle`, `name`, EXECVE arguments, …) are decoded when unquoted, all hex and
 * of even length, with the NULs between `proctitle`'s arguments as spaces. An EXECVE
 * argument split into `aN[0]`, `aN[1]`, … is joined into `aN`. Returns the reason as a
 * string when the line is not an audit record.
 *
 * @example
 * ```ts
 * import { parseAuditRecord } from "./audit.ts";
 * const r = parseAuditRecord('type=PROCTITLE msg=audit(1700000000.123:456): proctitle=2F62696E2F7368002D63006964');
 * console.assert(typeof r !== "string" && r.serial === 456);
 * console.assert(typeof r !== "string" && r.fields.proctitle === "/bin/sh -c id");
 * ```
 */
export function parseAuditRecord(line: string): AuditRecord | string {
  const m = RECORD_RE.exec(line.trimEnd());
  if (!m) return "not an audit record";
  const timeMs = Number(m[3]) * 1000 + Number(m[4].padEnd(3, "0"));
  const record: AuditRecord = {
    type: m[2],
    timeMs,
    serial: Number(m[5]),
    fields: {},
    raw: line,
  };
  if (m[1] !== undefined) record.node = m[1];
  const pairs: [string, string, boolean][] = [];
  tokenize(m[6], pairs);
  const execve = record.type === "EXECVE";
  const chunks = new Map<number, string[]>();
  const f = record.fields;
  for (const [key, value, quoted] of pairs) {
    if (key === "" || key === "__proto__") continue;
    if (execve) {
      const arg = ARG_RE.exec(key);
      if (arg && arg[2] !== undefined) {
        // A long argument: aN_len=… aN[0]=hex aN[1]=hex …, always hex.
        const list = chunks.get(Number(arg[1])) ?? [];
        list[Number(arg[2])] = value;
        chunks.set(Number(arg[1]), list);
        continue;
      }
      if (arg) {
        f[key] = !quoted && HEX_RE.test(value) ? hexDecode(value) : value;
        continue;
      }
    }
    if (!quoted && ENCODED.has(key) && HEX_RE.test(value)) {
      let text = hexDecode(value);
      if (key === "proctitle") text = trimNuls(text).replaceAll("\0", " ");
      else if (key === "key") text = text.replaceAll("\x01", ",");
      f[key] = text;
    } else if (!Object.hasOwn(f, key)) {
      f[key] = value;
    }
  }
  for (const [index, parts] of chunks) {
    const hex = parts.join("");
    f[`a${index}`] = HEX_RE.test(hex) ? hexDecode(hex) : hex;
  }
  const avc = avcDecision(m[6]);
  if (avc) {
    f.seresult = avc[0];
    f.seperms = avc[1].trim();
  }
  return record;
}

/**
 * `text` without its trailing NULs. (Was `replace(/\0+$/, "")`, which retries from every NUL
 * of a run that does not end the text: a proctitle of 100,000 hex-encoded NULs and one other
 * byte took 3.8 s.)
 */
function trimNuls(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return text.slice(0, end);
}

const AVC_HEAD_RE = /avc:\s+(denied|granted)\s+\{ /g;

/**
 * What `/avc:\s+(denied|granted)\s+\{ ([^}]*) \}/` finds (the decision and the permissions),
 * in linear time. That regex read from every `avc: denied { ` to the next `}`, so a record
 * of many of them and no `}` was quadratic (1.2 s for 200 kB, a minute for 1 MB); here the
 * position of the next `}` is found once and shared by the candidates before it.
 */
function avcDecision(text: string): [string, string] | undefined {
  AVC_HEAD_RE.lastIndex = 0;
  let close = -1;
  for (let m; (m = AVC_HEAD_RE.exec(text));) {
    const from = m.index + m[0].length;
    if (close < from) close = text.indexOf("}", from);
    if (close < 0) return undefined;
    // `([^}]*) \}`: the first `}` after the brace, preceded by a space of its own.
    if (close > from && text[close - 1] === " ") return [m[1], text.slice(from, close - 1)];
  }
  return undefined;
}

/** Options for turning audit records into events. */
export interface AuditEventOptions {
  /** `LogEvent.source`; defaults to `file:/var/log/audit/audit.log`. */
  source?: string;
}

/**
 * One `LogEvent` from the records of one audit event. Its `type` is the SYSCALL record's
 * (else the first record's) and `record_types` lists every type, comma-separated. Fields
 * of all records are merged, the primary record's first; among PATH records the first that
 * is not a `PARENT` directory wins. EXECVE arguments become `a0`, `a1`, … (the SYSCALL's
 * register arguments then move to `syscall_a0`…`syscall_a3`), `argc` and `CommandLine`;
 * without EXECVE a PROCTITLE gives `CommandLine`. `message` and `raw` are the records'
 * lines.
 *
 * @example
 * ```ts
 * import { auditEvent, parseAuditRecord } from "./audit.ts";
 * const lines = [
 *   'type=SYSCALL msg=audit(1700000000.123:456): syscall=59 success=yes pid=4242 comm="id" exe="/usr/bin/id" key="exec"',
 *   'type=EXECVE msg=audit(1700000000.123:456): argc=2 a0="id" a1="-u"',
 * ];
 * const records = lines.map(parseAuditRecord).filter((r) => typeof r !== "string");
 * const e = auditEvent(records);
 * console.assert(e.fields.type === "SYSCALL" && e.fields.CommandLine === "id -u");
 * console.assert(e.pid === 4242 && e.ts === "2023-11-14T22:13:20.123Z");
 * ```
 */
export function auditEvent(records: AuditRecord[], opts: AuditEventOptions = {}): LogEvent {
  const primary = records.find((r) => r.type === "SYSCALL") ??
    records.find((r) => !AUXILIARY.has(r.type)) ?? records[0];
  const types: string[] = [];
  for (const r of records) if (r.type !== "EOE" && !types.includes(r.type)) types.push(r.type);
  const fields: Fields = {
    type: primary.type,
    record_types: types.join(","),
    serial: primary.serial,
  };
  const paths = records.filter((r) => r.type === "PATH");
  const mainPath = paths.find((r) => r.fields.nametype !== "PARENT") ?? paths[0];
  const execve = records.find((r) => r.type === "EXECVE");
  const order = [primary, ...(mainPath && mainPath !== primary ? [mainPath] : [])];
  for (const r of records) if (!order.includes(r) && r !== execve) order.push(r);

  for (const r of order) {
    for (const [k, v] of Object.entries(r.fields)) {
      if (execve && r.type === "SYSCALL" && /^a[0-3]$/.test(k)) fields[`syscall_${k}`] = v;
      else if (!Object.hasOwn(fields, k)) fields[k] = v;
    }
  }
  if (execve) {
    const args: string[] = [];
    const argc = Number(execve.fields.argc);
    const count = Number.isInteger(argc) && argc >= 0 && argc <= 100_000 ? argc : Infinity;
    for (let i = 0; i < count; i++) {
      const a = execve.fields[`a${i}`];
      if (a === undefined) break;
      args.push(a);
    }
    for (const [k, v] of Object.entries(execve.fields)) {
      if (/^a\d+$/.test(k) || !Object.hasOwn(fields, k)) fields[k] = v;
    }
    fields.CommandLine = args.join(" ");
  } else if (typeof fields.proctitle === "string") {
    fields.CommandLine = fields.proctitle;
  }

  const text = records.map((r) => r.raw).join("\n");
  const event: LogEvent = {
    source: opts.source ?? "file:/var/log/audit/audit.log",
    logsource: { ...AUDITD_LOGSOURCE },
    ts: new Date(primary.timeMs).toISOString(),
    message: text,
    fields,
    raw: text,
  };
  const node = records.find((r) => r.node !== undefined)?.node;
  if (node !== undefined) event.host = node;
  const pid = primary.fields.pid;
  if (pid !== undefined && /^\d{1,10}$/.test(pid)) event.pid = Number(pid);
  return event;
}

/** Options of `AuditGrouper`. */
export interface AuditGrouperOptions extends AuditEventOptions, ClockOptions {
  /** Emit an event once it has this many records, so one runaway event cannot grow unbounded. */
  maxRecords?: number;
}

/**
 * Groups audit records arriving line by line into events. An event is complete when a
 * record of another event (time and serial) arrives, on its `EOE` record, on `ausearch`'s
 * `----` separator, or on `flush()` (call it at end of input or when the input goes quiet).
 * A line that is not an audit record comes back at once as a `parse_error` event; blank
 * lines are skipped.
 *
 * @example
 * ```ts
 * import { AuditGrouper } from "./audit.ts";
 * const g = new AuditGrouper();
 * console.assert(g.push('type=SYSCALL msg=audit(1700000000.123:456): syscall=59 pid=1').length === 0);
 * console.assert(g.push('type=CWD msg=audit(1700000000.123:456): cwd="/root"').length === 0);
 * const [e] = g.push('type=SYSCALL msg=audit(1700000000.200:457): syscall=2 pid=1');
 * console.assert(e.fields.record_types === "SYSCALL,CWD" && e.fields.cwd === "/root");
 * console.assert(g.flush().length === 1);
 * ```
 */
export class AuditGrouper {
  readonly #opts: AuditGrouperOptions;
  readonly #max: number;
  #pending: AuditRecord[] = [];
  #key = "";

  constructor(opts: AuditGrouperOptions = {}) {
    this.#opts = opts;
    this.#max = Math.max(1, opts.maxRecords ?? 1024);
  }

  /** Feed one line; returns the events it completed (often none). */
  push(line: string): LogEvent[] {
    const trimmed = line.trim();
    if (trimmed === "") return [];
    if (trimmed === "----") return this.flush();
    const record = parseAuditRecord(line);
    if (typeof record === "string") {
      if (trimmed.startsWith("time->")) return []; // ausearch's human-readable time line
      const ts = new Date(referenceMs(this.#opts)).toISOString();
      const source = this.#opts.source ?? "file:/var/log/audit/audit.log";
      return [parseErrorEvent(line, record, source, { ...AUDITD_LOGSOURCE }, ts)];
    }
    const key = `${record.node ?? ""}|${record.timeMs}:${record.serial}`;
    const out = key !== this.#key && this.#pending.length > 0 ? this.flush() : [];
    if (record.type === "EOE") {
      out.push(...this.flush());
      return out;
    }
    this.#pending.push(record);
    this.#key = key;
    if (this.#pending.length >= this.#max) out.push(...this.flush());
    return out;
  }

  /** Emit the event being assembled, if any. */
  flush(): LogEvent[] {
    if (this.#pending.length === 0) return [];
    const records = this.#pending;
    this.#pending = [];
    this.#key = "";
    return [auditEvent(records, this.#opts)];
  }

  /** Records waiting for their event to complete. */
  get pending(): number {
    return this.#pending.length;
  }
}
