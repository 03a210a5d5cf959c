/**
 * Fuzzing (issue 16) of the log parsers behind the syslog header: Linux audit records and
 * their grouping into events, the sshd, sudo, PAM and cron message parsers, and JSON lines
 * (generic and `journalctl --output=json`). These return a reason or `undefined` for what
 * they do not understand, so each property says: the parser never throws at all (called
 * directly, not through `parseLine`, whose catch-all would hide a throw), it stays within a
 * time budget linear in the input's size (inputs grown to ~1 MB from attacker-shaped
 * fragments), and it round-trips what a printer of the format writes (audit records as
 * auditd writes them, sshd/sudo/PAM/cron lines from their templates, JSON objects).
 *
 * Inputs that once found a bug are replayed from `tests/fixtures/fuzz/logs/` (one JSON file
 * each: `{ "target", "input" }` or, for a large one, `{ "target", "recipe": { "head", "unit",
 * "times", "tail", "tailTimes"?, "end"? } }`: `unit` repeated `times`, `tail` `tailTimes` (1); the README there says what each found). `FUZZ_RUNS_SCALE` multiplies
 * every run count (CI uses the defaults below).
 */
import fc from "fast-check";
import {
  auditEvent,
  AuditGrouper,
  parseAuditRecord,
  parseCronMessage,
  parseJournalJson,
  parseJsonLine,
  parsePamMessage,
  parseSshdMessage,
  parseSudoMessage,
} from "../../mod/logs/parsers/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { check, runs } from "../helpers/fuzz.ts";

const CORPUS = new URL("../fixtures/fuzz/logs/", import.meta.url);

/** Runs per property (before `FUZZ_RUNS_SCALE`), reported in each step's name. */
const RUNS = { small: 1000, grown: 15, roundTrip: 300, grouping: 300 };

/** Milliseconds allowed for `chars` of input: 50 ms of slack plus 2 µs a character. */
const budgetMs = (chars: number) => 50 + chars * 0.002;

/** Runs `f` on `input`: any throw fails, and so does taking longer than the budget. */
function safely<T>(what: string, input: string, f: (s: string) => T): T {
  const started = performance.now();
  let out: T;
  try {
    out = f(input);
  } catch (e) {
    throw new Error(
      `${what} threw ${e instanceof Error ? e.stack : e}\non ${
        JSON.stringify(input.slice(0, 300))
      }`,
    );
  }
  const ms = performance.now() - started;
  assert(
    ms <= budgetMs(input.length),
    `${what}: ${ms.toFixed(0)} ms on ${input.length} chars (budget ${budgetMs(input.length)})`,
  );
  return out;
}

// --- the targets ----------------------------------------------------------------------------

interface Target {
  id: string;
  run(input: string): unknown;
  /** Syntax worth splicing: valid pieces, broken ones, and what makes regexes backtrack. */
  fragments: string[];
  /** Valid starts of a message, so what follows reaches the deeper patterns. */
  heads: string[];
}

/** Pieces any line may hold: line terminators `.` does not match, controls, odd Unicode. */
const COMMON = [" ", "  ", "\t", "\n", "\r", "\u2028", "\u2029", "\0", "\x1d", "\ufffd", "é", "\\"];

