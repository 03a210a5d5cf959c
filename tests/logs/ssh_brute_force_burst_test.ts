/**
 * The shipped rules that mirror CrowdSec's `crowdsecurity/ssh-bf`: `ssh_auth_failure`
 * (rules/ssh_auth_failure.yml) picks the sshd lines CrowdSec's sshd parser tags
 * `ssh_failed-auth`, and "SSH brute-force burst from one source"
 * (rules/ssh_brute_force_burst.yml) fires where ssh-bf's leaky bucket (capacity 5, one event
 * leaked every 10 s) overflows, through a ladder of sliding windows. Checked on crafted lines,
 * on loghub's sample against its ground truth, and against a reference leaky bucket.
 */
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import type { AlertEvent } from "../../mod/core/mod.ts";
import {
  loadRules,
  type LogEvent,
  parseLine,
  Pipeline,
  type PipelineOptions,
} from "../../mod/logs/mod.ts";
import { isIp } from "../../mod/logs/parsers/mod.ts";
import { RuleSet } from "../../mod/logs/sigma/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const RULES = fileURLToPath(new URL("../../rules/", import.meta.url));
const LOGHUB = fileURLToPath(new URL("../../../shared/data/logs/loghub/", import.meta.url));
const BURST_ID = "1c9e5a7f-3d2b-4f6a-8b0c-7e4d2a1f2a10";
const CLOCK = { referenceTime: Date.UTC(2025, 0, 20, 12), timeZone: "UTC" };

const loaded = await loadRules([RULES]);

/** A syslog line from sshd on web1, `sec` seconds after 2025-01-14 09:00:00 UTC. */
function line(sec: number, message: string): string {
  const d = new Date(Date.UTC(2025, 0, 14, 9) + sec * 1000);
  return `Jan 14 ${d.toISOString().slice(11, 19)} web1 sshd[${4000 + (sec % 1000)}]: ${message}`;
}

function event(sec: number, message: string): LogEvent {
  return parseLine(line(sec, message), { source: "sshd", ...CLOCK });
}

/** The base rule alone, to ask whether it counts a line. */
const authFailure = new RuleSet(loaded.rules.filter((r) => r.name === "ssh_auth_failure"));
const counts = (e: LogEvent) => authFailure.match(e).length > 0;

/** Every shipped rule through a pipeline, as the agent runs them; the burst rule's alerts. */
function burstAlerts(events: LogEvent[], opts: Partial<PipelineOptions> = {}): AlertEvent[] {
  const p = new Pipeline(loaded.rules, loaded.correlations, {
    suppressWindowSecs: 60,
    correlationMaxGroups: 10_000,
    ...opts,
  });
  const out: AlertEvent[] = [];
  for (const e of events) out.push(...p.evaluate(e));
  out.push(...p.flush());
  return out.filter((a) => a.ruleId === BURST_ID);
}

/** `Failed password` lines from one address at the given seconds. */
function failures(secs: number[], ip = "192.0.2.10"): LogEvent[] {
  return secs.map((s, i) => event(s, `Failed password for root from ${ip} port ${40000 + i} ssh2`));
}

/**
 * CrowdSec's leaky bucket for one group, as a reference: it starts with room for
 * `capacity` events, regains one every `leakSecs`, and overflows on an event that finds no
 * room. Integer arithmetic in tenths of an event, so whole-second inputs are exact. Returns
 * the index of the event that first overflows it, or -1.
 */
function bucketOverflow(secs: number[], capacity = 5, leakSecs = 10): number {
  const unit = leakSecs; // room is counted in 1/leakSecs of an event per second
  let room = capacity * unit;
  let last = secs[0] ?? 0;
  for (let i = 0; i < secs.length; i++) {
    room = Math.min(capacity * unit, room + (secs[i] - last));
    last = secs[i];
    if (room < unit) return i;
    room -= unit;
  }
  return -1;
}

Deno.test("shipped rules load", () => {
  assertEquals(loaded.errors.map((e) => e.format()), []);
  const burst = loaded.correlations.find((c) => c.id === BURST_ID);
  assert(burst, "no burst correlation in rules/");
  assertEquals(burst.title, "SSH brute-force burst from one source");
  assertEquals(burst.standalone, true);
  // The ladder and the base rule raise nothing of their own.
  const ladder = loaded.correlations.filter((c) => c.name?.startsWith("ssh_auth_failure_"));
  assertEquals(
    ladder.map((c) => [c.name, c.condition.gte, c.timespanMs / 1000, c.standalone]),
    [6, 7, 8, 9, 10, 11].map((n) => {
      const secs = 10 * (n - 5) - 1;
      return [`ssh_auth_failure_${n}_in_${secs}s`, n, secs, false];
    }),
  );
  assertEquals(authFailure.rules[0].standalone, false);
});

