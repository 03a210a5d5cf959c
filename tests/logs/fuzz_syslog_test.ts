/**
 * Fuzzing (issue 16) of the syslog input an attacker controls: the RFC 3164 / 5424 parser and
 * the RFC 6587 octet-counted framing of TCP syslog. Each property: the code never throws
 * (errors are values: a string from `parseSyslog`, `error` from the decoder), and it stays
 * within a time budget linear in the input's size, checked on inputs grown to hundreds of
 * kilobytes from attacker-shaped fragments. Inputs that once found a bug are replayed from
 * `tests/fixtures/fuzz/` (one JSON file per input: `{ "target", "input" }`).
 */
import fc from "fast-check";
import { parseSyslog } from "../../mod/logs/parsers/syslog.ts";
import { parseLine } from "../../mod/logs/parsers/dispatch.ts";
import { OctetCountingDecoder } from "../../mod/logs/sources/octet_counting.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const CLOCK = { referenceTime: Date.UTC(2024, 11, 20), timeZone: "UTC" };
const FUZZ_DIR = new URL("../fixtures/fuzz/", import.meta.url).pathname;

/** Milliseconds allowed for `chars` of input: fixed overhead plus a linear term. */
const budgetMs = (chars: number) => 50 + chars / 1000; // 1 µs a character

function timed<T>(what: string, size: number, f: () => T): T {
  const started = performance.now();
  const out = f();
  const ms = performance.now() - started;
  assert(ms <= budgetMs(size), `${what}: ${ms.toFixed(1)} ms on ${size} chars`);
  return out;
}

/** Fragments of syslog syntax, valid and broken, that parsers have to look at twice. */
const FRAGMENTS = [
  "<",
  ">",
  "<13>",
  "<191>",
  "<999>",
  "<0>1 ",
  "1 ",
  "2024-12-10T06:55:46.123456+01:00 ",
  "2024-13-40T25:61:61Z ",
  "Dec 10 06:55:46 ",
  "Feb 30 99:99:99 ",
  "- ",
  "host ",
  "sshd[24200]: ",
  "app[",
  "]: ",
  ": ",
  "[",
  "]",
  "[id@32473 ",
  'k="v"',
  'k="\\"\\]\\\\"',
  '"',
  "\\",
  "=",
  " ",
  "\u0000",
  "\ufffd",
  "\u{1F600}",
  "BOM\ufeff",
  "Failed password for invalid user root from 10.0.0.1 port 22 ssh2",
  "Accepted publickey for a from ::1 port 1 ssh2",
  "pam_unix(sshd:auth): authentication failure; rhost=1.2.3.4 user=x",
  "type=SYSCALL msg=audit(1.2:3): ",
  '{"MESSAGE":"x",',
];

const fragmentLine = fc.array(
  fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 })),
  { maxLength: 40 },
).map((parts) => parts.join(""));

/** Valid starts of a line, so what follows reaches the deeper parsers. */
const HEADERS = [
  "",
  "<13>1 2024-12-10T06:55:46Z host app 1 ID47 ",
  '<13>1 2024-12-10T06:55:46Z host app 1 ID47 [a@1 k="v"]',
  "<86>Dec 10 06:55:46 host sshd[24200]: ",
  "<86>Dec 10 06:55:46 host sudo: ",
  "<86>Dec 10 06:55:46 host CRON[1]: ",
  "Dec 10 06:55:46 host sshd[1]: pam_unix(sshd:auth): ",
  "type=USER_AUTH msg=audit(1733813746.123:42): ",
];

/** A valid header, then a fragment line repeated to 1 k – 1 M characters. */
const grownLine = fc.tuple(
  fc.constantFrom(...HEADERS),
  fragmentLine,
  fc.integer({ min: 1000, max: 1_000_000 }),
).map(([head, unit, size]) =>
  head + (unit || "[").repeat(Math.ceil(size / Math.max(1, unit.length)))
);

function neverThrows(line: string): void {
  timed("parseSyslog", line.length, () => parseSyslog(line, CLOCK));
  // The full dispatch (program parsers behind syslog) for each line format.
  for (const format of ["syslog", "sshd", "auditd", "journal-json", "json"] as const) {
    timed(`parseLine ${format}`, line.length, () => parseLine(line, { ...CLOCK, source: format }));
  }
}

/** Runs per property, reported by the test's output. */
const RUNS = { small: 2000, grown: 60, framing: 1000, framingGrown: 20 };