const TARGETS: Target[] = [
  {
    id: "audit",
    run: (s) => parseAuditRecord(s),
    fragments: [
      "type=SYSCALL ",
      "type=EXECVE ",
      "type=PROCTITLE ",
      "type=AVC ",
      "node=h ",
      "msg=audit(1700000000.123:456): ",
      "audit(",
      "):",
      "proctitle=",
      "2F62696E",
      "00",
      "0000",
      "a0=",
      "a1[0]=",
      "a1[1]=",
      "a1_len=4",
      "argc=3 ",
      'exe="/usr/bin/id" ',
      "key=",
      "msg='",
      "'",
      '"',
      "=",
      "avc:  denied  { ",
      "avc: granted { read ",
      " } for ",
      "}",
      "{",
      "__proto__=x ",
      ...COMMON,
    ],
    heads: [
      "",
      "type=SYSCALL msg=audit(1700000000.123:456): ",
      "type=PROCTITLE msg=audit(1700000000.123:456): proctitle=",
      "type=EXECVE msg=audit(1700000000.123:456): argc=2 ",
      "type=AVC msg=audit(1700000000.123:456): ",
      "type=USER_AUTH msg=audit(1700000000.123:456): msg='",
      "node=h type=CWD msg=audit(1700000000.123:456): ",
    ],
  },
  {
    id: "sshd",
    run: (s) => parseSshdMessage(s),
    fragments: [
      "Accepted ",
      "Failed password for ",
      "invalid user ",
      "Invalid user ",
      " for ",
      " from ",
      "10.0.0.1",
      "::1",
      " port ",
      "22",
      " ssh2",
      ": ",
      ":",
      "1:",
      " [preauth]",
      "[",
      "]",
      "message repeated 3 times: [ ",
      "Received disconnect from ",
      "Disconnected from user ",
      "Connection closed by ",
      "authenticating user ",
      "error: ",
      "fatal: ",
      "PAM 2 more authentication failures; ",
      "rhost=1.2.3.4 ",
      "user=",
      "reverse mapping checking getaddrinfo for ",
      " - POSSIBLE BREAK-IN ATTEMPT!",
      "Bad protocol version identification '",
      "'",
      "Unable to negotiate with ",
      "Did not receive identification string from ",
      "Disconnecting: Too many authentication failures",
      ...COMMON,
    ],
    heads: [
      "",
      "Accepted publickey for ",
      "Failed password for ",
      "Failed password for invalid user ",
      "Invalid user ",
      "input_userauth_request: invalid user ",
      "Received disconnect from ",
      "Disconnected from ",
      "Connection closed by ",
      "message repeated 5 times: [ ",
      "maximum authentication attempts exceeded for ",
      "Disconnecting ",
      "User ",
      "Unable to negotiate with ",
      "banner exchange: Connection from ",
    ],
  },
  {
    id: "sudo",
    run: (s) => parseSudoMessage(s),
    fragments: [
      " : ",
      " ; ",
      "TTY=pts/0",
      "PWD=/",
      "USER=root",
      "COMMAND=",
      "COMMAND=/bin/id ; ",
      "3 incorrect password attempts",
      "user NOT in sudoers",
      "=",
      ";",
      ":",
      ...COMMON,
    ],
    heads: ["", "alice : ", "alice : TTY=pts/0 ; ", "bob : 3 incorrect password attempts ; "],
  },
  {
    id: "pam",
    run: (s) => [parsePamMessage(s), parsePamMessage(s, "sshd")],
    fragments: [
      "pam_unix(",
      "sshd:auth",
      "):",
      "session opened for user ",
      "(uid=0)",
      "(uid=",
      " by ",
      " by",
      "authentication failure; ",
      "logname= ",
      "rhost=1.2.3.4",
      "user=root",
      "=",
      "account ",
      " has expired",
      "bad username [",
      "]",
      "(",
      ")",
      ...COMMON,
    ],
    heads: [
      "",
      "pam_unix(sshd:session): session opened for user ",
      "session opened for user ",
      "pam_unix(sshd:auth): authentication failure; ",
      "pam_unix(su:auth): bad username [",
      "account ",
    ],
  },
  {
    id: "cron",
    run: (s) => parseCronMessage(s),
    fragments: ["(", ")", "(root) ", "CMD ", "BEGIN EDIT ", "(cmd)", " (", "a", ...COMMON],
    heads: ["", "(root) CMD (", "(CRON) INFO (", "(root) BEGIN EDIT ("],
  },
  {
    id: "json",
    run: (s) => [parseJsonLine(s), parseJournalJson(s)],
    fragments: [
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      '"',
      '"MESSAGE":',
      '"msg":',
      '"ts":',
      '"time":1e400',
      '"__REALTIME_TIMESTAMP":"99999999999999999999"',
      '"PRIORITY":"3"',
      '"_PID":',
      '"pid":"-1"',
      '"__proto__":',
      "[104,105]",
      "[256]",
      "null",
      "1e999",
      "-0",
      '"\\u0000"',
      '"\\ud800"',
      ...COMMON,
    ],
    heads: ["", "{", '{"MESSAGE":', '{"a":{"b":{"c":{"d":{"e":', '{"MESSAGE":[[[['],
  },
];

