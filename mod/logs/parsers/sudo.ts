/**
 * sudo's own log lines: `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/id`,
 * with a reason before the `TTY=` part when sudo refused or the password was wrong.
 * @module
 */
import type { Fields } from "./event.ts";

const LINE_RE = /^(\S+) : (.*)$/s;
const KV_RE = /^([A-Z_]+)=(.*)$/s;
const ATTEMPTS_RE = /^(\d+) incorrect password attempts?$/;

// Keys sudo logs, to Sigma's names where there is one; the rest keep sudo's.
const KEY_NAMES: Record<string, string> = {
  TTY: "Terminal",
  PWD: "CurrentDirectory",
  USER: "TargetUser",
  GROUP: "TargetGroup",
  COMMAND: "CommandLine",
};

/**
 * Fields for a sudo message: `User` (who ran sudo), `TargetUser`, `TargetGroup`,
 * `Terminal`, `CurrentDirectory`, `CommandLine`, `EventType` (`command`,
 * `incorrect_password` with `Attempts`, `not_in_sudoers`, `command_not_allowed`,
 * `password_required`, `not_allowed_on_host`, or `refused` with `Reason` for other
 * reasons) and `Outcome`. Undefined for other sudo messages; `pam_unix(sudo:…)` lines are
 * `parsePamMessage`'s.
 *
 * @example
 * ```ts
 * import { parseSudoMessage } from "./sudo.ts";
 * const f = parseSudoMessage("alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id -u");
 * console.assert(f?.EventType === "command" && f.User === "alice" && f.TargetUser === "root");
 * console.assert(f?.CommandLine === "/usr/bin/id -u" && f.Outcome === "success");
 * ```
 */
export function parseSudoMessage(message: string): Fields | undefined {
  const m = LINE_RE.exec(message.trim());
  if (!m) return undefined;
  const f: Fields = { User: m[1] };
  let rest = m[2];
  // COMMAND comes last and may itself contain " ; ", so it is cut off first.
  const cmdAt = rest.startsWith("COMMAND=") ? 0 : rest.indexOf(" ; COMMAND=");
  if (cmdAt >= 0) {
    f.CommandLine = rest.slice(rest.indexOf("COMMAND=", cmdAt) + 8);
    rest = rest.slice(0, cmdAt);
  }
  const reasons: string[] = [];
  let sawKey = f.CommandLine !== undefined;
  for (const part of rest.split(" ; ")) {
    if (part === "") continue;
    const kv = KV_RE.exec(part);
    if (kv) {
      f[KEY_NAMES[kv[1]] ?? kv[1]] = kv[2];
      sawKey = true;
    } else {
      reasons.push(part.trim());
    }
  }
  // "alice : unable to resolve host x" and the like: not a command record.
  if (!sawKey) return undefined;

  const reason = reasons.join("; ");
  if (reason === "") {
    f.EventType = "command";
    f.Outcome = "success";
    return f;
  }
  f.Outcome = "failure";
  f.Reason = reason;
  const attempts = ATTEMPTS_RE.exec(reasons[0]);
  if (attempts) {
    f.EventType = "incorrect_password";
    f.Attempts = Number(attempts[1]);
  } else if (/user NOT in sudoers/.test(reason)) {
    f.EventType = "not_in_sudoers";
  } else if (/user NOT authorized on host/.test(reason)) {
    f.EventType = "not_allowed_on_host";
  } else if (/command not allowed/.test(reason)) {
    f.EventType = "command_not_allowed";
  } else if (/a password is required/.test(reason)) {
    f.EventType = "password_required";
  } else {
    f.EventType = "refused";
  }
  return f;
}
