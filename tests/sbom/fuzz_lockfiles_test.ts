/**
 * Fuzzing (issue 16) of three lockfile extractors: npm's package-lock.json (JSON, entry lines
 * found by searching the text), pnpm-lock.yaml (YAML) and yarn.lock v1 (yarn's own format).
 * Each property: `extract` throws nothing but `InventoryError`, stays within a time budget
 * linear in the input's size (checked on inputs grown to tens of thousands of entries, minified
 * or not, where a quadratic step shows), and round-trips the packages a generated lockfile
 * lists, with the line of each entry. Inputs that once found a bug are replayed from
 * `tests/fixtures/fuzz/` (`{ "target": "npm-lock" | "pnpm-lock" | "yarn-lock", "input" }`, or a
 * `"recipe"` for a large one).
 */
import fc from "fast-check";
import { type Extractor, InventoryError } from "../../mod/sbom/inventory/mod.ts";
import { npmLock } from "../../mod/sbom/inventory/npm_lock.ts";
import { pnpmLock } from "../../mod/sbom/inventory/pnpm_lock.ts";
import { yarnLock } from "../../mod/sbom/inventory/yarn_lock.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const FUZZ_DIR = new URL("../fixtures/fuzz/", import.meta.url).pathname;

/** Milliseconds allowed for `chars` of input: fixed overhead plus 2 µs a character. */
const budgetMs = (chars: number) => 100 + chars / 500;

/** Extract, allowing only `InventoryError`, within the budget; the components or undefined. */
function extractTyped(x: Extractor, file: string, text: string) {
  const started = performance.now();
  let out;
  try {
    out = x.extract(file, text);
  } catch (e) {
    if (!(e instanceof InventoryError)) {
      throw new Error(`${x.name} threw ${e} on ${JSON.stringify(text).slice(0, 300)}`);
    }
  }
  const ms = performance.now() - started;
  assert(ms <= budgetMs(text.length), `${x.name}: ${ms.toFixed(0)} ms on ${text.length} chars`);
  return out;
}

/** A package: npm-ish name (scoped or not, odd characters allowed) and a version. */
const pkg = fc.record({
  scope: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/), { nil: undefined }),
  name: fc.stringMatching(/^[a-z0-9][a-z0-9._~-]{0,12}$/),
  version: fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30)).map((v) => v.join(".")),
}).map((p) => ({ name: p.scope ? `@${p.scope}/${p.name}` : p.name, version: p.version }));

/** Distinct names (a lockfile lists each install path once). */
const pkgs = (max: number) => fc.uniqueArray(pkg, { maxLength: max, selector: (p) => p.name });

function npmText(list: { name: string; version: string }[], indent: number | undefined): string {
  const packages: Record<string, unknown> = { "": { name: "app", version: "1.0.0" } };
  for (const p of list) packages[`node_modules/${p.name}`] = { version: p.version };
  return JSON.stringify({ lockfileVersion: 3, packages }, null, indent);
}

function pnpmText(list: { name: string; version: string }[]): string {
  const out = ["lockfileVersion: '6.0'", "", "packages:", ""];
  for (const p of list) {
    out.push(`  /${p.name}@${p.version}:`, "    resolution: {integrity: x}", "");
  }
  return out.join("\n");
}

function yarnText(list: { name: string; version: string }[]): string {
  const out = ["# yarn lockfile v1", ""];
  for (const p of list) out.push(`"${p.name}@^${p.version}":`, `  version "${p.version}"`, "");
  return out.join("\n");
}

/** Fragments of each format's syntax for shaped garbage. */
const FRAGMENTS: Record<string, string[]> = {
  "npm-lock": [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"packages"',
    '"dependencies"',
    '"lockfileVersion": 3',
    '"node_modules/',
    '"": {}',
    '"version": "1.0.0"',
    '"version": 1',
    '"link": true',
    '"resolved": "git+https://x#',
    '"npm:a@1"',
    '"file:../x"',
    "null",
    "\n  ",
    '"\\u0000"',
  ],
  "pnpm-lock": [
    "lockfileVersion: '6.0'\n",
    "lockfileVersion: '9.0'\n",
    "packages:\n",
    "snapshots:\n",
    "importers:\n",
    "  /a@1.0.0:\n",
    "  a@1.0.0(b@2):\n",
    "    resolution: {integrity: x}\n",
    "    dev: true\n",
    "  ",
    ": ",
    "- ",
    "&a ",
    "*a",
    "[",
    "{",
    "'",
    '"',
    "\n",
    "? ",
  ],
  "yarn-lock": [
    "# yarn lockfile v1\n",
    "__metadata:\n",
    '"a@^1.0.0":\n',
    "a@^1, b@^2:\n",
    '  version "1.0.0"\n',
    "  resolved git+https://x#abc\n",
    "  dependencies:\n",
    "    b ^2\n",
    '"',
    "\\",
    ",",
    ":",
    " ",
    "\t",
    "\n",
    "npm:",
    "@",
  ],
};

