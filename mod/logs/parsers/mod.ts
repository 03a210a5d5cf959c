/**
 * Log line parsers: raw lines (syslog RFC 3164/5424 and log files, journald JSON, generic
 * JSON, Linux audit records) to one `LogEvent`, with sshd, sudo, PAM and cron messages
 * broken into Sigma-style fields. `parseLine` and `LineParser` are the entry points; the
 * format and message parsers are exported for sources that already know what they hold.
 * @module
 */
export {
  type LineFormat,
  LineParser,
  parseLine,
  type ParseOptions,
  serviceOf,
  sniffFormat,
} from "./dispatch.ts";
export {
  AUDITD_LOGSOURCE,
  auditEvent,
  type AuditEventOptions,
  AuditGrouper,
  type AuditGrouperOptions,
  type AuditRecord,
  parseAuditRecord,
} from "./audit.ts";
export {
  FACILITY_NAMES,
  parseStructuredData,
  parseSyslog,
  priorityFields,
  SEVERITY_NAMES,
} from "./syslog.ts";
export { journalValue, parseJournalJson, parseJsonLine } from "./json.ts";
export { parseSshdMessage, SSHD_EVENT_TYPES, type SshdEventType } from "./sshd.ts";
export { isPamMessage, pamKeyValues, parsePamMessage } from "./pam.ts";
export { parseSudoMessage } from "./sudo.ts";
export { parseCronMessage } from "./cron.ts";
export { type Fields, isIp, type ParsedLine, parseErrorEvent } from "./event.ts";
export {
  type ClockOptions,
  parseIsoTimestamp,
  wallClockToUtc,
  yearlessToUtc,
} from "./timestamp.ts";