Deno.test("fuzz: syslog 3164/5424 parsing never throws, in linear time", async (t) => {
  await t.step(`arbitrary strings (${RUNS.small} runs)`, () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: "binary" }), neverThrows), {
      numRuns: RUNS.small,
    });
  });
  await t.step(`syslog-shaped fragments (${RUNS.small} runs)`, () => {
    fc.assert(fc.property(fragmentLine, neverThrows), { numRuns: RUNS.small });
  });
  await t.step(`fragments grown to up to ~1 MB (${RUNS.grown} runs)`, () => {
    fc.assert(fc.property(grownLine, neverThrows), { numRuns: RUNS.grown });
  });
  await t.step("the inputs kept in tests/fixtures/fuzz/ (syslog)", async () => {
    for (const input of await corpus("syslog")) neverThrows(input);
  });
});

/** Encodes `msgs` as octet-counted frames. */
function frame(msgs: Uint8Array[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = msgs.flatMap((m) => [enc.encode(`${m.length} `), m]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Splits `bytes` at `cuts` (positions taken modulo its length). */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.slice(prev, c));
    prev = c;
  }
  return out;
}

function decodeAll(max: number, parts: Uint8Array[]) {
  const d = new OctetCountingDecoder(max);
  const frames: { bytes: Uint8Array; truncated: boolean }[] = [];
  for (const p of parts) {
    const r = d.push(p);
    frames.push(...r.frames);
    if (r.error !== undefined) return { frames, error: r.error };
  }
  return { frames, error: undefined };
}

/** A message of bytes 0..255 (MSG-LEN is a NONZERO-DIGIT first: no empty message). */
const message = fc.uint8Array({ minLength: 1, maxLength: 200 });

/** What the decoder gives for `m`: trailing CR and LF are framing, dropped. */
function stripped(m: Uint8Array): number[] {
  let end = m.length;
  while (end > 0 && (m[end - 1] === 10 || m[end - 1] === 13)) end--;
  return [...m.subarray(0, end)];
}

Deno.test("fuzz: octet-counted framing", async (t) => {
  await t.step(`valid frames, cut anywhere, decode to the messages (${RUNS.framing} runs)`, () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (msgs, cuts) => {
          const { frames, error } = decodeAll(1000, chunks(frame(msgs), cuts));
          assertEquals(error, undefined);
          assertEquals(frames.map((f) => [...f.bytes]), msgs.map(stripped));
          assert(frames.every((f) => !f.truncated));
        },
      ),
      { numRuns: RUNS.framing },
    );
  });
  await t.step(`frames over the limit are cut, the next still found (${RUNS.framing} runs)`, () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (msgs, max, cuts) => {
          const { frames, error } = decodeAll(max, chunks(frame(msgs), cuts));
          assertEquals(error, undefined);
          assertEquals(frames.length, msgs.length);
          frames.forEach((f, i) => {
            assert(f.bytes.length <= max);
            assertEquals(f.truncated, msgs[i].length > max);
          });
        },
      ),
      { numRuns: RUNS.framing },
    );
  });
  await t.step(`arbitrary bytes never throw (${RUNS.framing} runs)`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 100_000 }),
        (bytes, cuts, max) => {
          const { frames } = decodeAll(max, chunks(bytes, cuts));
          for (const f of frames) assert(f.bytes.length <= max);
        },
      ),
      { numRuns: RUNS.framing },
    );
  });
  await t.step(`a stream fed byte by byte stays linear (${RUNS.framingGrown} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 65536 }),
        fc.integer({ min: 1, max: 8 }),
        (size, nFrames) => {
          const msg = new Uint8Array(size).fill(0x61);
          const stream = frame(Array.from({ length: nFrames }, () => msg));
          const started = performance.now();
          const { frames, error } = decodeAll(
            65536,
            Array.from(stream, (b) => Uint8Array.of(b)),
          );
          const ms = performance.now() - started;
          assertEquals(error, undefined);
          assertEquals(frames.length, nFrames);
          // Per-byte pushes cost more than bulk ones: 5 µs a byte.
          assert(ms <= 50 + stream.length / 200, `${ms.toFixed(0)} ms on ${stream.length} bytes`);
        },
      ),
      { numRuns: RUNS.framingGrown },
    );
  });
  await t.step("the inputs kept in tests/fixtures/fuzz/ (octet framing)", async () => {
    for (const input of await corpus("octet")) decodeAll(65536, [new TextEncoder().encode(input)]);
  });
});

/** The kept inputs for `target`. */
async function corpus(target: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(FUZZ_DIR)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const c = JSON.parse(await Deno.readTextFile(`${FUZZ_DIR}${e.name}`));
      if (c.target === target) out.push(c.input);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}
