/**
 * Fuzzing (issue 16) of the inventory extractors not covered by fuzz_lockfiles_test.ts:
 * Cargo.lock, go.mod, requirements.txt, poetry.lock, Pipfile.lock, uv.lock, composer.lock,
 * Gemfile.lock, dpkg status, node_modules package.json and Python metadata. Each property:
 * `extract` throws nothing but `InventoryError`, stays within a time budget linear in the
 * input's size (inputs grown to 2k-40k entries, or one line grown to ~1 MB), and round-trips
 * a generated file: the components are the generated packages, each with the line that names
 * it. Inputs that once found a bug are replayed from `tests/fixtures/fuzz/sbom/` (`{ "target",
 * "input" }` or `{ "target", "recipe": { "head", "unit", "times", "tail" } }` or `{ "target",
 * "recipe": { "parts": [[unit, times], …] } }`, `{i}` in a unit being its index; the README there says what each found). `FUZZ_RUNS_SCALE` multiplies
 * every run count.
 */
import fc from "fast-check";
import {
  type ExtractContext,
  type Extractor,
  InventoryError,
} from "../../mod/sbom/inventory/mod.ts";
import { cargoLock } from "../../mod/sbom/inventory/cargo_lock.ts";
import { composerLock } from "../../mod/sbom/inventory/composer_lock.ts";
import { dpkgStatus } from "../../mod/sbom/inventory/dpkg_status.ts";
import { gemfileLock } from "../../mod/sbom/inventory/gemfile_lock.ts";
import { goMod } from "../../mod/sbom/inventory/go_mod.ts";
import { nodeModulesPackageJson } from "../../mod/sbom/inventory/package_json.ts";
import { pipfileLock } from "../../mod/sbom/inventory/pipfile_lock.ts";
import { poetryLock } from "../../mod/sbom/inventory/poetry_lock.ts";
import { pythonMetadata } from "../../mod/sbom/inventory/python_metadata.ts";
import { requirementsTxt } from "../../mod/sbom/inventory/requirements_txt.ts";
import { uvLock } from "../../mod/sbom/inventory/uv_lock.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { check, runs } from "../helpers/fuzz.ts";

const CORPUS = new URL("../fixtures/fuzz/sbom/", import.meta.url);

/** Runs per property (before `FUZZ_RUNS_SCALE`), reported in each step's name. */
const RUNS = { shaped: 400, mutated: 200, grown: 5, line: 12, roundTrip: 100 };

/** Milliseconds allowed for `chars` of input: 100 ms of slack plus 2 µs a character. */
const budgetMs = (chars: number) => 100 + chars / 500;

/** A requirements `-r` include finds nothing: the fuzzer must not read the disk. */
const NO_FILES: ExtractContext = {
  readText(path) {
    throw new Deno.errors.NotFound(path);
  },
};

/** Extract, allowing only `InventoryError`, within the budget; the components or undefined. */
function extractTyped(x: Extractor, file: string, text: string) {
  const started = performance.now();
  let out;
  try {
    out = x.extract(file, text, NO_FILES);
  } catch (e) {
    if (!(e instanceof InventoryError)) {
      throw new Error(
        `${x.name} threw ${e instanceof Error ? e.stack : e} on ${
          JSON.stringify(text.slice(0, 300))
        }`,
      );
    }
  }
  const ms = performance.now() - started;
  assert(
    ms <= budgetMs(text.length),
    `${x.name}: ${ms.toFixed(0)} ms on ${text.length} chars (budget ${budgetMs(text.length)})`,
  );
  return out;
}

interface Pkg {
  name: string;
  version: string;
}

interface Target {
  id: string;
  x: Extractor;
  file: string;
  /** The file for `list` (one package for the single-package formats). */
  print(list: Pkg[]): string;
  /** What the extractor reports for a printed package (go.mod drops the `v`, pip normalises). */
  expect(p: Pkg): Pkg;
  /** Formats that describe one package: round trips take a list of one. */
  single?: true;
  /** Extra components the printer's boilerplate adds (go.mod's `stdlib`). */
  extra?: Pkg[];
  fragments: string[];
}

