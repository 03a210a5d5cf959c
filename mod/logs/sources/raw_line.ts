import type { LineFormat } from "../parsers/dispatch.ts";

/**
 * One line as a source received it, before any parsing. Parsers turn it into a `LogEvent`;
 * keeping the raw form separate lets a parser be chosen per source and replayed in tests.
 */
export interface RawLine {
  /** Where it came from: `file:/var/log/auth.log`, `journald`, `syslog-udp`, `syslog-tcp`. */
  source: string;
  /** The text, decoded as UTF-8 (invalid bytes become U+FFFD), without its terminator. */
  line: string;
  /** Epoch milliseconds when the source read it. */
  receivedAt: number;
  /** The line was longer than the source's byte limit; `line` holds its first part only. */
  truncated?: boolean;
  /** For syslog: the sender's IP address. */
  peer?: string;
  /** What the line is, said by the source: the parser reads it as this. */
  format: LineFormat;
}

export type { LineFormat };