const byId = new Map(TARGETS.map((t) => [t.id, t]));

function shaped(t: Target, maxParts = 40) {
  return fc.array(fc.oneof(fc.constantFrom(...t.fragments), fc.string({ maxLength: 6 })), {
    maxLength: maxParts,
  }).map((parts) => parts.join(""));
}

/** 1 kB to 1 MB, spread evenly on a log scale (no bias to the small end). */
const grownSize = fc.noBias(fc.integer({ min: 0, max: 10 })).map((k) => 1000 * 2 ** k);

/**
 * A valid head, then a unit of one to three fragments (or shaped junk) repeated to 1 k – 1 M
 * characters, then a tail: often one of the characters `.` does not match, which is what
 * turns a failed `$` into a retry from every earlier candidate.
 */
function grown(t: Target) {
  const few = fc.array(fc.constantFrom(...t.fragments), { minLength: 1, maxLength: 3 })
    .map((p) => p.join(""));
  return fc.tuple(
    fc.constantFrom(...t.heads),
    fc.oneof(few, shaped(t, 8)),
    grownSize,
    fc.oneof(fc.constantFrom("", "\n", "\r", "\u2028", "x", "]", "}"), shaped(t, 3)),
  ).map(([head, unit, size, tail]) => {
    const u = unit || t.fragments[0];
    return head + u.repeat(Math.ceil(size / u.length)) + tail;
  });
}

Deno.test("fuzz: log message parsers never throw, in linear time", async (t) => {
  for (const target of TARGETS) {
    const run = (s: string) => void safely(target.id, s, target.run);
    await t.step(`${target.id}: arbitrary strings (${runs(RUNS.small)} runs)`, () => {
      check(fc.property(fc.string({ maxLength: 300, unit: "binary" }), run), runs(RUNS.small));
    });
    await t.step(`${target.id}: shaped fragments (${runs(RUNS.small)} runs)`, () => {
      const line = fc.tuple(fc.constantFrom(...target.heads), shaped(target)).map(([h, s]) =>
        h + s
      );
      check(fc.property(line, run), runs(RUNS.small));
    });
    await t.step(`${target.id}: grown to ~1 MB (${runs(RUNS.grown)} runs)`, () => {
      check(fc.property(grown(target), run), runs(RUNS.grown), true);
    });
  }
  await t.step("the inputs kept in tests/fixtures/fuzz/logs/", async (t) => {
    const kept = await corpus();
    assert(kept.length > 0, "the corpus is empty");
    for (const { file, target, input } of kept) {
      await t.step(file, () => {
        const x = byId.get(target);
        if (x === undefined) throw new Error(`unknown corpus target ${target}`);
        safely(target, input, x.run);
      });
    }
  });
});

// --- audit records: round trip through a printer of auditd's format ------------------------

/** Fields auditd hex-encodes; the parser decodes them when unquoted and all hex. */
const ENCODED = ["proctitle", "cmd", "exe", "comm", "name", "cwd", "path", "data", "acct"];

function hex(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0"))
    .join("").toUpperCase();
}

interface PrintedField {
  key: string;
  value: string;
  /** How the printer writes it: bare, in double quotes, or hex (auditd's encoding). */
  how: "bare" | "quoted" | "hex";
}

/** Keys of plain fields: not an EXECVE argument, not `msg`, not an encoded one. */
const plainKey = fc.stringMatching(/^[b-z][a-z0-9_]{0,10}$/).filter((k) =>
  !ENCODED.includes(k) && k !== "msg" && k !== "seresult" && k !== "seperms"
);
/** Values as text: no NUL or \x01 (the decoder turns those into separators), no "avc:". */
const text = fc.string({ unit: "binary", maxLength: 30 }).filter((v) =>
  !v.includes("\0") && !v.includes("\x01") && !v.includes("avc:")
);