const toml = (list: Pkg[], head: string, extra = "") =>
  head + list.map((p) => `[[package]]\nname = "${p.name}"\nversion = "${p.version}"\n${extra}\n`)
    .join("");

const COMMON = ["\n", "\r\n", " ", "\t", '"', "'", "\\", "\0", "\u2028", "é", "=", ":", "#"];

const TARGETS: Target[] = [
  {
    id: "cargo-lock",
    x: cargoLock,
    file: "Cargo.lock",
    print: (l) =>
      toml(
        l,
        "version = 3\n\n",
        'source = "registry+https://github.com/rust-lang/crates.io-index"',
      ),
    expect: (p) => p,
    fragments: ["[[package]]\n", "[package]\n", 'name = "a"\n', 'version = "1.0.0"\n', "[", "]"],
  },
  {
    id: "go-mod",
    x: goMod,
    file: "go.mod",
    print: (l) =>
      `module example.com/m\n\ngo 1.22.1\n\nrequire (\n${
        l.map((p) => `\t${p.name} v${p.version} // indirect\n`).join("")
      })\n`,
    expect: (p) => p,
    extra: [{ name: "stdlib", version: "1.22.1" }],
    fragments: [
      "module m\n",
      "go 1.22\n",
      "require ",
      "require (\n",
      "replace ",
      " => ",
      "=>",
      "(",
      ")",
      "`",
      "//",
      "a.com/x ",
      "v1.2.3",
      "./fork",
      "toolchain go1.22.3\n",
    ],
  },
  {
    id: "requirements",
    x: requirementsTxt,
    file: "requirements.txt",
    print: (l) => l.map((p) => `${p.name}==${p.version}  # pinned\n`).join(""),
    expect: (p) => ({ name: p.name.toLowerCase().replace(/[-_.]+/g, "-"), version: p.version }),
    fragments: [
      "==",
      ">=",
      "~=",
      ",",
      ";",
      " ; python_version < '3.8'",
      "[extra]",
      "-r ",
      "-r other.txt\n",
      "--hash=sha256:ab",
      " -a",
      " #",
      "\\\n",
      "\\",
      "@ https://x/y.whl",
      "./local",
      "a",
      "1.0",
      "*",
    ],
  },
  {
    id: "poetry-lock",
    x: poetryLock,
    file: "poetry.lock",
    print: (l) => toml(l, "", 'optional = false\npython-versions = "*"'),
    expect: (p) => p,
    fragments: ["[[package]]\n", 'name = "a"\n', 'version = "1"\n', "groups = [", "]", "["],
  },
  {
    id: "pipfile-lock",
    x: pipfileLock,
    file: "Pipfile.lock",
    print: (l) =>
      JSON.stringify(
        {
          _meta: { "pipfile-spec": 6 },
          default: Object.fromEntries(l.map((p) => [p.name, { version: `==${p.version}` }])),
          develop: {},
        },
        null,
        4,
      ),
    expect: (p) => p,
    fragments: ["{", "}", ",", ":", '"default"', '"develop"', '"version": "==1.0"', "null", "[]"],
  },
  {
    id: "uv-lock",
    x: uvLock,
    file: "uv.lock",
    print: (l) =>
      toml(
        l,
        'version = 1\nrequires-python = ">=3.12"\n\n',
        'source = { registry = "https://pypi.org/simple" }',
      ),
    expect: (p) => p,
    fragments: [
      "[[package]]\n",
      'name = "a"\n',
      'version = "1"\n',
      'source = { editable = "." }\n',
      'dependencies = [{ name = "a" }]\n',
      "[package.dev-dependencies]\n",
      'dev = [{ name = "a" }]\n',
    ],
  },
  {
    id: "composer-lock",
    x: composerLock,
    file: "composer.lock",
    print: (l) =>
      JSON.stringify(
        {
          "content-hash": "x",
          packages: l.map((p) => ({ name: p.name, version: p.version })),
          "packages-dev": [],
        },
        null,
        4,
      ),
    expect: (p) => p,
    fragments: ["{", "}", "[", "]", ",", '"packages"', ":", '{"name":"a/b","version":"1"}', "null"],
  },
  {
    id: "gemfile-lock",
    x: gemfileLock,
    file: "Gemfile.lock",
    print: (l) =>
      `GEM\n  remote: https://rubygems.org/\n  specs:\n${
        l.map((p) => `    ${p.name} (${p.version})\n      racc (~> 1.4)\n`).join("")
      }\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.4.1\n`,
    expect: (p) => p,
    fragments: [
      "GEM\n",
      "GIT\n",
      "  specs:\n",
      "    a (1.0)\n",
      "  revision: abc\n",
      "    ",
      "(",
      ")",
    ],
  },
  {
    id: "dpkg-status",
    x: dpkgStatus,
    file: "/var/lib/dpkg/status",
    print: (l) =>
      l.map((p) =>
        `Package: ${p.name}\nStatus: install ok installed\nPriority: optional\nVersion: ${p.version}\n` +
        `Description: a\n two lines\n\n`
      ).join(""),
    expect: (p) => p,
    fragments: [
      "Package: a\n",
      "Status: install ok installed\n",
      "Source: b (1)\n",
      "Version: 1\n",
      " x\n",
      "\n\n",
    ],
  },
  {
    id: "package-json",
    x: nodeModulesPackageJson,
    file: "node_modules/a/package.json",
    single: true,
    print: (l) =>
      JSON.stringify({ name: l[0].name, version: l[0].version, main: "index.js" }, null, 2),
    expect: (p) => p,
    fragments: ["{", "}", '"name":"a"', '"version":"1"', '"engines":{"vscode":1}', ",", ":"],
  },
  {
    id: "python-metadata",
    x: pythonMetadata,
    file: "site-packages/a-1.0.dist-info/METADATA",
    single: true,
    print: (l) => `Metadata-Version: 2.1\nName: ${l[0].name}\nVersion: ${l[0].version}\n\nbody\n`,
    expect: (p) => p,
    fragments: ["Name: a\n", "Version: 1\n", "Metadata-Version: 2.1\n", "\n", ": ", "name:"],
  },
];

