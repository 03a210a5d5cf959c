/**
 * OpenSSH server messages (the text after `sshd[pid]: `) to Sigma-style fields.
 * @module
 */
import { type Fields, setRemote, toInt } from "./event.ts";
import { pamKeyValues } from "./pam.ts";

/** The event types that are failed authentications (`Outcome: failure`). */
const FAILED_TYPES = [
  "failed_password",
  "failed_auth",
  "invalid_user",
  "user_not_allowed",
  "auth_failure",
  "max_auth_exceeded",
] as const;

/**
 * The `EventType` values `parseSshdMessage` sets; stable names rules and tests match on.
 * `Outcome` is set only for authentication results: `success` for `accepted`, `failure`
 * for the failed, invalid, refused and exceeded kinds.
 */
export const SSHD_EVENT_TYPES = [
  "accepted",
  ...FAILED_TYPES,
  "pam_max_retries",
  "break_in_attempt",
  "disconnect",
  "preauth_close",
  "connection_closed",
  "connection",
  "no_identification",
  "bad_protocol",
  "negotiation_failed",
  "fatal",
] as const;

/** One of `SSHD_EVENT_TYPES`. */
export type SshdEventType = typeof SSHD_EVENT_TYPES[number];

const FAILURE = new Set<string>(FAILED_TYPES);

// The patterns with `.*` take `s`: without it `.` stops at a line break (\r, \u2028, \n in a
// journal message), the final `$` then failed, and the pattern retried from every " from "
// (or ":") of the line: "Received disconnect from 1:1:1:…" and a line break took 10 s for
// 200 kB. sshd escapes line breaks in what it logs, so no real message changes.
// User names are attacker-chosen and may hold spaces (loghub has "Invalid user  0101"), so
// they are matched greedily up to the address and port sshd appends at the end.
const ACCEPTED_RE = /^Accepted (\S+) for (.*) from (\S+) port (\d+)(?: (ssh\d?))?(?:: (.*))?$/s;
const FAILED_RE =
  /^Failed (\S+) for (invalid user )?(.*) from (\S+) port (\d+)(?: (ssh\d?))?(?:: (.*))?$/s;
const INVALID_USER_RE = /^(?:Invalid|Illegal) user (.*) from (\S+?)(?: port (\d+))?$/s;
const USERAUTH_INVALID_RE =
  /^input_userauth_request: (?:invalid|illegal) user (.*?)(?: \[preauth\])?$/s;
const NOT_ALLOWED_RE = /^User (.*) from (\S+) not allowed because (.*)$/s;
const MAX_AUTH_RE =
  /^maximum authentication attempts exceeded for (invalid user )?(.*) from (\S+) port (\d+)(?: ssh\d?)?(?: \[preauth\])?$/s;
const TOO_MANY_OLD_RE =
  /^Disconnecting: Too many authentication failures(?: for (invalid user )?(.*?))?(?: \[preauth\])?$/s;
const TOO_MANY_RE =
  /^Disconnecting (?:(invalid|authenticating) user (.*) )?(\S+) port (\d+): Too many authentication failures(?: \[preauth\])?$/s;
const PAM_MORE_RE = /^PAM (\d+) more authentication failures?; (.*)$/s;
const PAM_MAX_RE = /^PAM service\((\S+)\) ignoring max retries; (\d+) > (\d+)$/;
const REVERSE_RE =
  /^reverse mapping checking getaddrinfo for (\S+) \[([^\]]+)\] failed(?: - POSSIBLE BREAK-IN ATTEMPT!|\.)?$/;
const MAPS_BACK_RE =
  /^Address (\S+) maps to (\S+), but this does not map back to the address(?: - POSSIBLE BREAK-IN ATTEMPT!)?$/;
// The address is greedy: in the old "from 2001:db8::1: 11: …" it ends at the last colon.
const RECEIVED_DISCONNECT_RE =
  /^Received disconnect from (\S+)(?: port (\d+))?:\s*(\d+): ?(.*?)( \[preauth\])?$/s;
const DISCONNECTED_RE =
  /^Disconnected from (?:(invalid|authenticating) user (.*) |user (.*) )?(\S+) port (\d+)( \[preauth\])?$/s;
const CLOSED_USER_RE =
  /^Connection (?:closed|reset) by (?:(invalid|authenticating) user (.*)|user (.*)) (\S+) port (\d+)( \[preauth\])?$/s;