const field: fc.Arbitrary<PrintedField> = fc.oneof(
  // A bare value: no space, no separator, no quote first; never all hex for encoded keys.
  fc.record({
    key: plainKey,
    value: fc.stringMatching(/^[A-Za-z0-9_.:\/=+-]{0,20}$/),
    how: fc.constant("bare" as const),
  }),
  fc.record({
    key: fc.oneof(plainKey, fc.constantFrom(...ENCODED)),
    value: text.filter((v) => !v.includes('"')),
    how: fc.constant("quoted" as const),
  }),
  fc.record({
    key: fc.constantFrom(...ENCODED),
    value: text.filter((v) => v.length > 0),
    how: fc.constant("hex" as const),
  }),
);

function printField(f: PrintedField): string {
  if (f.how === "hex") return `${f.key}=${hex(f.value)}`;
  return f.how === "quoted" ? `${f.key}="${f.value}"` : `${f.key}=${f.value}`;
}

const record = fc.record({
  type: fc.constantFrom("SYSCALL", "CWD", "PATH", "USER_LOGIN", "CRED_ACQ", "1400"),
  seconds: fc.integer({ min: 0, max: 999_999_999_999 }),
  millis: fc.integer({ min: 0, max: 999 }),
  serial: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
  node: fc.option(fc.stringMatching(/^[a-z0-9.-]{1,12}$/), { nil: undefined }),
  fields: fc.uniqueArray(field, { maxLength: 12, selector: (f) => f.key }),
  sep: fc.constantFrom(" ", "\x1d"),
});

type PrintedRecord = typeof record extends fc.Arbitrary<infer T> ? T : never;

function printRecord(r: PrintedRecord): string {
  const node = r.node === undefined ? "" : `node=${r.node} `;
  const ms = String(r.millis).padStart(3, "0");
  return `${node}type=${r.type} msg=audit(${r.seconds}.${ms}:${r.serial}): ` +
    r.fields.map(printField).join(r.sep);
}

/** An EXECVE argument list, long ones split into hex chunks as auditd does. */
const execve = fc.array(
  fc.record({ arg: text, how: fc.constantFrom("quoted", "hex", "chunked") }),
  { minLength: 1, maxLength: 8 },
).map((args) => ({
  args: args.map((a) => (a.how === "quoted" ? a.arg.replaceAll('"', "") : a.arg)),
  printed: `argc=${args.length} ` + args.map((a, i) => {
    if (a.how === "quoted") return `a${i}="${a.arg.replaceAll('"', "")}"`;
    if (a.how === "hex" && a.arg !== "") return `a${i}=${hex(a.arg)}`;
    const h = hex(a.arg);
    const chunks = h.match(/.{1,6}/g) ?? [""];
    return `a${i}_len=${h.length} ` + chunks.map((c, j) => `a${i}[${j}]=${c}`).join(" ");
  }).join(" "),
}));

Deno.test("fuzz: audit records round-trip from auditd's format", async (t) => {
  await t.step(
    `one record: type, time, serial, node, fields (${runs(RUNS.roundTrip)} runs)`,
    () => {
      check(
        fc.property(record, (r) => {
          const line = printRecord(r);
          const got = safely("parseAuditRecord", line, parseAuditRecord);
          assert(typeof got !== "string", `refused ${JSON.stringify(line)}: ${got}`);
          assertEquals(got.type, r.type);
          assertEquals(got.timeMs, r.seconds * 1000 + r.millis);
          assertEquals(got.serial, r.serial);
          assertEquals(got.node, r.node);
          assertEquals(got.fields, Object.fromEntries(r.fields.map((f) => [f.key, f.value])));
        }),
        runs(RUNS.roundTrip),
      );
    },
  );
  await t.step(`EXECVE arguments, quoted, hex and chunked (${runs(RUNS.roundTrip)} runs)`, () => {
    check(
      fc.property(execve, (x) => {
        const sys = 'type=SYSCALL msg=audit(1700000000.123:9): syscall=59 a0=1 pid=7 comm="sh"';
        const line = `type=EXECVE msg=audit(1700000000.123:9): ${x.printed}`;
        const records = [sys, line].map((l) => safely("parseAuditRecord", l, parseAuditRecord));
        assert(records.every((r) => typeof r !== "string"), `refused ${JSON.stringify(line)}`);
        const e = auditEvent(records as Exclude<(typeof records)[number], string>[]);
        assertEquals(e.fields.CommandLine, x.args.join(" "));
        assertEquals(e.fields.syscall_a0, "1");
        x.args.forEach((a, i) => assertEquals(e.fields[`a${i}`], a));
      }),
      runs(RUNS.roundTrip),
    );
  });
});

