/**
 * What the parsers share: the shape a format parser returns before the dispatcher turns
 * it into a `LogEvent`, the event for a line nothing could parse, and address checks.
 * @module
 */
import { parseIp } from "../../core/mod.ts";
import type { LogEvent, LogSource } from "../log_event.ts";

/** A `LogEvent`'s normalised fields. */
export type Fields = LogEvent["fields"];

/** What a format parser (syslog, journald JSON, …) extracts from one line. */
export interface ParsedLine {
  /** RFC 3339 UTC. */
  ts: string;
  host?: string;
  program?: string;
  pid?: number;
  message: string;
  fields: Fields;
}

/**
 * The event for a line that could not be parsed: the whole line is the message, so keyword
 * rules still see it, and `fields.parse_error` says why. Its time is the reference time.
 */
export function parseErrorEvent(
  line: string,
  reason: string,
  source: string,
  logsource: LogSource,
  ts: string,
): LogEvent {
  return {
    source,
    logsource,
    ts,
    message: line,
    fields: { parse_error: reason },
    raw: line,
  };
}

/** True for an IPv4 or IPv6 address (not a host name). */
export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

/**
 * Put a remote address where Sigma looks for it: `SourceIp` when it is an address,
 * `SourceHostname` when it is a name (sshd and PAM log whichever they resolved).
 */
export function setRemote(fields: Fields, remote: string | undefined): void {
  if (!remote) return;
  if (isIp(remote)) fields.SourceIp = remote;
  else fields.SourceHostname = remote;
}

/** A decimal pid or port; undefined for anything else. */
export function toInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  return Number(text);
}