/** Package names every format accepts; versions of digits and dots. */
const pkg: fc.Arbitrary<Pkg> = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9]{0,6}(?:[-_.][a-z0-9]{1,6}){0,2}$/),
  version: fc.tuple(fc.nat(40), fc.nat(40), fc.nat(40)).map((v) => v.join(".")),
});

/** Names that stay distinct after each format's normalisation (composer wants vendor/name). */
function pkgs(t: Target, max: number) {
  const one = t.id === "composer-lock"
    ? pkg.map((p) => ({ ...p, name: `vendor/${p.name}` }))
    : t.id === "go-mod"
    ? pkg.map((p) => ({ ...p, name: `example.com/${p.name}` }))
    : pkg;
  return fc.uniqueArray(one, {
    minLength: t.single ? 1 : 0,
    maxLength: t.single ? 1 : max,
    selector: (p) => t.expect(p).name,
  });
}

function shaped(t: Target, maxParts = 60) {
  return fc.array(
    fc.oneof(fc.constantFrom(...t.fragments, ...COMMON), fc.string({ maxLength: 6 })),
    { maxLength: maxParts },
  ).map((p) => p.join(""));
}

/** n generated packages for a grown file. */
function many(t: Target, n: number): Pkg[] {
  return Array.from({ length: n }, (_, i) => ({
    name: t.id === "composer-lock"
      ? `vendor/p-${i}`
      : t.id === "go-mod"
      ? `example.com/p${i}`
      : `p-${i}`,
    version: `1.${i % 9}.${i % 7}`,
  }));
}

/** 1 kB to 1 MB, spread evenly on a log scale. */
const lineSize = fc.noBias(fc.integer({ min: 0, max: 10 })).map((k) => 1000 * 2 ** k);