// --- audit grouping --------------------------------------------------------------------------

/** Feeds `lines` to a grouper, then flushes; never throws, every event within `max` records. */
function groupLines(lines: string[], max: number) {
  const g = new AuditGrouper({ maxRecords: max, referenceTime: 0, timeZone: "UTC" });
  const size = lines.reduce((n, l) => n + l.length + 1, 0);
  return safely("AuditGrouper", lines.join("\n"), () => {
    const events = lines.flatMap((l) => g.push(l));
    events.push(...g.flush());
    assertEquals(g.pending, 0);
    for (const e of events) {
      if (e.fields.parse_error !== undefined) continue;
      assert(String(e.fields.record_types).split(",").length <= max, "an event over maxRecords");
    }
    return { events, size };
  });
}

/** A line of an audit log: a record of one of a few events, EOE, a separator, or junk. */
const auditLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(fc.nat(3), fc.constantFrom("SYSCALL", "PATH", "CWD", "EXECVE", "EOE")).map(
      ([serial, type]) => `type=${type} msg=audit(1700000000.100:${serial}): pid=${serial} x="y"`,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom("----", "", "   ", "time->Tue Nov 14 22:13:20 2023") },
  { weight: 1, arbitrary: shaped(byId.get("audit")!, 10).map((s) => s.replaceAll("\n", " ")) },
);

