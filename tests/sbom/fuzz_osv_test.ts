/**
 * Fuzzing (issue 16) of the OSV record parser (`parseOsvRecord`, mod/sbom/osv/record.ts):
 * records come from a downloaded database, so each property says it throws nothing but
 * `OsvRecordError`, in time linear in the text's size (records grown to tens of thousands of
 * affected entries, events and aliases), and that a record printed as JSON parses back to
 * itself. Inputs that once found a bug would be replayed from `tests/fixtures/fuzz/osv/`
 * (`{ "input" }`; none so far). `FUZZ_RUNS_SCALE` multiplies every run count.
 */
import fc from "fast-check";
import { type OsvRecord, OsvRecordError, parseOsvRecord } from "../../mod/sbom/osv/record.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { check, runs } from "../helpers/fuzz.ts";

const CORPUS = new URL("../fixtures/fuzz/osv/", import.meta.url);

/** Runs per property (before `FUZZ_RUNS_SCALE`), reported in each step's name. */
const RUNS = { garbage: 1000, mutated: 1000, grown: 10, roundTrip: 300 };

/** Milliseconds allowed for `chars` of input: 50 ms of slack plus 2 µs a character. */
const budgetMs = (chars: number) => 50 + chars / 500;

/** Parse, allowing only `OsvRecordError`, within the budget; the record or undefined. */
function parseTyped(text: string): OsvRecord | undefined {
  const started = performance.now();
  let out: OsvRecord | undefined;
  try {
    out = parseOsvRecord(text, "fuzz.json");
  } catch (e) {
    if (!(e instanceof OsvRecordError)) {
      throw new Error(
        `parseOsvRecord threw ${e instanceof Error ? e.stack : e} on ${
          JSON.stringify(text.slice(0, 300))
        }`,
      );
    }
    assert(e.code === "E_OSV_JSON" || e.code === "E_OSV_RECORD", `code ${e.code}`);
  }
  const ms = performance.now() - started;
  assert(ms <= budgetMs(text.length), `${ms.toFixed(0)} ms on ${text.length} chars`);
  return out;
}

// --- valid records ---------------------------------------------------------------------------

const text = fc.string({ unit: "binary", maxLength: 20 });
const timestamp = fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) })
  .map((d) => d.toISOString());
const strings = fc.array(text, { maxLength: 4 });
const severity = fc.array(fc.record({ type: fc.constantFrom("CVSS_V3", "CVSS_V4"), score: text }), {
  maxLength: 2,
});
const version = fc.stringMatching(/^[0-9a-z.+-]{1,12}$/);

const event = fc.oneof(
  version.map((v) => ({ introduced: v })),
  version.map((v) => ({ fixed: v })),
  version.map((v) => ({ last_affected: v })),
  version.map((v) => ({ limit: v })),
);

const range = fc.record({
  type: fc.constantFrom("SEMVER", "ECOSYSTEM", "GIT") as fc.Arbitrary<
    "SEMVER" | "ECOSYSTEM" | "GIT"
  >,
  repo: fc.webUrl(),
  introduced: version,
  events: fc.array(event, { maxLength: 4 }),
}).map(({ type, repo, introduced, events }) => ({
  type,
  ...(type === "GIT" ? { repo } : {}),
  events: [{ introduced }, ...events],
}));

