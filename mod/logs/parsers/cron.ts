/**
 * cron daemon lines (`CRON[pid]: (root) CMD (command)`, and the `crontab` program's edit
 * records). Session lines are pam_unix's and go to `parsePamMessage`.
 * @module
 */
import type { Fields } from "./event.ts";

// "(user) ACTION (detail)"; the action is one or more words ("CMD", "BEGIN EDIT", "info").
const LINE_RE = /^\(([^()\s]*)\) ([A-Za-z][A-Za-z_ ]*?) \((.*)\)$/s;

// Names cron puts where a user goes when the line is about cron itself.
const NOT_USERS = new Set(["CRON", "*system*", "cron"]);

/**
 * Fields for a cron message: `Action` as logged (`CMD`, `RELOAD`, `BEGIN EDIT`, …),
 * `EventType` (`command` for `CMD`, otherwise the action in snake case), `User`
 * (not for cron's own `(CRON)`/`(*system*)` lines), and `CommandLine` for `CMD` or
 * `Detail` otherwise. Undefined for other lines.
 *
 * @example
 * ```ts
 * import { parseCronMessage } from "./cron.ts";
 * const f = parseCronMessage("(root) CMD (   cd / && run-parts --report /etc/cron.hourly)");
 * console.assert(f?.EventType === "command" && f.User === "root");
 * console.assert(f?.CommandLine === "cd / && run-parts --report /etc/cron.hourly");
 * ```
 */
export function parseCronMessage(message: string): Fields | undefined {
  const m = LINE_RE.exec(message);
  if (!m) return undefined;
  const [, who, action, detail] = m;
  const f: Fields = { Action: action };
  if (!NOT_USERS.has(who)) f.User = who;
  if (action === "CMD") {
    f.EventType = "command";
    // crontab lines are often indented after the schedule; the padding is not the command.
    f.CommandLine = detail.trim();
  } else {
    f.EventType = action.toLowerCase().replace(/ +/g, "_");
    f.Detail = detail;
  }
  return f;
}
