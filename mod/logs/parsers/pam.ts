/**
 * pam_unix messages, whichever program logs them: `pam_unix(sshd:auth): …` in today's
 * logs, and the older form where the program is `sshd(pam_unix)` and the message bare.
 * @module
 */
import { type Fields, setRemote } from "./event.ts";

const PREFIX_RE = /^pam_unix\(([^:()]*)(?::([^()]*))?\):\s*(.*)$/s;
const OPENED_RE = /^session opened for user (.+?)(?:\(uid=(\d+)\))?(?: by (.*?)\(uid=(\d+)\))?$/;
// The same without the "by" part, for a line that cannot have it (no "(uid=N)" at the end).
const OPENED_NO_BY_RE = /^session opened for user (.+?)(?:\(uid=(\d+)\))?$/;
const LINE_BREAK_RE = /[\n\r\u2028\u2029]/;
const UID_END_RE = /\(uid=\d+\)$/;

/**
 * `OPENED_RE.exec(text)`, in linear time. On "session opened for user a by by by …" with no
 * `(uid=N)` at the end, `OPENED_RE` read from every " by " to the end of the line (quadratic:
 * 2 s for 200 kB). The "by" part can only match when the line ends in `(uid=N)`, and nothing
 * matches a line with a line break (`.` does not), so those cases skip the costly pattern.
 */
function sessionOpened(text: string): RegExpExecArray | null {
  if (!text.startsWith("session opened for user ") || LINE_BREAK_RE.test(text)) return null;
  return (UID_END_RE.test(text) ? OPENED_RE : OPENED_NO_BY_RE).exec(text);
}
const AUTH_FAILURE_RE = /^authentication failure;\s*(.*)$/;

/** Messages that say an event and its user only; refusals have `Outcome: failure`. */
const USER_EVENTS: readonly { re: RegExp; type: string; failure?: true }[] = [
  { re: /^session closed for user (.+)$/, type: "session_closed" },
  { re: /^password changed for (.+)$/, type: "password_changed" },
  { re: /^account (.+?) has expired/, type: "account_expired", failure: true },
  { re: /^bad username \[(.*)\]$/, type: "bad_username", failure: true },
];

/**
 * `key=value` pairs as PAM logs them (`logname= uid=0 … rhost=10.0.0.1  user=root`): values
 * run to the next space and may be empty.
 *
 * @example
 * ```ts
 * import { pamKeyValues } from "./pam.ts";
 * const kv = pamKeyValues("logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.1  user=root");
 * console.assert(kv.logname === "" && kv.rhost === "10.0.0.1" && kv.user === "root");
 * ```
 */
export function pamKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(?:^|\s)([A-Za-z_]+)=(\S*)/g)) out[m[1]] = m[2];
  return out;
}

/** True when `message` starts with the `pam_unix(service:type):` prefix. */
export function isPamMessage(message: string): boolean {
  return message.startsWith("pam_unix(");
}

/**
 * Fields for a pam_unix message: `PamModule`, `PamService`, `PamType`, `EventType`
 * (`session_opened`, `session_closed`, `auth_failure`, `user_unknown`, `password_changed`,
 * `account_expired`, `bad_username`), `User`, `Outcome` (`failure` for the refusals), and
 * for authentication failures PAM's own `logname`, `uid`, `euid`, `tty`, `ruser`, `rhost`,
 * `user` plus `SourceIp`/`SourceHostname` from `rhost`. `service` names the PAM service
 * when the message has no prefix (the old `sshd(pam_unix)` program form). Undefined when
 * the message is not pam_unix's.
 *
 * @example
 * ```ts
 * import { parsePamMessage } from "./pam.ts";
 * const f = parsePamMessage("pam_unix(sshd:auth): authentication failure; logname= uid=0 " +
 *   "euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root");
 * console.assert(f?.EventType === "auth_failure" && f.User === "root");
 * console.assert(f?.SourceIp === "203.0.113.9" && f.PamService === "sshd");
 * ```
 */
export function parsePamMessage(message: string, service?: string): Fields | undefined {
  const f: Fields = { PamModule: "pam_unix" };
  let text = message;
  const prefix = PREFIX_RE.exec(message);
  if (prefix) {
    f.PamService = prefix[1];
    if (prefix[2] !== undefined) f.PamType = prefix[2];
    text = prefix[3];
  } else if (service !== undefined) {
    f.PamService = service;
  } else {
    return undefined;
  }

  let m: RegExpExecArray | null;
  if ((m = sessionOpened(text))) {
    f.EventType = "session_opened";
    f.User = m[1];
    if (m[2] !== undefined) f.uid = m[2];
    if (m[3]) f.by_user = m[3];
    if (m[4] !== undefined) f.by_uid = m[4];
  } else if ((m = AUTH_FAILURE_RE.exec(text))) {
    f.EventType = "auth_failure";
    f.Outcome = "failure";
    const kv = pamKeyValues(m[1]);
    for (const [k, v] of Object.entries(kv)) f[k] = v;
    if (kv.user) f.User = kv.user;
    setRemote(f, kv.rhost);
  } else if (text === "check pass; user unknown") {
    f.EventType = "user_unknown";
    f.Outcome = "failure";
  } else {
    for (const e of USER_EVENTS) {
      if (!(m = e.re.exec(text))) continue;
      f.EventType = e.type;
      if (e.failure) f.Outcome = "failure";
      f.User = m[1];
      break;
    }
  }
  return f;
}