const TARGETS: { id: string; x: Extractor; file: string }[] = [
  { id: "npm-lock", x: npmLock, file: "package-lock.json" },
  { id: "pnpm-lock", x: pnpmLock, file: "pnpm-lock.yaml" },
  { id: "yarn-lock", x: yarnLock, file: "yarn.lock" },
];

/** Runs per property, reported by the test's output. */
const RUNS = { shaped: 1000, mutated: 500, grown: 12, roundTrip: 200 };

Deno.test("fuzz: lockfile extractors throw only InventoryError, in linear time", async (t) => {
  for (const { id, x, file } of TARGETS) {
    const shaped = fc.array(
      fc.oneof(fc.constantFrom(...FRAGMENTS[id]), fc.string({ maxLength: 6 })),
      { maxLength: 60 },
    ).map((p) => p.join(""));
    await t.step(`${id}: shaped garbage (${RUNS.shaped} runs)`, () => {
      fc.assert(fc.property(shaped, (s) => void extractTyped(x, file, s)), {
        numRuns: RUNS.shaped,
      });
    });

    const valid = (list: { name: string; version: string }[]) =>
      id === "npm-lock" ? npmText(list, 2) : id === "pnpm-lock" ? pnpmText(list) : yarnText(list);
    await t.step(`${id}: valid lockfiles with bytes cut, inserted (${RUNS.mutated} runs)`, () => {
      fc.assert(
        fc.property(pkgs(20), fc.nat(), fc.nat(50), shaped, (list, at, cut, insert) => {
          const text = valid(list);
          const i = at % (text.length + 1);
          extractTyped(x, file, text.slice(0, i) + insert + text.slice(i + cut));
        }),
        { numRuns: RUNS.mutated },
      );
    });

    await t.step(`${id}: grown to 2k-40k entries (${RUNS.grown} runs)`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 2000, max: 40_000 }),
          fc.boolean(),
          fc.option(shaped, { nil: undefined }),
          (n, minified, junk) => {
            const list = Array.from({ length: n }, (_, i) => ({
              name: i % 3 ? `p-${i}` : `@s${i % 7}/p-${i}`,
              version: `1.${i % 9}.0`,
            }));
            let text = id === "npm-lock" ? npmText(list, minified ? undefined : 2) : valid(list);
            // Junk in the middle: the entries after it must not cost a search each.
            if (junk !== undefined) {
              const mid = text.length >> 1;
              text = text.slice(0, mid) + junk + text.slice(mid);
            }
            extractTyped(x, file, text);
          },
        ),
        { numRuns: RUNS.grown },
      );
    });

    await t.step(`${id}: round trip of generated lockfiles (${RUNS.roundTrip} runs)`, () => {
      fc.assert(
        fc.property(pkgs(30), (list) => {
          const text = valid(list);
          const got = extractTyped(x, file, text);
          assert(got !== undefined, `${id} refused a valid lockfile: ${text.slice(0, 300)}`);
          const key = (c: { name: string; version: string }) => `${c.name}@${c.version}`;
          assertEquals(got.map(key).sort(), list.map(key).sort());
          const lines = text.split("\n");
          for (const c of got) {
            const line = lines[(c.origin.line ?? 0) - 1] ?? "";
            assert(line.includes(c.name), `${id}: ${c.name} given line ${c.origin.line}: ${line}`);
          }
        }),
        { numRuns: RUNS.roundTrip },
      );
    });

    await t.step(`${id}: the inputs kept in tests/fixtures/fuzz/`, async () => {
      for (const input of await corpus(id)) extractTyped(x, file, input);
    });
  }
});

/** The kept inputs for `target`. */
async function corpus(target: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(FUZZ_DIR)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const c = JSON.parse(await Deno.readTextFile(`${FUZZ_DIR}${e.name}`));
      if (c.target !== target) continue;
      // A large input is kept as its recipe: `unit` repeated `times` (`{i}` its index).
      const r = c.recipe;
      out.push(
        r === undefined ? c.input : r.head +
          Array.from({ length: r.times }, (_, i) => r.unit.replaceAll("{i}", String(i))).join("") +
          r.tail,
      );
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}