Deno.test("ssh_auth_failure: the lines CrowdSec's ssh-bf counts", async (t) => {
  await t.step("counts each failure form sshd logs with a client address", () => {
    const counted = [
      "Failed password for root from 203.0.113.5 port 40000 ssh2",
      "Failed password for invalid user oracle from 203.0.113.5 port 40001 ssh2",
      "message repeated 5 times: [ Failed password for root from 203.0.113.5 port 40002 ssh2]",
      "Failed publickey for root from 203.0.113.5 port 40003 ssh2: RSA SHA256:abc",
      "Failed keyboard-interactive/pam for alice from 2001:db8::5 port 40004 ssh2",
      "Invalid user oracle from 203.0.113.5",
      "Invalid user oracle from 203.0.113.5 port 40005",
      "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= " +
      "rhost=203.0.113.5  user=root",
      "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= " +
      "rhost=203.0.113.5 ",
      "Connection closed by authenticating user root 203.0.113.5 port 40006 [preauth]",
      "Connection closed by invalid user oracle 203.0.113.5 port 40007 [preauth]",
      "Disconnected from authenticating user root 203.0.113.5 port 40008 [preauth]",
      "Disconnected from invalid user oracle 203.0.113.5 port 40009 [preauth]",
      "banner exchange: Connection from 203.0.113.5 port 40010: invalid format",
    ];
    for (const msg of counted) assert(counts(event(0, msg)), `not counted: ${msg}`);
  });

  await t.step("leaves out what ssh-bf leaves out", () => {
    const ignored = [
      // the "none" probe; sshd logs it for invalid users, whose "Invalid user" line counts
      "Failed none for invalid user oracle from 203.0.113.5 port 40000 ssh2",
      "input_userauth_request: invalid user oracle [preauth]",
      "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5",
      "pam_unix(sshd:auth): check pass; user unknown",
      "pam_unix(sshd:session): session opened for user root by (uid=0)",
      "Did not receive identification string from 203.0.113.5",
      "Connection closed by 203.0.113.5 [preauth]",
      "Connection closed by 203.0.113.5 port 40001 [preauth]",
      "Connection reset by authenticating user root 203.0.113.5 port 40002 [preauth]",
      "Received disconnect from 203.0.113.5: 11: Bye Bye [preauth]",
      "Disconnected from user alice 203.0.113.5 port 40003",
      "Disconnected from 203.0.113.5 port 40004 [preauth]",
      "banner exchange: Connection from 203.0.113.5 port 40005: Connection timed out",
      "Bad protocol version identification 'GET / HTTP/1.1' from 203.0.113.5 port 40006",
      "Disconnecting: Too many authentication failures for root [preauth]",
      "reverse mapping checking getaddrinfo for x.example [203.0.113.5] failed - " +
      "POSSIBLE BREAK-IN ATTEMPT!",
      "Accepted password for alice from 203.0.113.5 port 40007 ssh2",
      // a host name, not an address: nothing to group by (CrowdSec's grok needs an IP too)
      "Failed password for root from scanner.example.net port 40008 ssh2",
      "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= " +
      "rhost=scanner.example.net  user=root",
    ];
    for (const msg of ignored) assert(!counts(event(0, msg)), `counted: ${msg}`);
  });

  await t.step("a PAM failure of another service is not an sshd failure", () => {
    const sudo = parseLine(
      "Jan 14 09:00:00 web1 sudo: pam_unix(sudo:auth): authentication failure; logname=bob " +
        "uid=1002 euid=0 tty=/dev/pts/1 ruser=bob rhost=203.0.113.5  user=bob",
      { source: "syslog", ...CLOCK },
    );
    assert(!counts(sudo));
  });

  await t.step("loghub OpenSSH_2k: by template, against the ground truth", () => {
    if (!requirePart(`loghub sample in ${LOGHUB}`, exists(`${LOGHUB}OpenSSH_2k.log`))) return;
    const lines = Deno.readTextFileSync(`${LOGHUB}OpenSSH_2k.log`).split("\n")
      .filter((l) => l !== "");
    const rows = readStructured(`${LOGHUB}OpenSSH_2k.log_structured.csv`);
    assertEquals(rows.length, lines.length);
    // Failed password (valid and invalid users, and syslog's "message repeated" of one),
    // "Invalid user … from ADDR", and pam_unix sshd:auth failures with an address in rhost.
    const always = new Set(["E9", "E10", "E13", "E14"]);
    const withAddress = new Set(["E19", "E20"]);
    const wrong: string[] = [];
    const tally = new Map<string, number>();
    rows.forEach((row, i) => {
      const e = parseLine(lines[i], { source: "sshd", referenceTime: Date.UTC(2016, 0, 4) });
      const rhost = /rhost=(\S*)/.exec(row.content)?.[1] ?? "";
      const want = always.has(row.id) || (withAddress.has(row.id) && isIp(rhost));
      const got = counts(e);
      if (got) tally.set(row.id, (tally.get(row.id) ?? 0) + 1);
      if (got !== want && wrong.length < 10) wrong.push(`line ${i + 1} (${row.id}): ${got}`);
    });
    assertEquals(wrong, []);
    assertEquals(Object.fromEntries([...tally].sort()), {
      E10: 135,
      E13: 113,
      E14: 2,
      E19: 105,
      E20: 383,
      E9: 383,
    });
  });
});