Deno.test("fuzz: audit grouping keeps every record exactly once", async (t) => {
  await t.step(`records of interleaved events (${runs(RUNS.grouping)} runs)`, () => {
    check(
      fc.property(
        fc.array(auditLine, { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (lines, max) => {
          const { events } = groupLines(lines, max);
          // Every record but EOE lands in exactly one event; each junk line is one parse_error.
          const parsed = lines.map((l) =>
            l.trim() === "" || l.trim() === "----" ? "skip" : parseAuditRecord(l)
          );
          const records = parsed.filter((r) => typeof r !== "string" && r.type !== "EOE");
          const junk = parsed.filter((r, i) =>
            typeof r === "string" && r !== "skip" && !lines[i].trim().startsWith("time->")
          );
          const grouped = events.filter((e) => e.fields.parse_error === undefined);
          const count = grouped.reduce((n, e) => n + String(e.raw).split("\n").length, 0);
          assertEquals(count, records.length);
          assertEquals(events.length - grouped.length, junk.length);
          // An event's records share one node, time and serial, and are at most `max`.
          for (const e of grouped) {
            const raws = String(e.raw).split("\n");
            assert(raws.length <= max, `an event of ${raws.length} records, over ${max}`);
            const keys = new Set(raws.map((l) => {
              const r = parseAuditRecord(l);
              return typeof r === "string" ? r : `${r.node}|${r.timeMs}:${r.serial}`;
            }));
            assertEquals(keys.size, 1, `one event mixes records: ${e.raw}`);
          }
        },
      ),
      runs(RUNS.grouping),
    );
  });
  await t.step(`one runaway event of 20k-100k records (${runs(5)} runs)`, () => {
    check(
      fc.property(
        fc.integer({ min: 20_000, max: 100_000 }),
        fc.integer({ min: 1, max: 4096 }),
        (n, max) => {
          const line =
            'type=PATH msg=audit(1700000000.100:1): item=0 name="/etc/passwd" nametype=NORMAL';
          const { events } = groupLines(Array.from({ length: n }, () => line), max);
          assertEquals(events.length, Math.ceil(n / max));
        },
      ),
      runs(5),
      true,
    );
  });
});

// --- sshd, sudo, PAM, cron: round trips through their message templates ---------------------

/** An attacker-chosen user name: anything but a line break (sshd escapes those). */
const userName = fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((u) =>
  !/[\n\r\u2028\u2029]/.test(u) && u.trim() === u && u !== "" && !u.startsWith("invalid user ")
);
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const port = fc.integer({ min: 0, max: 65535 });

Deno.test("fuzz: sshd, sudo, PAM and cron messages round-trip from their templates", async (t) => {
  const n = runs(RUNS.roundTrip);
  await t.step(`sshd failed/accepted: the user cannot move the address (${n} runs)`, () => {
    check(
      fc.property(
        userName,
        ip,
        port,
        fc.constantFrom("Failed", "Accepted"),
        fc.boolean(),
        (u, a, p, verb, invalid) => {
          const inv = verb === "Failed" && invalid ? "invalid user " : "";
          const msg = `${verb} password for ${inv}${u} from ${a} port ${p} ssh2`;
          const f = safely("sshd", msg, parseSshdMessage);
          assert(f !== undefined, `refused ${JSON.stringify(msg)}`);
          assertEquals([f.User, f.SourceIp, f.SourcePort], [u, a, p]);
          assertEquals(f.Outcome, verb === "Failed" ? "failure" : "success");
        },
      ),
      n,
    );
  });
  await t.step(`sshd invalid user, repeated (${n} runs)`, () => {
    check(
      fc.property(userName, ip, port, fc.integer({ min: 2, max: 1000 }), (u, a, p, times) => {
        const msg = `message repeated ${times} times: [ Invalid user ${u} from ${a} port ${p}]`;
        const f = safely("sshd", msg, parseSshdMessage);
        assert(f !== undefined, `refused ${JSON.stringify(msg)}`);
        assertEquals([f.EventType, f.User, f.SourceIp, f.RepeatCount], [
          "invalid_user",
          u,
          a,
          times,
        ]);
      }),
      n,
    );
  });
  await t.step(`sudo command records (${n} runs)`, () => {
    const word = fc.stringMatching(/^[!-~]{1,20}$/);
    const cmd = fc.string({ unit: "binary", minLength: 1, maxLength: 60 }).filter((c) =>
      c.trim() === c && c !== ""
    );
    check(
      fc.property(
        word,
        word.filter((w) => !w.includes(";")),
        word,
        cmd,
        (u, tty, target, command) => {
          const msg = `${u} : TTY=${tty} ; PWD=/home/${u} ; USER=${target} ; COMMAND=${command}`;
          const f = safely("sudo", msg, parseSudoMessage);
          assert(f !== undefined, `refused ${JSON.stringify(msg)}`);
          assertEquals(
            [f.User, f.Terminal, f.TargetUser, f.CommandLine, f.EventType],
            [u, tty, target, command, "command"],
          );
        },
      ),
      n,
    );
  });
  await t.step(`PAM authentication failures (${n} runs)`, () => {
    const word = fc.stringMatching(/^[!-~]{1,20}$/);
    check(
      fc.property(word.filter((w) => !/[():]/.test(w)), word, ip, (service, u, a) => {
        const msg = `pam_unix(${service}:auth): authentication failure; logname= uid=0 euid=0 ` +
          `tty=ssh ruser= rhost=${a}  user=${u}`;
        const f = safely("pam", msg, parsePamMessage);
        assert(f !== undefined, `refused ${JSON.stringify(msg)}`);
        assertEquals([f.PamService, f.User, f.SourceIp, f.Outcome], [service, u, a, "failure"]);
      }),
      n,
    );
  });
  await t.step(`PAM session opened, with and without "by" (${n} runs)`, () => {
    check(
      fc.property(
        fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/),
        fc.nat(70000),
        fc.option(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/), fc.nat(70000))),
        (u, uid, by) => {
          const tail = by ? ` by ${by[0]}(uid=${by[1]})` : "";
          const msg = `pam_unix(sshd:session): session opened for user ${u}(uid=${uid})${tail}`;
          const f = safely("pam", msg, parsePamMessage);
          assert(f !== undefined, `refused ${JSON.stringify(msg)}`);
          assertEquals([f.EventType, f.User, f.uid], ["session_opened", u, String(uid)]);
          assertEquals([f.by_user, f.by_uid], by ? [by[0], String(by[1])] : [undefined, undefined]);
        },
      ),
      n,
    );
  });
  await t.step(`cron commands (${n} runs)`, () => {
    check(
      fc.property(
        fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/),
        fc.string({ unit: "binary", maxLength: 60 }),
        (u, cmd) => {
          const msg = `(${u}) CMD (   ${cmd})`;
          const f = safely("cron", msg, parseCronMessage);
          assert(f !== undefined, `refused ${JSON.stringify(msg)}`);
          assertEquals([f.EventType, f.CommandLine], ["command", cmd.trim()]);
          if (u !== "cron") assertEquals(f.User, u);
        },
      ),
      n,
    );
  });
});