const affected = fc.record(
  {
    package: fc.record({
      ecosystem: fc.constantFrom("npm", "PyPI", "Go", "Debian:12"),
      name: text,
    }),
    severity,
    ranges: fc.array(range, { maxLength: 3 }),
    versions: strings,
    ecosystem_specific: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    database_specific: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);

const record: fc.Arbitrary<OsvRecord> = fc.record(
  {
    schema_version: fc.constantFrom("1.6.0", "1.4.0"),
    id: fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
    modified: timestamp,
    published: timestamp,
    withdrawn: timestamp,
    aliases: strings,
    upstream: strings,
    related: strings,
    summary: text,
    details: fc.string({ unit: "binary", maxLength: 200 }),
    severity,
    affected: fc.array(affected, { maxLength: 4 }),
    references: fc.array(fc.record({ type: fc.constantFrom("WEB", "FIX"), url: fc.webUrl() }), {
      maxLength: 3,
    }),
    credits: fc.array(
      fc.record({ name: text, contact: strings, type: fc.constantFrom("FINDER", "OTHER") }, {
        requiredKeys: ["name"],
      }),
      { maxLength: 2 },
    ),
    database_specific: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  },
  { requiredKeys: ["id", "modified"] },
) as fc.Arbitrary<OsvRecord>;

/** Every path of objects and arrays in `v`, as keys and indices. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  }
  return out;
}

/** `v` with the value at `path` replaced by `value` (a structured copy). */
function replaced(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return copy;
}

const NASTY_VALUES = [null, 0, -1, 1e308, "", "x", true, [], {}, [null], { introduced: 1 }, {
  introduced: "0",
  fixed: "1",
}];

Deno.test("fuzz: OSV records", async (t) => {
  await t.step(`arbitrary text and JSON values (${runs(RUNS.garbage)} runs)`, () => {
    check(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.jsonValue(), (s, v) => {
        parseTyped(s);
        parseTyped(JSON.stringify(v));
        parseTyped(JSON.stringify({ id: "X-1", modified: "2024-01-01T00:00:00Z", affected: v }));
      }),
      runs(RUNS.garbage),
    );
  });
  await t.step(`valid records with one value replaced (${runs(RUNS.mutated)} runs)`, () => {
    check(
      fc.property(
        record,
        fc.nat(),
        fc.oneof(fc.constantFrom(...NASTY_VALUES), fc.jsonValue({ maxDepth: 3 })),
        (r, at, value) => {
          const all = paths(r);
          parseTyped(JSON.stringify(replaced(r, all[at % all.length], value)));
        },
      ),
      runs(RUNS.mutated),
    );
  });
  await t.step(`printed records parse back to themselves (${runs(RUNS.roundTrip)} runs)`, () => {
    check(
      fc.property(record, (r) => {
        const text = JSON.stringify(r, null, 2);
        const got = parseTyped(text);
        assert(got !== undefined, `refused ${text.slice(0, 500)}`);
        assertEquals(got, JSON.parse(text));
      }),
      runs(RUNS.roundTrip),
    );
  });
  await t.step(`grown to 10k-100k affected, events, aliases (${runs(RUNS.grown)} runs)`, () => {
    check(
      fc.property(
        fc.noBias(fc.integer({ min: 10_000, max: 100_000 })),
        fc.constantFrom("affected", "events", "aliases", "keys"),
        fc.boolean(),
        (n, what, broken) => {
          const events = [
            { introduced: "0" },
            ...Array.from({ length: n }, (_, i) => ({ fixed: `${i}` })),
          ];
          const r: Record<string, unknown> = { id: "X-1", modified: "2024-01-01T00:00:00Z" };
          if (what === "affected") {
            r.affected = Array.from({ length: n }, (_, i) => ({
              package: { ecosystem: "npm", name: `p${i}` },
              ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.0.0" }] }],
            }));
          } else if (what === "events") {
            r.affected = [{ ranges: [{ type: "ECOSYSTEM", events }] }];
          } else if (what === "aliases") {
            r.aliases = Array.from({ length: n }, (_, i) => `CVE-2024-${i}`);
          } else {
            // One event with n keys: the error names them all.
            r.affected = [{
              ranges: [{
                type: "SEMVER",
                events: [Object.fromEntries(events.map((e, i) => [`k${i}`, e]))],
              }],
            }];
          }
          let text = JSON.stringify(r);
          // Broken at the very end: the whole was read before the fault shows.
          if (broken) text = text.slice(0, -2) + ',{"introduced":5}]}';
          parseTyped(text);
        },
      ),
      runs(RUNS.grown),
      true,
    );
  });
  await t.step("the inputs kept in tests/fixtures/fuzz/osv/", async () => {
    for await (const e of Deno.readDir(CORPUS)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      parseTyped(JSON.parse(await Deno.readTextFile(new URL(e.name, CORPUS))).input);
    }
  });
});