Deno.test("SSH brute-force burst: where ssh-bf's leaky bucket overflows", async (t) => {
  await t.step("6 failures within 9 s fire; the 6th at 10 s finds a leaked slot", () => {
    const fired = burstAlerts(failures([0, 1, 2, 3, 4, 9]));
    assertEquals(fired.length, 1);
    assertEquals(fired[0].srcIp, "192.0.2.10");
    assertEquals(fired[0].severity, "high");
    assertEquals(burstAlerts(failures([0, 1, 2, 3, 4, 10])), []);
    assertEquals(bucketOverflow([0, 1, 2, 3, 4, 9]), 5);
    assertEquals(bucketOverflow([0, 1, 2, 3, 4, 10]), -1);
  });

  await t.step("the top of the ladder: 11 within 59 s fire, 11 within 60 s do not", () => {
    const spread = [0, 6, 12, 18, 24, 30, 36, 42, 48, 54];
    assertEquals(burstAlerts(failures([...spread, 59])).length, 1);
    assertEquals(burstAlerts(failures([...spread, 60])), []);
  });

  await t.step("one attempt's lines count together: invalid user, PAM, failed password", () => {
    // Two attempts of a bot as loghub records them: 6 counted lines in 6 s.
    const ip = "198.51.100.77";
    const attempt = (s: number, user: string) => [
      event(s, `Invalid user ${user} from ${ip}`),
      event(s, `input_userauth_request: invalid user ${user} [preauth]`),
      event(
        s + 1,
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= " +
          `rhost=${ip} `,
      ),
      event(s + 3, `Failed password for invalid user ${user} from ${ip} port 5000${s} ssh2`),
      event(s + 3, `Received disconnect from ${ip}: 11: Closed due to user request. [preauth]`),
    ];
    assertEquals(burstAlerts(attempt(0, "support")), []);
    const fired = burstAlerts([...attempt(0, "support"), ...attempt(3, "admin")]);
    assertEquals(fired.map((a) => a.srcIp), [ip]);
  });

  await t.step("other addresses do not add up; lines without an address are left out", () => {
    const mixed = [
      ...failures([0, 1, 2], "192.0.2.1"),
      ...failures([0, 1, 2], "192.0.2.2"),
      ...[0, 1, 2, 3, 4, 5].map((s) =>
        event(s, "input_userauth_request: invalid user x [preauth]")
      ),
    ];
    assertEquals(burstAlerts(mixed), []);
  });

  await t.step(
    "a long attack: one alert a minute (suppression, like ssh-bf's 1 m blackhole)",
    () => {
      const secs = Array.from({ length: 180 }, (_, i) => i);
      const fired = burstAlerts(failures(secs));
      assertEquals(fired.map((a) => a.ts.slice(11, 19)), ["09:00:05", "09:01:05", "09:02:05"]);
      assert(fired[0].description?.includes("SourceIp=192.0.2.10"));
    },
  );

  await t.step("up to 11 lines, it fires exactly when the leaky bucket overflows", () => {
    fc.assert(
      fc.property(
        // Gaps around the leak rate, where the rungs of the ladder differ.
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 11 }),
        (gaps) => {
          const secs = gaps.map((_, i) => gaps.slice(0, i + 1).reduce((a, b) => a + b, 0));
          const overflow = bucketOverflow(secs) >= 0;
          return (burstAlerts(failures(secs)).length > 0) === overflow;
        },
      ),
      { numRuns: 1000 },
    );
  });

  await t.step("on longer attacks it never fires where the bucket would not", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 12, maxLength: 40 }),
        (gaps) => {
          const secs = gaps.map((_, i) => gaps.slice(0, i + 1).reduce((a, b) => a + b, 0));
          const fired = burstAlerts(failures(secs)).length > 0;
          return !fired || bucketOverflow(secs) >= 0;
        },
      ),
      { numRuns: 200 },
    );
  });

  await t.step(
    "documented gap: a steady line every 6 s overflows the bucket after a minute",
    () => {
      const secs = Array.from({ length: 20 }, (_, i) => i * 6);
      assertEquals(bucketOverflow(secs), 11); // the 12th line, at 66 s
      assertEquals(burstAlerts(failures(secs)), []);
    },
  );
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** loghub's structured CSV (no quoting, no comma in any field): each line's template and text. */
function readStructured(path: string): { id: string; content: string }[] {
  const [header, ...rows] = Deno.readTextFileSync(path).split(/\r?\n/).filter((l) => l !== "");
  const cols = header.split(",");
  const [iId, iContent] = [cols.indexOf("EventId"), cols.indexOf("Content")];
  return rows.map((r) => {
    const f = r.split(",");
    assertEquals(f.length, cols.length, `unexpected commas in ${r}`);
    return { id: f[iId], content: f[iContent] };
  });
}