// --- the rewritten patterns agree with the ones they replaced -------------------------------

// The patterns as they were before the fuzzing found them quadratic (or worse); on short
// lines, where their cost does not matter, the parsers must give what they gave.
const OLD_AVC_RE = /avc:\s+(denied|granted)\s+\{ ([^}]*) \}/;
const OLD_OPENED_RE =
  /^session opened for user (.+?)(?:\(uid=(\d+)\))?(?: by (.*?)\(uid=(\d+)\))?$/;
const OLD_REPEATED_RE = /^message repeated (\d+) times: \[\s*(.*?)\s*\]$/s;

Deno.test("fuzz: rewritten patterns match what the old ones matched", async (t) => {
  const n = runs(RUNS.small);
  const piece = (xs: string[]) =>
    fc.array(fc.oneof(fc.constantFrom(...xs), fc.string({ maxLength: 3 })), { maxLength: 16 })
      .map((p) => p.join(""));
  await t.step(`AVC decision and permissions (${n} runs)`, () => {
    const avc = piece(["avc:", " ", "  ", "denied", "granted", "{ ", " }", "}", "{", "read", "\n"]);
    check(
      fc.property(avc, (body) => {
        const r = parseAuditRecord(`type=AVC msg=audit(1.2:3): ${body}`);
        assert(typeof r !== "string");
        const old = OLD_AVC_RE.exec(body.trimEnd());
        assertEquals([r.fields.seresult, r.fields.seperms], [old?.[1], old?.[2].trim()]);
      }),
      n,
    );
  });
  await t.step(`PAM session opened (${n} runs)`, () => {
    const opened = piece(["(uid=", "0", "12", ")", " by ", " by", "by ", "a", "(", "\r"]);
    check(
      fc.property(opened, (rest) => {
        const text = `session opened for user ${rest}`;
        const f = parsePamMessage(`pam_unix(sshd:session): ${text}`);
        const old = OLD_OPENED_RE.exec(text);
        if (old === null) return assert(f?.EventType !== "session_opened");
        assertEquals(
          [f?.EventType, f?.User, f?.uid, f?.by_user, f?.by_uid],
          ["session_opened", old[1], old[2], old[3] || undefined, old[4]],
        );
      }),
      n,
    );
  });
  await t.step(`sshd "message repeated" (${n} runs)`, () => {
    const repeated = piece(["[", "]", " ", "  ", "\t", "Invalid user a from 1.2.3.4", "x"]);
    check(
      fc.property(repeated, (rest) => {
        const msg = `message repeated 2 times: ${rest}`;
        const old = OLD_REPEATED_RE.exec(msg);
        const inner = old === null ? undefined : parseSshdMessage(old[2]);
        const want = inner === undefined ? undefined : { ...inner, RepeatCount: 2 };
        assertEquals(parseSshdMessage(msg), want);
      }),
      n,
    );
  });
});

