/**
 * The one shape every log source and parser produces and the Sigma engine consumes.
 * Field names follow Sigma's where one exists (`User`, `SourceIp`, `Image`, `CommandLine`,
 * …); source-specific fields (auditd's `type`, `exe`, `key`, `a0`…) keep their own names.
 */
export interface LogEvent {
  /** Where it came from: `file:/var/log/auth.log`, `journald`, `syslog-udp`, `syslog-tcp`, `host`, `packet`, `replay`. */
  source: string;
  /** Sigma logsource this event belongs to; the engine routes on it. */
  logsource: LogSource;
  /** RFC 3339 UTC; for RFC 3164 lines the year is filled in (see parsers). */
  ts: string;
  host?: string;
  program?: string;
  pid?: number;
  /** The free-text message (Sigma keyword searches run over it). */
  message: string;
  /** Normalised fields. */
  fields: Record<string, string | number | boolean | null>;
  /** The line as received, for evidence. */
  raw?: string;
  /** The line was longer than `max_line_bytes` and was cut. */
  truncated?: boolean;
}

/** Sigma's logsource triple; any part may be absent. */
export interface LogSource {
  product?: string;
  service?: string;
  category?: string;
}