Deno.test("fuzz: inventory extractors throw only InventoryError, in linear time", async (t) => {
  for (const target of TARGETS) {
    const { id, x, file } = target;
    await t.step(`${id}: shaped garbage (${runs(RUNS.shaped)} runs)`, () => {
      check(fc.property(shaped(target), (s) => void extractTyped(x, file, s)), runs(RUNS.shaped));
    });
    await t.step(`${id}: valid files with bytes cut, inserted (${runs(RUNS.mutated)} runs)`, () => {
      check(
        fc.property(
          pkgs(target, 20),
          fc.nat(),
          fc.nat(50),
          shaped(target, 10),
          (l, at, cut, ins) => {
            const text = target.print(l);
            const i = at % (text.length + 1);
            extractTyped(x, file, text.slice(0, i) + ins + text.slice(i + cut));
          },
        ),
        runs(RUNS.mutated),
      );
    });
    if (!target.single) {
      await t.step(`${id}: grown to 2k-40k entries (${runs(RUNS.grown)} runs)`, () => {
        check(
          fc.property(
            fc.noBias(fc.integer({ min: 2000, max: 40_000 })),
            fc.option(shaped(target, 10), { nil: undefined }),
            (n, junk) => {
              let text = target.print(many(target, n));
              if (junk !== undefined) {
                const mid = text.length >> 1;
                text = text.slice(0, mid) + junk + text.slice(mid);
              }
              const got = extractTyped(x, file, text);
              if (junk === undefined) {
                assert(got !== undefined, `${id} refused a valid file of ${n} entries`);
                assertEquals(got.length, n + (target.extra?.length ?? 0));
              }
            },
          ),
          runs(RUNS.grown),
          true,
        );
      });
    }
    await t.step(`${id}: one line grown to ~1 MB (${runs(RUNS.line)} runs)`, () => {
      check(
        fc.property(
          fc.oneof(
            fc.array(fc.constantFrom(...target.fragments, ...COMMON), {
              minLength: 1,
              maxLength: 2,
            })
              .map((p) => p.join("")),
            shaped(target, 4),
          ),
          lineSize,
          fc.constantFrom("", "x", "\u2028", "\u2028x", "\rx", "\\", "}"),
          fc.boolean(),
          (unit, size, tail, afterValid) => {
            const u = unit.replaceAll("\n", "") || "a";
            const line = u.repeat(Math.ceil(size / u.length)) + tail;
            const head = afterValid ? target.print(many(target, 3)) : "";
            extractTyped(x, file, head + line);
          },
        ),
        runs(RUNS.line),
        true,
      );
    });
    await t.step(`${id}: generated files round-trip (${runs(RUNS.roundTrip)} runs)`, () => {
      check(
        fc.property(pkgs(target, 30), (list) => {
          const text = target.print(list);
          const got = extractTyped(x, file, text);
          assert(got !== undefined, `${id} refused a valid file: ${text.slice(0, 300)}`);
          const key = (c: Pkg) => `${c.name}@${c.version}`;
          assertEquals(
            got.map(key).sort(),
            [...list.map(target.expect), ...(target.extra ?? [])].map(key).sort(),
          );
          const lines = text.split("\n");
          for (const c of got) {
            if (c.origin.line === undefined) continue;
            const line = lines[c.origin.line - 1] ?? "";
            const printed = list.find((p) => target.expect(p).name === c.name)?.name ?? c.name;
            assert(
              line.includes(printed) || (c.name === "stdlib" && line.startsWith("go ")),
              `${id}: ${c.name} given line ${c.origin.line}: ${line}`,
            );
          }
        }),
        runs(RUNS.roundTrip),
      );
    });
  }
  await t.step("the inputs kept in tests/fixtures/fuzz/sbom/", async (t) => {
    const kept = await corpus();
    assert(kept.length > 0, "the corpus is empty");
    const byId = new Map(TARGETS.map((x) => [x.id, x]));
    for (const { file, target, input } of kept) {
      await t.step(file, () => {
        const x = byId.get(target);
        if (x === undefined) throw new Error(`unknown corpus target ${target}`);
        extractTyped(x.x, x.file, input);
      });
    }
  });
});

/** A recipe's parts, each `[unit, times]`, `{i}` in a unit being its index. */
function expand(parts: [string, number][]): string {
  return parts.map(([unit, times]) =>
    Array.from({ length: times }, (_, i) => unit.replaceAll("{i}", String(i))).join("")
  ).join("");
}

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
        : expand(r.parts ?? [[r.head, 1], [r.unit, r.times], [r.tail, 1]]),
    });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}