// --- JSON lines --------------------------------------------------------------------------------

/** Deeply nested JSON: arrays, objects or both, to a depth of 1k – 200k. */
const deepJson = fc.tuple(
  fc.integer({ min: 1000, max: 200_000 }),
  fc.constantFrom("[", '{"a":', '[{"a":'),
)
  .map(([depth, open]) => {
    const close = open === "[" ? "]" : open === '{"a":' ? "}" : "}]";
    return `{"MESSAGE":"m","msg":"m","X":${open.repeat(depth)}1${close.repeat(depth)}}`;
  });

Deno.test("fuzz: JSON lines", async (t) => {
  const n = runs(RUNS.roundTrip);
  await t.step(`arbitrary JSON values never throw (${runs(RUNS.small)} runs)`, () => {
    check(
      fc.property(
        fc.jsonValue(),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }),
        (v, obj) => {
          for (
            const line of [JSON.stringify(v), JSON.stringify({ ...obj, MESSAGE: v, ts: v, pid: v })]
          ) {
            safely("json", line, (s) => [parseJsonLine(s), parseJournalJson(s)]);
          }
        },
      ),
      runs(RUNS.small),
    );
  });
  await t.step(`nesting 1k-200k deep (${runs(RUNS.grown)} runs)`, () => {
    check(
      fc.property(deepJson, (line) => {
        const [j, k] = safely("json", line, (s) => [parseJsonLine(s), parseJournalJson(s)]);
        assert(typeof j !== "string" && typeof k !== "string");
        assertEquals([j.message, k.message], ["m", "m"]);
      }),
      runs(RUNS.grown),
      true,
    );
  });
  await t.step(`journal export objects round-trip (${n} runs)`, () => {
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/).filter((k) =>
      k !== "MESSAGE" && k !== "__proto__"
    );
    check(
      fc.property(
        fc.dictionary(key, fc.string({ unit: "binary", maxLength: 20 }), { maxKeys: 10 }),
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.boolean(),
        (fields, message, asBytes) => {
          const msg = asBytes && message !== ""
            ? Array.from(new TextEncoder().encode(message))
            : message;
          const line = JSON.stringify({ ...fields, MESSAGE: msg });
          const p = safely("journal", line, parseJournalJson);
          assert(typeof p !== "string", `refused ${line}`);
          assertEquals(p.message, message.trim());
          for (const [k, v] of Object.entries(fields)) assertEquals(p.fields[k], v);
        },
      ),
      n,
    );
  });
  await t.step(`generic JSON objects round-trip (${n} runs)`, () => {
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,12}$/).filter((k) =>
      !["ts", "timestamp", "time", "message", "msg"].includes(k)
    );
    const scalar = fc.oneof(
      fc.string({ unit: "binary", maxLength: 20 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    check(
      fc.property(
        fc.dictionary(key, scalar, { maxKeys: 10 }),
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }),
        (fields, message, date) => {
          const line = JSON.stringify({ ...fields, msg: message, ts: date.toISOString() });
          const p = safely("json", line, parseJsonLine);
          assert(typeof p !== "string", `refused ${line}`);
          assertEquals([p.message, p.ts], [message.trim(), date.toISOString()]);
          assertEquals(p.fields, { ...fields });
        },
      ),
      n,
    );
  });
});

/** The kept inputs, recipes expanded. */
async function corpus(): Promise<{ file: string; target: string; input: string }[]> {
  const out: { file: string; target: string; input: string }[] = [];
  for await (const e of Deno.readDir(CORPUS)) {
    if (!e.isFile || !e.name.endsWith(".json")) continue;
    const c = JSON.parse(await Deno.readTextFile(new URL(e.name, CORPUS)));
    const r = c.recipe;
    out.push({
      file: e.name,
      target: c.target,
      input: r === undefined
        ? c.input
        : r.head + r.unit.repeat(r.times) + r.tail.repeat(r.tailTimes ?? 1) + (r.end ?? ""),
    });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}
