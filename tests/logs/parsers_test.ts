/**
 * Log parsers: loghub's OpenSSH and Linux samples against their ground truth, then each
 * format and message parser on hand-written lines and fixtures, and a property that no
 * input makes `parseLine` throw.
 */
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import type { LogEvent } from "../../mod/logs/log_event.ts";
import {
  AuditGrouper,
  type AuditRecord,
  isIp,
  type LineFormat,
  LineParser,
  parseAuditRecord,
  parseCronMessage,
  parseLine,
  parsePamMessage,
  parseSshdMessage,
  parseSudoMessage,
  parseSyslog,
  yearlessToUtc,
} from "../../mod/logs/parsers/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/logs/", import.meta.url));
const LOGHUB = fileURLToPath(new URL("../../../shared/data/logs/loghub/", import.meta.url));

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** RFC 4180 CSV: quoted fields with commas and doubled quotes; rows as header-keyed maps. */
function readCsv(path: string): Record<string, string>[] {
  const text = Deno.readTextFileSync(path);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length > 0) rows.push([...row, cell]);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

function readLines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
}

/** A loghub template as a regex: each `<*>` a greedy group, anchored at both ends. */
function templateRegex(template: string): RegExp {
  const parts = template.split("<*>").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("(.*)")}$`, "s");
}

/**
 * What a template says about the fields: the `EventType` every line of it must get, and
 * one entry per `<*>`: the field that must equal the text there (`rhost` for an address
 * that is `SourceIp` when an IP and `SourceHostname` otherwise; `[field, re]` when only
 * part of the text is the value; null when the text is not extracted).
 */
interface TemplateSpec {
  type: string | undefined;
  outcome?: "success" | "failure";
  vars?: (string | [string, RegExp] | null)[];
  fixed?: Record<string, string | number | boolean>;
}

const SSH_TEMPLATES: Record<string, TemplateSpec> = {
  E1: {
    type: "accepted",
    outcome: "success",
    vars: ["User", "SourceIp", "SourcePort"],
    fixed: { AuthMethod: "password", InvalidUser: false },
  },
  E2: { type: "preauth_close", vars: ["SourceIp"], fixed: { Preauth: true } },
  E3: { type: "no_identification", vars: ["SourceIp"] },
  E4: { type: "max_auth_exceeded", outcome: "failure", fixed: { User: "admin" } },
  E5: { type: "max_auth_exceeded", outcome: "failure", fixed: { User: "root" } },
  E6: { type: "disconnect", vars: ["SourceIp", "DisconnectCode"], fixed: { Preauth: true } },
  E7: { type: "disconnect", vars: ["SourceIp", "DisconnectCode"], fixed: { Preauth: true } },
  E8: {
    type: "failed_auth",
    outcome: "failure",
    vars: ["User", "SourceIp", "SourcePort"],
    fixed: { AuthMethod: "none", InvalidUser: true },
  },
  E9: {
    type: "failed_password",
    outcome: "failure",
    vars: ["User", "SourceIp", "SourcePort"],
    fixed: { AuthMethod: "password", InvalidUser: false },
  },
  E10: {
    type: "failed_password",
    outcome: "failure",
    vars: ["User", "SourceIp", "SourcePort"],
    fixed: { AuthMethod: "password", InvalidUser: true },
  },
  E11: { type: "fatal", fixed: { Preauth: true } },
  E12: { type: "invalid_user", outcome: "failure", vars: ["User"], fixed: { InvalidUser: true } },
  E13: {
    type: "invalid_user",
    outcome: "failure",
    vars: ["User", "SourceIp"],
    fixed: { InvalidUser: true },
  },
  // loghub's last <*> took "ssh2" along with the port.
  E14: {
    type: "failed_password",
    outcome: "failure",
    vars: ["RepeatCount", "SourceIp", ["SourcePort", /^(\d+) ssh2$/]],
    fixed: { User: "root" },
  },
  E15: { type: "auth_failure", outcome: "failure", vars: ["RepeatCount", null, null, "rhost"] },
  E16: { type: "auth_failure", outcome: "failure", vars: ["RepeatCount", null, null, "rhost"] },
  E17: {
    type: "auth_failure",
    outcome: "failure",
    vars: ["RepeatCount", null, null, "rhost"],
    fixed: { User: "root" },
  },
  E18: { type: "pam_max_retries", vars: ["Attempts", "MaxAttempts"] },
  E19: { type: "auth_failure", outcome: "failure", vars: ["uid", "euid", "rhost"] },
  // pam_unix writes "rhost=%s  user=%s" (two spaces); the template has one, so its rhost
  // <*> ends with the other.
  E20: {
    type: "auth_failure",
    outcome: "failure",
    vars: ["uid", "euid", ["rhost", /^(\S*) $/], "User"],
  },
  E21: { type: "user_unknown", outcome: "failure" },
  E22: { type: "session_closed", vars: ["User"] },
  E23: { type: "session_opened", vars: ["User", "by_uid"] },
  E24: { type: "disconnect", vars: ["SourceIp", "DisconnectCode"], fixed: { Preauth: true } },
  E25: { type: "disconnect", vars: ["SourceIp", "DisconnectCode"], fixed: { Preauth: true } },
  E26: { type: "disconnect", vars: ["SourceIp", "DisconnectCode"], fixed: { Preauth: false } },
  E27: { type: "break_in_attempt", vars: ["SourceHostname", "SourceIp"] },
};

// Linux_2k: the PAM templates (sshd/su/login/gdm through the old "prog(pam_unix)" form);
// every other template must get no EventType at all.
const LINUX_TEMPLATES: Record<string, TemplateSpec> = {
  E15: { type: "auth_failure", outcome: "failure", fixed: { tty: ":0", rhost: "" } },
  E16: { type: "auth_failure", outcome: "failure", vars: ["rhost"] },
  E17: { type: "auth_failure", outcome: "failure", vars: ["rhost"], fixed: { User: "guest" } },
  E18: { type: "auth_failure", outcome: "failure", vars: ["rhost"], fixed: { User: "root" } },
  E19: { type: "auth_failure", outcome: "failure", vars: ["rhost"], fixed: { User: "test" } },
  E27: { type: "user_unknown", outcome: "failure" },
  E101: { type: "session_closed", vars: ["User"] },
  E102: { type: "session_opened", vars: ["User", "by_uid"] },
  E103: { type: "session_opened", vars: ["User", "by_uid"], fixed: { by_user: "LOGIN" } },
};

/** Differences between an event's fields and what its template says; empty when they agree. */
function templateProblems(e: LogEvent, content: string, template: string, spec: TemplateSpec) {
  const problems: string[] = [];
  if (e.fields.EventType !== spec.type) {
    problems.push(`EventType ${e.fields.EventType} != ${spec.type}`);
  }
  if (spec.outcome !== undefined && e.fields.Outcome !== spec.outcome) {
    problems.push(`Outcome ${e.fields.Outcome} != ${spec.outcome}`);
  }
  for (const [k, v] of Object.entries(spec.fixed ?? {})) {
    if (e.fields[k] !== v) {
      problems.push(`${k} ${JSON.stringify(e.fields[k])} != ${JSON.stringify(v)}`);
    }
  }
  const vars = spec.vars ?? [];
  const m = templateRegex(template).exec(content);
  if (!m) return [...problems, "content does not match its template"];
  vars.forEach((v, i) => {
    if (v === null) return;
    let text = m[i + 1];
    let field = v as string;
    if (Array.isArray(v)) {
      field = v[0];
      text = v[1].exec(text)?.[1] ?? `<no match in ${text}>`;
    }
    if (field === "rhost") field = isIp(text) ? "SourceIp" : "SourceHostname";
    const got = e.fields[field];
    if (got === undefined || String(got) !== text) {
      problems.push(`${field} ${JSON.stringify(got)} != ${JSON.stringify(text)}`);
    }
    if (field === "SourceIp" && !(typeof got === "string" && got !== "" && isIp(got))) {
      problems.push(`SourceIp ${JSON.stringify(got)} is not an address`);
    }
  });
  return problems;
}

function pad2(n: string): string {
  return n.padStart(2, "0");
}

const MONTH_NUM: Record<string, string> = { Jun: "06", Jul: "07", Dec: "12" };

interface Tally {
  lines: number;
  exact: number;
  byTemplate: Map<string, { lines: number; ok: number; types: Set<string> }>;
  problems: string[];
}

function tally(): Tally {
  return { lines: 0, exact: 0, byTemplate: new Map(), problems: [] };
}

function record(t: Tally, id: string, type: unknown, problems: string[], lineId: string) {
  t.lines++;
  const entry = t.byTemplate.get(id) ?? { lines: 0, ok: 0, types: new Set<string>() };
  entry.lines++;
  entry.types.add(String(type));
  if (problems.length === 0) {
    t.exact++;
    entry.ok++;
  } else if (t.problems.length < 20) {
    t.problems.push(`line ${lineId} (${id}): ${problems.join("; ")}`);
  }
  t.byTemplate.set(id, entry);
}

function summary(name: string, t: Tally): string {
  const ids = [...t.byTemplate.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const parts = ids.map((id) => {
    const e = t.byTemplate.get(id)!;
    return `${id}=${[...e.types].join("|")}:${e.ok}/${e.lines}`;
  });
  return `${name}: ${t.exact}/${t.lines} lines exact; ${parts.join(" ")}`;
}

const haveLoghub = exists(`${LOGHUB}OpenSSH_2k.log`) && exists(`${LOGHUB}Linux_2k.log`);

Deno.test("loghub ground truth", async (t) => {
  if (!requirePart(`loghub samples in ${LOGHUB}`, haveLoghub)) return;

  await t.step("OpenSSH_2k: header, message and per-template fields", () => {
    const lines = readLines(`${LOGHUB}OpenSSH_2k.log`);
    const rows = readCsv(`${LOGHUB}OpenSSH_2k.log_structured.csv`);
    const templates = readCsv(`${LOGHUB}OpenSSH_2k.log_templates.csv`);
    assertEquals(lines.length, rows.length);
    for (const tpl of templates) {
      assert(SSH_TEMPLATES[tpl.EventId], `no expectation for template ${tpl.EventId}`);
    }
    // The sample is from December 2015; read it in January 2016 so the year rolls back.
    const opts = {
      source: "syslog" as const,
      referenceTime: Date.UTC(2016, 0, 4),
      timeZone: "UTC",
      origin: "file:OpenSSH_2k.log",
    };
    const result = tally();
    rows.forEach((row, i) => {
      const e = parseLine(lines[i], opts);
      const problems: string[] = [];
      // loghub's "Component" column of this file holds the host (LabSZ); the program
      // (sshd) has no column, so it is checked against the raw line's constant.
      const expected = {
        host: row.Component,
        program: "sshd",
        pid: Number(row.Pid),
        message: row.Content,
        ts: `2015-${MONTH_NUM[row.Date]}-${pad2(row.Day)}T${row.Time}.000Z`,
        service: "sshd",
      };
      const got = {
        host: e.host,
        program: e.program,
        pid: e.pid,
        message: e.message,
        ts: e.ts,
        service: e.logsource.service,
      };
      for (const k of Object.keys(expected) as (keyof typeof expected)[]) {
        if (got[k] !== expected[k]) {
          problems.push(`${k} ${JSON.stringify(got[k])} != ${JSON.stringify(expected[k])}`);
        }
      }
      if (e.fields.parse_error !== undefined) problems.push(`parse_error ${e.fields.parse_error}`);
      problems.push(
        ...templateProblems(e, row.Content, row.EventTemplate, SSH_TEMPLATES[row.EventId]),
      );
      record(result, row.EventId, e.fields.EventType, problems, row.LineId);
    });
    console.log(summary("OpenSSH_2k", result));
    assertEquals(result.problems, []);
    assertEquals(result.exact, 2000);
    for (const [id, entry] of result.byTemplate) {
      assertEquals(entry.types.size, 1, `template ${id} got several EventTypes`);
    }
  });

  await t.step("Linux_2k: header, program, pid, message and the PAM templates", () => {
    const lines = readLines(`${LOGHUB}Linux_2k.log`);
    const rows = readCsv(`${LOGHUB}Linux_2k.log_structured.csv`);
    assertEquals(lines.length, rows.length);
    const opts = {
      source: "syslog" as const,
      referenceTime: Date.UTC(2005, 7, 1),
      timeZone: "UTC",
      origin: "file:Linux_2k.log",
    };
    const result = tally();
    rows.forEach((row, i) => {
      const e = parseLine(lines[i], opts);
      const problems: string[] = [];
      // This file's "Level" column holds the host (combo); "Component" is the program,
      // including "sshd(pam_unix)", "syslogd 1.4.1" and "-- root".
      const expected = {
        host: row.Level,
        program: row.Component,
        pid: row.PID === "" ? undefined : Number(row.PID),
        message: row.Content,
        ts: `2005-${MONTH_NUM[row.Month]}-${pad2(row.Date)}T${row.Time}.000Z`,
        service: row.Component === "sshd(pam_unix)" ? "sshd" : "syslog",
      };
      const got = {
        host: e.host,
        program: e.program,
        pid: e.pid,
        message: e.message,
        ts: e.ts,
        service: e.logsource.service,
      };
      for (const k of Object.keys(expected) as (keyof typeof expected)[]) {
        if (got[k] !== expected[k]) {
          problems.push(`${k} ${JSON.stringify(got[k])} != ${JSON.stringify(expected[k])}`);
        }
      }
      if (e.fields.parse_error !== undefined) problems.push(`parse_error ${e.fields.parse_error}`);
      const spec = LINUX_TEMPLATES[row.EventId] ?? { type: undefined };
      problems.push(...templateProblems(e, row.Content, row.EventTemplate, spec));
      if (spec.type !== undefined) {
        const service = row.Component.replace("(pam_unix)", "");
        if (e.fields.PamService !== service) problems.push(`PamService ${e.fields.PamService}`);
      }
      record(result, row.EventId, e.fields.EventType, problems, row.LineId);
    });
    console.log(summary("Linux_2k (PAM templates)", {
      ...result,
      byTemplate: new Map([...result.byTemplate].filter(([id]) => LINUX_TEMPLATES[id])),
    }));
    assertEquals(result.problems, []);
    assertEquals(result.exact, 2000);
  });
});

const UTC_2025 = { referenceTime: Date.UTC(2025, 0, 20, 12), timeZone: "UTC" };

Deno.test("syslog headers", async (t) => {
  await t.step("RFC 3164 year rollover: a December line read in January is last year's", () => {
    const e = parseLine("Dec 31 23:59:58 h cron[1]: x", {
      source: "syslog",
      referenceTime: Date.UTC(2025, 0, 1, 0, 0, 30),
      timeZone: "UTC",
    });
    assertEquals(e.ts, "2024-12-31T23:59:58.000Z");
    // Up to a day ahead (clock skew) stays in the current year.
    const ahead = yearlessToUtc(0, 2, 0, 0, 0, 0, {
      referenceTime: Date.UTC(2025, 0, 1, 12),
      timeZone: "UTC",
    });
    assertEquals(new Date(ahead!).toISOString(), "2025-01-02T00:00:00.000Z");
    // More than a day ahead is last year.
    const far = yearlessToUtc(0, 3, 0, 0, 0, 0, {
      referenceTime: Date.UTC(2025, 0, 1, 12),
      timeZone: "UTC",
    });
    assertEquals(new Date(far!).toISOString(), "2024-01-03T00:00:00.000Z");
    // A fast sender's New Year line read seconds before midnight is next year's.
    const early = yearlessToUtc(0, 1, 0, 0, 5, 0, {
      referenceTime: Date.UTC(2024, 11, 31, 23, 59, 50),
      timeZone: "UTC",
    });
    assertEquals(new Date(early!).toISOString(), "2025-01-01T00:00:05.000Z");
    // Feb 29 goes to the last leap year.
    const leap = yearlessToUtc(1, 29, 8, 0, 0, 0, UTC_2025);
    assertEquals(new Date(leap!).toISOString(), "2024-02-29T08:00:00.000Z");
    assertEquals(yearlessToUtc(1, 30, 8, 0, 0, 0, UTC_2025), undefined);
  });

  await t.step("RFC 3164 time zone is injectable and follows DST", () => {
    const opts = { referenceTime: Date.UTC(2024, 11, 1), timeZone: "America/New_York" };
    const summer = parseSyslog("Jul  4 12:00:00 h app: x", opts);
    const winter = parseSyslog("Nov 30 12:00:00 h app: x", opts);
    assert(typeof summer !== "string" && typeof winter !== "string");
    assertEquals(summer.ts, "2024-07-04T16:00:00.000Z");
    assertEquals(winter.ts, "2024-11-30T17:00:00.000Z");
    const berlin = parseSyslog("Jan 20 10:00:00 h app: x", {
      ...UTC_2025,
      timeZone: "Europe/Berlin",
    });
    assert(typeof berlin !== "string");
    assertEquals(berlin.ts, "2025-01-20T09:00:00.000Z");
  });

  await t.step("RFC 3164 with PRI, without host, and the ISO file format", () => {
    const pri = parseLine(
      "<86>Jan 20 11:00:00 web1 sudo: pam_unix(sudo:session): session closed for user root",
      {
        source: "syslog",
        ...UTC_2025,
      },
    );
    assertEquals(pri.fields.facility, "authpriv");
    assertEquals(pri.fields.severity, "info");
    assertEquals(pri.fields.priority, 86);
    assertEquals(pri.logsource, { product: "linux", service: "sudo" });
    assertEquals(pri.fields.EventType, "session_closed");

    const hostless = parseSyslog("<13>Jan 20 11:00:00 su[77]: 'su root' failed", UTC_2025);
    assert(typeof hostless !== "string");
    assertEquals([hostless.host, hostless.program, hostless.pid], [undefined, "su", 77]);

    const iso = parseSyslog("2025-01-14T09:19:00.123456+01:00 web1 sshd[2250]: hello", UTC_2025);
    assert(typeof iso !== "string");
    assertEquals([iso.ts, iso.host, iso.program, iso.message], [
      "2025-01-14T08:19:00.123Z",
      "web1",
      "sshd",
      "hello",
    ]);
  });

  await t.step("RFC 5424 with structured data, escapes, nil values and BOM", () => {
    const a = parseLine(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
      { source: "syslog", ...UTC_2025 },
    );
    assertEquals(a.ts, "2003-10-11T22:14:15.003Z");
    assertEquals([a.host, a.program, a.pid], ["mymachine.example.com", "su", undefined]);
    assertEquals(a.message, "'su root' failed for lonvick on /dev/pts/8");
    assertEquals(a.fields, { priority: 34, facility: "auth", severity: "crit", msgid: "ID47" });

    const b = parseSyslog(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    );
    assert(typeof b !== "string");
    assertEquals([b.ts, b.host, b.program, b.pid], [
      "2003-08-24T12:14:15.000Z",
      "192.0.2.1",
      "myproc",
      8710,
    ]);
    assertEquals(b.message, "%% It's time to make the do-nuts.");

    const c = parseSyslog(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    );
    assert(typeof c !== "string");
    assertEquals(c.message, "");
    assertEquals(c.fields["exampleSDID@32473.eventSource"], "Application");
    assertEquals(c.fields["exampleSDID@32473.eventID"], "1011");
    assertEquals(c.fields["examplePriority@32473.class"], "high");

    const d = parseSyslog(
      '<86>1 2024-03-01T12:00:00+01:00 host app worker-3 MSG1 [meta@1 path="C:\\\\dir\\\\f" quote="say \\"hi\\"" bracket="a\\]b" other="x\\y" empty=""] body text ',
    );
    assert(typeof d !== "string");
    assertEquals(d.ts, "2024-03-01T11:00:00.000Z");
    assertEquals(d.pid, undefined);
    assertEquals(d.fields.procid, "worker-3");
    assertEquals(d.fields["meta@1.path"], "C:\\dir\\f");
    assertEquals(d.fields["meta@1.quote"], 'say "hi"');
    assertEquals(d.fields["meta@1.bracket"], "a]b");
    assertEquals(d.fields["meta@1.other"], "x\\y");
    assertEquals(d.fields["meta@1.empty"], "");
    assertEquals(d.message, "body text");

    const nil = parseSyslog("<13>1 - - - - - -", UTC_2025);
    assert(typeof nil !== "string");
    assertEquals(nil.ts, new Date(UTC_2025.referenceTime).toISOString());
    assertEquals([nil.host, nil.program, nil.message], [undefined, undefined, ""]);

    // An sshd line over RFC 5424 gets the sshd fields and logsource too.
    const ssh = parseLine(
      "<38>1 2025-01-20T10:00:00Z web1 sshd 2201 - - Failed password for root from 192.0.2.1 port 2222 ssh2",
      { source: "syslog" },
    );
    assertEquals(ssh.logsource.service, "sshd");
    assertEquals(ssh.fields.EventType, "failed_password");
  });

  await t.step("malformed headers become parse_error events with the raw line", () => {
    for (
      const line of [
        "",
        "no header at all",
        "<999>Jan 20 11:00:00 h x: y",
        "<13>1 2024-13-01T00:00:00Z h a - - - m",
        '<13>1 2024-01-01T00:00:00Z h a - - [broken x="1" m',
        "Feb 30 10:00:00 h x: y",
      ]
    ) {
      const e = parseLine(line, { source: "syslog", ...UTC_2025 });
      assertEquals(e.message, line);
      assertEquals(e.raw, line);
      assert(
        typeof e.fields.parse_error === "string",
        `no parse_error for ${JSON.stringify(line)}`,
      );
      assertEquals(e.ts, new Date(UTC_2025.referenceTime).toISOString());
    }
  });
});

Deno.test("program parsers on a modern auth.log", async (t) => {
  const lines = readLines(`${FIXTURES}auth.log`);
  const events = lines.map((l) =>
    parseLine(l, { source: "syslog", ...UTC_2025, origin: "file:/var/log/auth.log" })
  );
  const at = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    assert(i >= 0, `fixture has no line with ${needle}`);
    return events[i];
  };

  await t.step("every line parses, with the logsource of its program", () => {
    for (const e of events) {
      assertEquals(e.fields.parse_error, undefined);
      assertEquals(e.source, "file:/var/log/auth.log");
      const expected = { sshd: "sshd", sudo: "sudo", CRON: "cron", cron: "cron", crontab: "cron" }[
        e.program as string
      ] ?? "syslog";
      assertEquals(e.logsource, { product: "linux", service: expected });
    }
  });

  await t.step("sshd", () => {
    const pk = at("Accepted publickey");
    assertEquals(pk.ts, "2025-01-14T09:12:01.000Z");
    assertEquals(pick(pk, "EventType", "User", "SourceIp", "SourcePort", "AuthMethod", "Outcome"), {
      EventType: "accepted",
      User: "deploy",
      SourceIp: "198.51.100.7",
      SourcePort: 50022,
      AuthMethod: "publickey",
      Outcome: "success",
    });
    const kbd = at("keyboard-interactive");
    assertEquals(pick(kbd, "AuthMethod", "SourceIp", "User"), {
      AuthMethod: "keyboard-interactive",
      SourceIp: "2001:db8::42",
      User: "alice",
    });
    assertEquals(
      pick(at("Invalid user oracle"), "EventType", "User", "InvalidUser", "SourcePort"),
      {
        EventType: "invalid_user",
        User: "oracle",
        InvalidUser: true,
        SourcePort: 40112,
      },
    );
    assertEquals(
      pick(
        at("Connection closed by invalid"),
        "EventType",
        "User",
        "InvalidUser",
        "SourceIp",
        "Preauth",
      ),
      {
        EventType: "preauth_close",
        User: "oracle",
        InvalidUser: true,
        SourceIp: "203.0.113.50",
        Preauth: true,
      },
    );
    assertEquals(pick(at("maximum authentication"), "EventType", "User", "SourceIp", "Outcome"), {
      EventType: "max_auth_exceeded",
      User: "root",
      SourceIp: "203.0.113.51",
      Outcome: "failure",
    });
    assertEquals(pick(at("Disconnecting authenticating"), "EventType", "User", "SourcePort"), {
      EventType: "max_auth_exceeded",
      User: "root",
      SourcePort: 51234,
    });
    assertEquals(
      pick(at("Received disconnect"), "EventType", "SourceIp", "SourcePort", "DisconnectCode"),
      {
        EventType: "disconnect",
        SourceIp: "203.0.113.52",
        SourcePort: 42000,
        DisconnectCode: 11,
      },
    );
    assertEquals(pick(at("Disconnected from authenticating"), "EventType", "User", "Preauth"), {
      EventType: "disconnect",
      User: "admin",
      Preauth: true,
    });
    assertEquals(pick(at("maps to"), "EventType", "SourceIp", "SourceHostname"), {
      EventType: "break_in_attempt",
      SourceIp: "203.0.113.60",
      SourceHostname: "scanner.example.net",
    });
    const iso = at("2025-01-14T09:19:00");
    assertEquals([iso.ts, iso.fields.EventType, iso.fields.User], [
      "2025-01-14T08:19:00.123Z",
      "failed_password",
      "root",
    ]);
  });

  await t.step("sudo", () => {
    assertEquals(at("restart nginx").fields, {
      User: "alice",
      Terminal: "pts/0",
      CurrentDirectory: "/home/alice",
      TargetUser: "root",
      CommandLine: "/usr/bin/systemctl restart nginx",
      EventType: "command",
      Outcome: "success",
    });
    assertEquals(
      pick(at("incorrect password"), "EventType", "User", "Attempts", "CommandLine", "Outcome"),
      {
        EventType: "incorrect_password",
        User: "bob",
        Attempts: 3,
        CommandLine: "/bin/cat /etc/shadow",
        Outcome: "failure",
      },
    );
    // The command keeps its own " ; ".
    assertEquals(
      pick(at("NOT in sudoers"), "EventType", "User", "CommandLine", "CurrentDirectory"),
      {
        EventType: "not_in_sudoers",
        User: "mallory",
        CommandLine: "/bin/sh -c id ; whoami",
        CurrentDirectory: "/tmp",
      },
    );
    assertEquals(parseSudoMessage("alice : unable to resolve host web1"), undefined);
  });

  await t.step("pam", () => {
    assertEquals(
      pick(
        at("session opened for user root(uid=0) by alice"),
        "EventType",
        "User",
        "uid",
        "by_user",
        "by_uid",
        "PamService",
        "PamType",
      ),
      {
        EventType: "session_opened",
        User: "root",
        uid: "0",
        by_user: "alice",
        by_uid: "1000",
        PamService: "sudo",
        PamType: "session",
      },
    );
    const fail = at("pam_unix(sudo:auth)");
    assertEquals(
      pick(fail, "EventType", "User", "logname", "uid", "euid", "tty", "ruser", "rhost", "Outcome"),
      {
        EventType: "auth_failure",
        User: "bob",
        logname: "bob",
        uid: "1002",
        euid: "0",
        tty: "/dev/pts/1",
        ruser: "bob",
        rhost: "",
        Outcome: "failure",
      },
    );
    assertEquals(fail.fields.SourceIp, undefined);
    assertEquals(pick(at("pam_unix(sshd:session)"), "EventType", "User"), {
      EventType: "session_opened",
      User: "deploy",
    });
    assertEquals(parsePamMessage("session closed for user news", "su")?.PamService, "su");
    assertEquals(parsePamMessage("Accepted password for x from 1.2.3.4 port 1 ssh2"), undefined);
  });

  await t.step("cron", () => {
    const cmd = at("CMD (");
    assertEquals(cmd.logsource.service, "cron");
    assertEquals(cmd.fields, {
      Action: "CMD",
      User: "root",
      EventType: "command",
      CommandLine: "cd / && run-parts --report /etc/cron.hourly",
    });
    assertEquals(
      pick(at("pam_unix(cron:session): session opened"), "EventType", "User", "PamService"),
      {
        EventType: "session_opened",
        User: "root",
        PamService: "cron",
      },
    );
    assertEquals(at("BEGIN EDIT").fields, {
      Action: "BEGIN EDIT",
      User: "alice",
      EventType: "begin_edit",
      Detail: "alice",
    });
    assertEquals(at("RELOAD").fields, {
      Action: "RELOAD",
      EventType: "reload",
      Detail: "/etc/crontab",
    });
    assertEquals(
      parseCronMessage("(CRON) info (No MTA installed, discarding output)")?.User,
      undefined,
    );
  });

  await t.step("other programs keep the syslog logsource and no EventType", () => {
    const e = at("systemd-logind");
    assertEquals([e.logsource.service, e.fields.EventType, e.message], [
      "syslog",
      undefined,
      "New session 42 of user alice.",
    ]);
  });

  await t.step("source sshd: forced routing, and bare sshd messages without a header", () => {
    const e = parseLine("Invalid user bob from 192.0.2.3 port 4000", {
      source: "sshd",
      ...UTC_2025,
    });
    assertEquals([e.logsource.service, e.fields.EventType, e.fields.parse_error], [
      "sshd",
      "invalid_user",
      undefined,
    ]);
    const junk = parseLine("hello", { source: "sshd", ...UTC_2025 });
    assertEquals(junk.logsource.service, "sshd");
    assert(typeof junk.fields.parse_error === "string");
    assertEquals(parseSshdMessage("Server listening on 0.0.0.0 port 22."), undefined);
  });

  await t.step("sshd edge cases: IPv6 in the old format, user names with spaces", () => {
    const old = parseSshdMessage("Received disconnect from 2001:db8::1: 11: Bye Bye [preauth]");
    assertEquals([old?.SourceIp, old?.DisconnectCode, old?.DisconnectReason], [
      "2001:db8::1",
      11,
      "Bye Bye",
    ]);
    const spaced = parseSshdMessage(
      "message repeated 3 times: [ Failed password for invalid user a from b from 192.0.2.1 port 1 ssh2]",
    );
    assertEquals([spaced?.User, spaced?.SourceIp, spaced?.RepeatCount], [
      "a from b",
      "192.0.2.1",
      3,
    ]);
    const empty = parseSshdMessage("Invalid user  from 192.0.2.1 port 22");
    assertEquals([empty?.User, empty?.InvalidUser], ["", true]);
  });

  await t.step("sshd banner problems: the reason after the port, when sshd gives one", () => {
    // OpenSSH 8.x+: a client that sends something other than an SSH banner (a scanner).
    const bad = parseSshdMessage(
      "banner exchange: Connection from 198.51.100.23 port 50504: invalid format",
    );
    assertEquals(bad, {
      EventType: "bad_protocol",
      SourceIp: "198.51.100.23",
      SourcePort: 50504,
      Reason: "invalid format",
    });
    const timeout = parseSshdMessage(
      "banner exchange: Connection from 2001:db8::7 port 41000: Connection timed out",
    );
    assertEquals(
      [timeout?.EventType, timeout?.SourceIp, timeout?.SourcePort, timeout?.Reason],
      ["bad_protocol", "2001:db8::7", 41000, "Connection timed out"],
    );
    // The older form names the banner it got, not a reason.
    const old = parseSshdMessage(
      "Bad protocol version identification 'GET / HTTP/1.1' from 192.0.2.8 port 3344",
    );
    assertEquals(old, { EventType: "bad_protocol", SourceIp: "192.0.2.8", SourcePort: 3344 });
  });

  await t.step("a bad time zone costs the line, not an exception", () => {
    const e = parseLine("Jan 14 09:12:01 web1 sshd[1]: x", {
      source: "syslog",
      timeZone: "Not/AZone",
    });
    assert(String(e.fields.parse_error).startsWith("parser error:"));
  });
});

function pick(e: LogEvent, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, e.fields[k]]));
}

Deno.test("audit records", async (t) => {
  const lines = readLines(`${FIXTURES}audit.log`);

  await t.step("one record: quoted, hex and nested values", () => {
    const r = parseAuditRecord(lines[0]) as AuditRecord;
    assertEquals([r.type, r.timeMs, r.serial], ["SYSCALL", 1700000000123, 456]);
    assertEquals([r.fields.comm, r.fields.exe, r.fields.key, r.fields.a0], [
      "cat",
      "/usr/bin/cat",
      "exec_watch",
      "55d4c2a3e2a0", // a SYSCALL's register arguments are hex numbers, not text
    ]);
    const login = parseAuditRecord(lines.find((l) => l.includes("USER_LOGIN"))!) as AuditRecord;
    assertEquals(login.fields.pid, "3003");
    assertEquals(login.fields.exe, "/usr/sbin/sshd");
    assertEquals(login.fields.addr, "203.0.113.5");
    assertEquals(login.fields.res, "success");
    assertEquals(login.fields.AUID, "alice"); // enriched format, after 0x1d
    assertEquals(parseAuditRecord("type=SYSCALL msg=audit(bad): x=1"), "not an audit record");
    const dmesg = parseAuditRecord(
      'audit: type=1400 audit(1700000009.001:77): apparmor="DENIED" operation="open" name="/etc/shadow" comm="cat"',
    ) as AuditRecord;
    assertEquals([dmesg.type, dmesg.fields.apparmor, dmesg.fields.name], [
      "1400",
      "DENIED",
      "/etc/shadow",
    ]);
  });

  await t.step("grouped by serial into events", () => {
    const g = new AuditGrouper({ source: "file:audit.log", referenceTime: UTC_2025.referenceTime });
    const events = lines.flatMap((l) => g.push(l));
    assertEquals(g.pending, 2); // the last event waits for a newer serial or flush()
    events.push(...g.flush());
    assertEquals(
      events.map((e) => [e.fields.serial ?? "error", e.fields.type ?? e.fields.parse_error]),
      [
        [456, "SYSCALL"],
        // A stray line comes back at once, while 457 still waits for its records.
        ["error", "not an audit record"],
        [457, "SYSCALL"],
        [458, "USER_LOGIN"],
        [459, "SYSCALL"],
        [460, "SYSCALL"],
      ],
    );
    for (const e of events) assertEquals(e.logsource, { product: "linux", service: "auditd" });

    const [exec, bad, creat, login, python, avc] = events;
    assertEquals(exec.ts, "2023-11-14T22:13:20.123Z");
    assertEquals(exec.pid, 1234);
    assertEquals(exec.fields.record_types, "SYSCALL,EXECVE,CWD,PATH,PROCTITLE");
    assertEquals(
      pick(
        exec,
        "a0",
        "a1",
        "a2",
        "argc",
        "CommandLine",
        "syscall_a0",
        "cwd",
        "name",
        "proctitle",
        "exe",
        "key",
        "auid",
      ),
      {
        a0: "cat",
        a1: "/etc/passwd",
        a2: "/tmp/my file",
        argc: "3",
        CommandLine: "cat /etc/passwd /tmp/my file",
        syscall_a0: "55d4c2a3e2a0",
        cwd: "/home/alice",
        name: "/usr/bin/cat",
        proctitle: "cat /etc/passwd /tmp/my file",
        exe: "/usr/bin/cat",
        key: "exec_watch",
        auid: "1000",
      },
    );
    assertEquals(exec.message.split("\n").length, 6);
    assertEquals(exec.raw, exec.message);

    assertEquals(pick(creat, "exe", "key", "name", "nametype", "a0", "CommandLine", "cwd"), {
      exe: "/opt/my tools/run",
      key: "persistence,cron",
      name: "/etc/cron.d/backdoor", // the created file, not its PARENT directory
      nametype: "CREATE",
      a0: "ffffff9c",
      CommandLine: "/opt/my tools/run",
      cwd: "/root",
    });

    assertEquals(bad.message, "this line is not an audit record");
    assertEquals(bad.ts, new Date(UTC_2025.referenceTime).toISOString());

    assertEquals(
      pick(login, "type", "record_types", "acct", "hostname", "terminal", "res", "UID"),
      {
        type: "USER_LOGIN",
        record_types: "USER_LOGIN",
        acct: undefined,
        hostname: "203.0.113.5",
        terminal: "/dev/pts/1",
        res: "success",
        UID: "root",
      },
    );

    assertEquals(python.fields.record_types, "SYSCALL,EXECVE");
    assertEquals(python.fields.a2, 'print("hello world")');
    assertEquals(python.fields.CommandLine, 'python3 -c print("hello world")');
    assertEquals(python.fields.key, "(null)");

    assertEquals(avc.host, "web1");
    assertEquals(avc.fields.record_types, "AVC,SYSCALL");
    assertEquals(pick(avc, "seresult", "seperms", "comm", "exit", "tclass"), {
      seresult: "denied",
      seperms: "read",
      comm: "httpd",
      exit: "-13",
      tclass: "file",
    });
  });

  await t.step("EOE and ausearch separators close an event at once", () => {
    const g = new AuditGrouper();
    assertEquals(g.push('type=SYSCALL msg=audit(1.000:1): pid=1 comm="a"').length, 0);
    assertEquals(g.push("type=EOE msg=audit(1.000:1): ").length, 1);
    assertEquals(g.push('type=SYSCALL msg=audit(1.000:2): pid=1 comm="b"').length, 0);
    assertEquals(g.push("----").length, 1);
    assertEquals(g.push("time->Thu Jan  1 00:00:01 1970").length, 0);
    assertEquals(g.flush().length, 0);
  });

  await t.step("LineParser and parseLine for auditd", () => {
    const p = new LineParser({ source: "auditd", origin: "file:/var/log/audit/audit.log" });
    const events = [...lines.flatMap((l) => p.push(l)), ...p.flush()];
    assertEquals(events.length, 6);
    assertEquals(events[0].source, "file:/var/log/audit/audit.log");
    const single = parseLine(lines[1], { source: "auditd" });
    assertEquals([single.fields.type, single.fields.CommandLine], [
      "EXECVE",
      "cat /etc/passwd /tmp/my file",
    ]);
  });
});

Deno.test("JSON lines", async (t) => {
  const lines = readLines(`${FIXTURES}journal.jsonl`);

  await t.step("journald export, MESSAGE as a byte array", () => {
    const e = parseLine(lines[0], { source: "journal-json" });
    assertEquals(e.source, "journald");
    assertEquals(e.ts, "2025-01-14T09:19:00.123Z");
    assertEquals([e.host, e.program, e.pid], ["web1", "sshd", 2260]);
    assertEquals(
      e.message,
      "Failed password for invalid user ad\uFFFDmin from 192.0.2.9 port 51000 ssh2",
    );
    assertEquals(e.logsource, { product: "linux", service: "sshd" });
    assertEquals(
      pick(
        e,
        "EventType",
        "User",
        "SourceIp",
        "SourcePort",
        "InvalidUser",
        "_SYSTEMD_UNIT",
        "severity",
        "facility",
      ),
      {
        EventType: "failed_password",
        User: "ad\uFFFDmin",
        SourceIp: "192.0.2.9",
        SourcePort: 51000,
        InvalidUser: true,
        _SYSTEMD_UNIT: "ssh.service",
        severity: "info",
        facility: "auth",
      },
    );
    assertEquals(e.fields.MESSAGE, undefined);
  });

  await t.step("journald sudo and multi-valued fields", () => {
    const sudo = parseLine(lines[1], { source: "journal-json" });
    assertEquals(
      [sudo.logsource.service, sudo.fields.EventType, sudo.fields.CommandLine, sudo.pid],
      [
        "sudo",
        "command",
        "/usr/bin/id",
        2270,
      ],
    );
    const multi = parseLine(lines[2], { source: "journal-json", origin: "journald" });
    assertEquals([multi.program, multi.fields.CODE_FILE, multi.fields.BLOB], [
      "kernel-helper",
      "a.c\nb.c",
      undefined,
    ]);
  });

  await t.step("generic JSON", () => {
    const e = parseLine(
      '{"time":1736846400.5,"level":"warn","msg":"disk almost full","host":"db1","ctx":{"mount":"/var","pct":93},"tags":["a"]}',
      { source: "json", origin: "file:/var/log/app.jsonl" },
    );
    assertEquals([e.ts, e.message, e.host], [
      "2025-01-14T09:20:00.500Z",
      "disk almost full",
      "db1",
    ]);
    assertEquals(e.fields, {
      level: "warn",
      host: "db1",
      "ctx.mount": "/var",
      "ctx.pct": 93,
      tags: '["a"]',
    });
    assertEquals(e.logsource, { product: "linux", service: "syslog" });
    const ms = parseLine('{"timestamp":1736846400123,"message":"x"}', { source: "json" });
    assertEquals(ms.ts, "2025-01-14T09:20:00.123Z");
    const none = parseLine('{"event":"x"}', { source: "json", ...UTC_2025 });
    assertEquals([none.ts, none.message], [
      new Date(UTC_2025.referenceTime).toISOString(),
      '{"event":"x"}',
    ]);
    for (const bad of ["{", "[1,2]", "null", "42"]) {
      const b = parseLine(bad, { source: "json" });
      assert(typeof b.fields.parse_error === "string");
      assertEquals(b.message, bad);
    }
  });
});

Deno.test("parseLine never throws and always returns an event", () => {
  const formats: LineFormat[] = ["syslog", "sshd", "auditd", "journal-json", "json"];
  const prefixes = [
    "",
    "<13>",
    "<165>1 ",
    '<34>1 2003-10-11T22:14:15.003Z h a - - [x@1 a="',
    "Dec 10 06:55:46 LabSZ sshd[24200]: ",
    "Jan  1 00:00:00 h sudo: ",
    "Jan  1 00:00:00 h CRON[1]: (",
    "Feb 29 00:00:00 h x(pam_unix)[1]: ",
    "2025-01-01T00:00:00Z h pam_unix(",
    "type=EXECVE msg=audit(1.1:1): a0=",
    "node=x type=SYSCALL msg=audit(99999999999.999:1): msg='",
    '{"__REALTIME_TIMESTAMP":',
    '{"MESSAGE":[',
  ];
  const line = fc.tuple(
    fc.constantFrom(...prefixes),
    fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 })),
  ).map(([p, s]) => p + s);
  fc.assert(
    fc.property(
      line,
      fc.constantFrom(...formats),
      fc.option(fc.integer(), { nil: undefined }),
      (l, f, ref) => {
        const e = parseLine(l, { source: f, referenceTime: ref, timeZone: "UTC" });
        assert(typeof e.message === "string" && typeof e.ts === "string" && e.fields !== null);
        assert(!Number.isNaN(Date.parse(e.ts)), `bad ts ${e.ts}`);
        const p = new LineParser({ source: f });
        for (const out of [...p.push(l), ...p.push(l), ...p.flush()]) {
          assert(
            typeof out.message === "string",
          );
        }
      },
    ),
    { numRuns: 3000 },
  );
});