const CLOSED_RE = /^Connection (?:closed|reset) by (\S+?)(?: port (\d+))?( \[preauth\])?$/;
const CONNECTION_RE = /^Connection from (\S+) port (\d+) on (\S+) port (\d+)(?: rdomain .*)?$/;
const NO_IDENT_RE = /^Did not receive identification string from (\S+?)(?: port (\d+))?$/;
// "banner exchange" (OpenSSH 8.x+) says why after the port: "invalid format" is a client that
// sent no SSH banner at all (a scanner), unlike a timeout or a reset.
const BAD_PROTOCOL_RE =
  /^(?:Bad protocol version identification '.*' from|banner exchange: Connection from) (\S+?)(?: port (\d+))?(?:: (.*))?$/s;
const NEGOTIATE_RE = /^Unable to negotiate with (\S+?)(?: port (\d+))?: (.*)$/s;
const REPEATED_HEAD_RE = /^message repeated (\d+) times: \[/;

/**
 * Fields for an sshd message: `EventType`, and as the message has them `User`,
 * `InvalidUser`, `SourceIp` (or `SourceHostname` when sshd logged a name), `SourcePort`,
 * `AuthMethod`, `Outcome`, `RepeatCount`, `Reason` (why sshd refused a negotiation or a
 * banner). Undefined for messages it does not know (they stay plain log lines). PAM lines (`pam_unix(sshd:…)`) are `parsePamMessage`'s.
 *
 * @example
 * ```ts
 * import { parseSshdMessage } from "./sshd.ts";
 * const f = parseSshdMessage("Failed password for invalid user admin from 10.0.0.5 port 4242 ssh2");
 * console.assert(f?.EventType === "failed_password" && f.User === "admin");
 * console.assert(f?.InvalidUser === true && f.SourceIp === "10.0.0.5" && f.SourcePort === 4242);
 * console.assert(f?.Outcome === "failure");
 * ```
 */
export function parseSshdMessage(message: string): Fields | undefined {
  // `^message repeated (\d+) times: \[\s*(.*?)\s*\]$`, by hand: the lazy `(.*?)` retried
  // `\s*\]$` inside every run of spaces (quadratic on a message of spaces and no `]`).
  const repeated = REPEATED_HEAD_RE.exec(message);
  if (repeated && message.endsWith("]")) {
    // syslogd folded identical lines: the inner message, counted.
    const inner = classify(message.slice(repeated[0].length, -1).trim());
    if (!inner) return undefined;
    inner.RepeatCount = Number(repeated[1]);
    return finish(inner);
  }
  const f = classify(message);
  return f && finish(f);
}

function finish(f: Fields): Fields {
  const type = f.EventType as string;
  if (type === "accepted") f.Outcome = "success";
  else if (FAILURE.has(type)) f.Outcome = "failure";
  if (f.User !== undefined && f.InvalidUser === undefined) f.InvalidUser = false;
  return f;
}

function user(f: Fields, name: string | undefined, invalid: boolean): void {
  if (name === undefined) return;
  f.User = name;
  f.InvalidUser = invalid;
}

function remote(f: Fields, addr: string | undefined, port: string | undefined): void {
  setRemote(f, addr);
  const p = toInt(port);
  if (p !== undefined) f.SourcePort = p;
}

/** An auth method as rules name it: `keyboard-interactive/pam` is `keyboard-interactive`. */
function method(text: string): string {
  const slash = text.indexOf("/");
  return slash < 0 ? text : text.slice(0, slash);
}

function classify(input: string): Fields | undefined {
  // sshd prefixes some messages with their log level; the event is the same.
  const msg = input.startsWith("error: ") ? input.slice(7) : input;
  const f: Fields = {};
  let m: RegExpExecArray | null;
  const c0 = msg.charCodeAt(0);

  if (c0 === 0x41 /* A */) {
    if ((m = ACCEPTED_RE.exec(msg))) {
      f.EventType = "accepted";
      f.AuthMethod = method(m[1]);
      user(f, m[2], false);
      remote(f, m[3], m[4]);
      if (m[6]) f.AuthDetail = m[6];
      return f;
    }
    if ((m = MAPS_BACK_RE.exec(msg))) {
      f.EventType = "break_in_attempt";
      f.SourceIp = m[1];
      f.SourceHostname = m[2];
      return f;
    }
  }
  if ((m = FAILED_RE.exec(msg))) {
    f.EventType = m[1] === "password" ? "failed_password" : "failed_auth";
    f.AuthMethod = method(m[1]);
    user(f, m[3], m[2] !== undefined);
    remote(f, m[4], m[5]);
    return f;
  }
  if ((m = INVALID_USER_RE.exec(msg))) {
    f.EventType = "invalid_user";
    user(f, m[1], true);
    remote(f, m[2], m[3]);
    return f;
  }
  if ((m = USERAUTH_INVALID_RE.exec(msg))) {
    f.EventType = "invalid_user";
    user(f, m[1], true);
    f.Preauth = true;
    return f;
  }
  if ((m = RECEIVED_DISCONNECT_RE.exec(msg))) {
    f.EventType = "disconnect";
    remote(f, m[1], m[2]);
    f.DisconnectCode = Number(m[3]);
    if (m[4]) f.DisconnectReason = m[4];
    f.Preauth = m[5] !== undefined;
    return f;
  }
  // "Disconnected from user …" and "Connection closed by user …" name the same parts.
  const disconnected = DISCONNECTED_RE.exec(msg);
  if ((m = disconnected ?? CLOSED_USER_RE.exec(msg))) {
    const preauth = m[6] !== undefined;
    f.EventType = disconnected ? "disconnect" : preauth ? "preauth_close" : "connection_closed";
    user(f, m[2] ?? m[3], m[1] === "invalid");
    remote(f, m[4], m[5]);
    f.Preauth = preauth;
    return f;
  }
  if ((m = CLOSED_RE.exec(msg))) {
    f.EventType = m[3] !== undefined ? "preauth_close" : "connection_closed";
    remote(f, m[1], m[2]);
    f.Preauth = m[3] !== undefined;
    return f;
  }
  if ((m = REVERSE_RE.exec(msg))) {
    f.EventType = "break_in_attempt";
    f.SourceHostname = m[1];
    setRemote(f, m[2]);
    return f;
  }
  if ((m = PAM_MORE_RE.exec(msg))) {
    // sshd's summary of the PAM failures it did not log one by one.
    f.EventType = "auth_failure";
    f.RepeatCount = Number(m[1]);
    const kv = pamKeyValues(m[2]);
    if (kv.user) user(f, kv.user, false);
    setRemote(f, kv.rhost);
    return f;
  }
  if ((m = PAM_MAX_RE.exec(msg))) {
    f.EventType = "pam_max_retries";
    f.Attempts = Number(m[2]);
    f.MaxAttempts = Number(m[3]);
    return f;
  }
  if ((m = MAX_AUTH_RE.exec(msg))) {
    f.EventType = "max_auth_exceeded";
    user(f, m[2], m[1] !== undefined);
    remote(f, m[3], m[4]);
    return f;
  }
  if ((m = TOO_MANY_RE.exec(msg))) {
    f.EventType = "max_auth_exceeded";
    user(f, m[2], m[1] === "invalid");
    remote(f, m[3], m[4]);
    return f;
  }
  if ((m = TOO_MANY_OLD_RE.exec(msg))) {
    f.EventType = "max_auth_exceeded";
    if (m[2]) user(f, m[2], m[1] !== undefined);
    return f;
  }
  if ((m = NOT_ALLOWED_RE.exec(msg))) {
    f.EventType = "user_not_allowed";
    user(f, m[1], false);
    setRemote(f, m[2]);
    f.Reason = m[3];
    return f;
  }
  if ((m = CONNECTION_RE.exec(msg))) {
    f.EventType = "connection";
    remote(f, m[1], m[2]);
    f.DestinationIp = m[3];
    f.DestinationPort = Number(m[4]);
    return f;
  }
  if ((m = NO_IDENT_RE.exec(msg))) {
    f.EventType = "no_identification";
    remote(f, m[1], m[2]);
    return f;
  }
  if ((m = BAD_PROTOCOL_RE.exec(msg))) {
    f.EventType = "bad_protocol";
    remote(f, m[1], m[2]);
    if (m[3]) f.Reason = m[3];
    return f;
  }
  if ((m = NEGOTIATE_RE.exec(msg))) {
    f.EventType = "negotiation_failed";
    remote(f, m[1], m[2]);
    f.Reason = m[3];
    return f;
  }
  if (msg.startsWith("fatal: ")) {
    f.EventType = "fatal";
    f.Reason = msg.slice(7).replace(/ \[preauth\]$/, "");
    f.Preauth = msg.endsWith(" [preauth]");
    return f;
  }
  return undefined;
}
