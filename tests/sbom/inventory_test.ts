/**
 * Lockfile extractors against osv-scanner's own expectations (every case of
 * `shared/data/lockfiles/expected.json`), against hand-written fixtures for what those cases
 * leave out, and against arbitrary input (only `InventoryError` may come out, and quickly).
 */
import fc from "fast-check";
import { stringify as toToml } from "smol-toml";
import { stringify as toYaml } from "yaml";
import type { Component } from "../../mod/sbom/component.ts";
import {
  type ExtractContext,
  extractFile,
  type Extractor,
  EXTRACTORS,
  InventoryError,
} from "../../mod/sbom/inventory/mod.ts";
import { cargoLock } from "../../mod/sbom/inventory/cargo_lock.ts";
import { composerLock } from "../../mod/sbom/inventory/composer_lock.ts";
import { dpkgStatus } from "../../mod/sbom/inventory/dpkg_status.ts";
import { gemfileLock } from "../../mod/sbom/inventory/gemfile_lock.ts";
import { goMod } from "../../mod/sbom/inventory/go_mod.ts";
import { nodeModulesPackageJson } from "../../mod/sbom/inventory/package_json.ts";
import { npmLock } from "../../mod/sbom/inventory/npm_lock.ts";
import { pipfileLock } from "../../mod/sbom/inventory/pipfile_lock.ts";
import { pnpmLock } from "../../mod/sbom/inventory/pnpm_lock.ts";
import { poetryLock } from "../../mod/sbom/inventory/poetry_lock.ts";
import { pythonMetadata } from "../../mod/sbom/inventory/python_metadata.ts";
import { requirementsTxt } from "../../mod/sbom/inventory/requirements_txt.ts";
import { uvLock } from "../../mod/sbom/inventory/uv_lock.ts";
import { yarnLock } from "../../mod/sbom/inventory/yarn_lock.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const LOCKFILES = new URL("../../../shared/data/lockfiles/", import.meta.url);
const FIXTURES = new URL("../fixtures/sbom/inventory/", import.meta.url);

interface ExpectedPackage {
  name: string;
  version: string;
  ecosystem: string;
  compareAs: string;
  depGroups?: string[];
  commit?: string;
}

interface Case {
  test: string;
  parser: string;
  fixture: string;
  format: string;
  expectedPackages: ExpectedPackage[];
  expectError?: string;
  expectErrorContaining?: string;
}

/** osv-scanner's parser names, as the cases spell them, to Ironpost's extractors. */
const PARSERS: Record<string, Extractor> = {
  ParseNpmLock: npmLock,
  "NodeModules(.package-lock.json)": npmLock,
  ParseYarnLock: yarnLock,
  ParsePnpmLock: pnpmLock,
  ParseCargoLock: cargoLock,
  ParseGoLock: goMod,
  ParseRequirementsTxt: requirementsTxt,
  ParsePoetryLock: poetryLock,
  ParsePipenvLock: pipfileLock,
  ParseComposerLock: composerLock,
  ParseGemfileLock: gemfileLock,
  ParseDpkgStatus: dpkgStatus,
};

function loadCases(): Case[] {
  const url = new URL("expected.json", LOCKFILES);
  let text: string;
  try {
    text = Deno.readTextFileSync(url);
  } catch (e) {
    throw new Error(
      `lockfile expectations missing: ${url.pathname} (the shared data folder ../shared/data ` +
        `must sit beside the repository): ${(e as Error).message}`,
    );
  }
  return (JSON.parse(text) as { cases: Case[] }).cases;
}

/**
 * The version osv-scanner reports for a requirement Ironpost leaves unpinned (version "" and
 * a `note`). osv-scanner's requirements parser takes the text after the last of `==`, `>=`,
 * `~=`, `!=` the line contains as the version (so `keyring >= 4.1.1` is "4.1.1", a lower
 * bound), and "0.0.0" after `!=` or when there is no specifier. Ironpost does not guess a
 * version from a range; this maps its honest answer back to osv-scanner's convention.
 */
function osvScannerVersion(c: Component): string {
  if (c.ecosystem !== "PyPI" || c.note === undefined || !c.note.startsWith("unpinned")) {
    return c.version;
  }
  const spec = c.note.replace(/^unpinned: /, "");
  const op = ["!=", "~=", ">=", "=="].find((o) => spec.includes(o));
  if (op === undefined || op === "!=") return "0.0.0";
  return spec.slice(spec.indexOf(op) + 2).split(/[\s,;]/)[0];
}

/** One comparable line per package: the fields osv-scanner's expectPackages compares. */
function expectedKey(p: ExpectedPackage): string {
  return JSON.stringify([
    p.name,
    p.version,
    p.ecosystem,
    [...(p.depGroups ?? [])].sort(),
    p.commit ?? "",
  ]);
}

function actualKey(c: Component): string {
  return JSON.stringify([
    c.name,
    osvScannerVersion(c),
    c.ecosystem,
    [...c.groups].sort(),
    c.commit ?? "",
  ]);
}

function lineCount(file: string): number {
  return Deno.readTextFileSync(file).split("\n").length;
}

async function extractError(p: Promise<unknown>): Promise<InventoryError> {
  try {
    await p;
  } catch (e) {
    assert(e instanceof InventoryError, `expected an InventoryError, got ${e}`);
    return e;
  }
  throw new Error("expected the extraction to fail");
}

Deno.test("lockfiles: every osv-scanner case in expected.json", async (t) => {
  const cases = loadCases();
  assertEquals(cases.length, 96, "expected.json should hold 96 cases");
  const counts = new Map<string, { cases: number; components: number }>();
  const tmp = await Deno.makeTempDir({ prefix: "ironpost-inventory-" });
  try {
    for (const c of cases) {
      const extractor = PARSERS[c.parser];
      assert(extractor !== undefined, `no extractor for parser ${c.parser}`);
      await t.step(`${c.format}: ${c.test}`, async () => {
        let path = new URL(c.fixture, LOCKFILES).pathname;
        if (c.parser.startsWith("NodeModules")) {
          // As osv-scanner's test does: the fixture is the hidden lockfile of a node_modules.
          const dir = `${tmp}/${c.test}/node_modules`;
          await Deno.mkdir(dir, { recursive: true });
          await Deno.copyFile(path, `${dir}/.package-lock.json`);
          path = `${dir}/.package-lock.json`;
          assert(npmLock.fileRequired(path), `fileRequired should accept ${path}`);
        }
        const count = counts.get(c.format) ?? { cases: 0, components: 0 };
        counts.set(c.format, count);
        if (c.expectError !== undefined) {
          assertEquals(c.expectError, "fs.ErrNotExist");
          const err = await extractError(extractFile(path, extractor));
          assertEquals(err.code, "E_NOT_FOUND", err.format());
          count.cases++;
          return;
        }
        if (c.expectErrorContaining !== undefined) {
          assertEquals(c.expectErrorContaining, "could not extract from");
          const err = await extractError(extractFile(path, extractor));
          assertEquals(err.code, "E_MALFORMED", err.format());
          assertEquals(err.file, path);
          count.cases++;
          return;
        }
        const got = await extractFile(path, extractor);
        assertEquals(
          got.map(actualKey).sort(),
          c.expectedPackages.map(expectedKey).sort(),
          `${c.fixture}: package sets differ`,
        );
        for (const comp of got) {
          assert(comp.origin.file !== "", "origin file must be set");
          const line = comp.origin.line ?? 0;
          assert(
            line >= 1 && line <= lineCount(comp.origin.file),
            `${comp.name}: line ${comp.origin.line} is not in ${comp.origin.file}`,
          );
        }
        count.cases++;
        count.components += got.length;
      });
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  const rows = [...counts].sort(([a], [b]) => a.localeCompare(b));
  console.log("format                               cases  components");
  for (const [format, n] of rows) {
    console.log(`${format.padEnd(36)} ${String(n.cases).padStart(5)}  ${n.components}`);
  }
  const passed = rows.reduce((s, [, n]) => s + n.cases, 0);
  console.log(`passed ${passed} of ${cases.length} cases`);
  assertEquals(passed, cases.length);
});

/** name@version[#commit] [groups] for compact expectations. */
function brief(c: Component): string {
  const commit = c.commit ? `#${c.commit.slice(0, 7)}` : "";
  const groups = c.groups.length > 0 ? ` [${c.groups.join(",")}]` : "";
  return `${c.name}@${c.version}${commit}${groups}`;
}

function fixture(name: string): string {
  return new URL(name, FIXTURES).pathname;
}

async function extractFixture(extractor: Extractor, name: string): Promise<Component[]> {
  return await extractFile(fixture(name), extractor);
}

Deno.test("lockfiles: what the osv-scanner cases leave out", async (t) => {
  await t.step("go.mod: stdlib from toolchain, replace, no v prefix", async () => {
    const got = await extractFixture(goMod, "go/go.mod");
    assertEquals(got.map(brief).sort(), [
      "example.com/fork/net@1.4.5",
      "github.com/BurntSushi/toml@1.0.0",
      "golang.org/x/sys@0.0.0-20210630005230-0f9fa26af87c",
      "stdlib@1.22.4",
    ]);
    const stdlib = got.find((c) => c.name === "stdlib");
    assertEquals(stdlib?.origin.line, 3);
  });

  await t.step("go.mod: without toolchain the go directive's version", () => {
    const got = goMod.extract("go.mod", "module m\n\ngo 1.21.0\n");
    assertEquals(got.map(brief), ["stdlib@1.21.0"]);
  });

  await t.step("requirements: -r includes, file groups, notes for unpinned lines", async () => {
    const got = await extractFixture(requirementsTxt, "pip/requirements-dev.txt");
    assertEquals(got.map(brief).sort(), [
      "django@4.2.11 [requirements-base]",
      "pytest@ [requirements-dev]",
      "requests@ [requirements-dev]",
      "ruff@0.4.1 [requirements-dev]",
      "zope-interface@5.4.0 [requirements-base]",
    ]);
    const byName = new Map(got.map((c) => [c.name, c]));
    assertEquals(byName.get("requests")?.note, "unpinned: >=2.31,<3");
    assertEquals(byName.get("pytest")?.note, "unpinned: any version");
    assertEquals(byName.get("django")?.origin.file, fixture("pip/requirements-base.txt"));
    assertEquals(byName.get("django")?.origin.line, 2);
    assertEquals(byName.get("ruff")?.origin.line, 5);
  });

  await t.step("requirements: a missing -r names the including file and line", async () => {
    const err = await extractError(extractFixture(requirementsTxt, "pip/requirements-bad.txt"));
    assertEquals([err.code, err.file, err.line], [
      "E_NOT_FOUND",
      fixture("pip/requirements-bad.txt"),
      2,
    ]);
  });

  await t.step("uv.lock: workspace scope from the graph, git commit", async () => {
    const got = await extractFixture(uvLock, "uv/uv.lock");
    assertEquals(got.map(brief).sort(), [
      "anyio@4.6.2",
      "idna@3.10",
      "iniconfig@2.0.0 [dev]",
      "myapp@0.1.0",
      "pytest@8.3.3 [dev]",
      "rich@13.9.2#0a1b2c3 [optional]",
    ]);
  });

  await t.step("poetry.lock 2.1: groups other than main", async () => {
    const got = await extractFixture(poetryLock, "poetry/poetry.lock");
    assertEquals(got.map(brief).sort(), [
      "ike@0.2.0#cd66602",
      "mypy@1.11.2 [typing]",
      "pytest@8.3.3 [dev,test]",
      "requests@2.32.3",
    ]);
  });

  await t.step("pnpm v9: dev and optional scope from importers and snapshots", async () => {
    const got = await extractFixture(pnpmLock, "pnpm/pnpm-lock.yaml");
    assertEquals(got.map(brief).sort(), [
      "acorn-jsx@5.3.2",
      "acorn@8.11.3",
      "is-number@7.0.0 [dev]",
      "kind-of@6.0.3 [dev]",
      "uuid@8.3.2 [optional]",
    ]);
  });

  await t.step("pnpm v6: dev and optional flags", () => {
    const text = new URL("osv-scanner/fixtures/pnpm/mixed-groups.v6.yaml", LOCKFILES).pathname;
    const got = pnpmLock.extract(text, Deno.readTextFileSync(text));
    assertEquals(got.map(brief).sort(), [
      "ansi-regex@5.0.0",
      "is-number@7.0.0 [dev]",
      "uuid@8.0.0 [optional]",
    ]);
  });

  await t.step("yarn: npm aliases report the real package, in v1 and berry", () => {
    for (const name of ["with-aliases.v1.lock", "with-aliases.v2.lock"]) {
      const path = new URL(`osv-scanner/fixtures/yarn/${name}`, LOCKFILES).pathname;
      const got = yarnLock.extract(path, Deno.readTextFileSync(path));
      const names = got.map(brief).filter((b) => !b.startsWith("mine@")).sort();
      assertEquals(names, [
        "@babel/helper-validator-identifier@7.22.20",
        "ansi-regex@5.0.1",
        "ansi-regex@6.0.1",
      ], name);
    }
  });

  await t.step("Cargo.lock: a git source's commit", async () => {
    const got = await extractFixture(cargoLock, "cargo/Cargo.lock");
    assertEquals(got.map(brief).sort(), ["myapp@0.1.0", "regex@1.10.6", "tokio@1.40.0#8a5d3c9"]);
  });

  await t.step("Gemfile.lock: a GIT section's revision is the commit", () => {
    const path = new URL("osv-scanner/fixtures/bundler/has-git-gem.lock", LOCKFILES).pathname;
    const got = gemfileLock.extract(path, Deno.readTextFileSync(path));
    assert(got.some((c) => brief(c) === "hanami-controller@2.0.0.alpha1#027dbe2"));
    assert(got.some((c) => brief(c) === "rack@2.2.3"));
  });

  await t.step("Pipfile.lock: a custom category is a group of its own name", () => {
    const text = JSON.stringify({
      _meta: {},
      default: { flask: { version: "==3.0.0" } },
      docs: { sphinx: { version: "==7.4.7" } },
    });
    assertEquals(pipfileLock.extract("Pipfile.lock", text).map(brief), [
      "flask@3.0.0",
      "sphinx@7.4.7 [docs]",
    ]);
  });

  await t.step("npm v3 lockfile and npm-shrinkwrap.json: workspace links skipped", async () => {
    assert(npmLock.fileRequired("/srv/app/npm-shrinkwrap.json"));
    const got = await extractFixture(npmLock, "npm/package-lock.json");
    assertEquals(got.map(brief).sort(), [
      "@scope/util@2.0.0",
      "left-pad@1.3.0 [dev]",
      "tar@6.2.1 [dev,optional]",
    ]);
    const util = got.find((c) => c.name === "@scope/util");
    assertEquals(util?.origin.line, 24);
  });

  await t.step("fileRequired picks each format by name", () => {
    const cases: [string, Extractor][] = [
      ["/app/package-lock.json", npmLock],
      ["/app/node_modules/.package-lock.json", npmLock],
      ["/app/yarn.lock", yarnLock],
      ["/app/pnpm-lock.yaml", pnpmLock],
      ["/app/Cargo.lock", cargoLock],
      ["/app/go.mod", goMod],
      ["/app/requirements-dev.txt", requirementsTxt],
      ["/app/poetry.lock", poetryLock],
      ["/app/Pipfile.lock", pipfileLock],
      ["/app/uv.lock", uvLock],
      ["/app/composer.lock", composerLock],
      ["/app/Gemfile.lock", gemfileLock],
      ["/var/lib/dpkg/status", dpkgStatus],
      ["/var/lib/dpkg/status.d/base-files", dpkgStatus],
      ["/app/node_modules/@types/node/package.json", nodeModulesPackageJson],
      ["/usr/lib/python3/dist-packages/pip-23.0.dist-info/METADATA", pythonMetadata],
      ["/usr/lib/python3/site-packages/six.egg-info/PKG-INFO", pythonMetadata],
    ];
    for (const [path, want] of cases) {
      const which = EXTRACTORS.filter((e) => e.fileRequired(path)).map((e) => e.name);
      assertEquals(which, [want.name], path);
    }
    for (
      const path of [
        "/app/package.json",
        "/app/node_modules/x/lib/package.json",
        "/app/requirements.in",
        "/var/lib/dpkg/status-old",
        "/var/lib/dpkg/status.d/base-files.md5sums",
        "/app/METADATA",
      ]
    ) {
      assertEquals(EXTRACTORS.filter((e) => e.fileRequired(path)).map((e) => e.name), [], path);
    }
  });
});

/** Every text parser, with the name of a file it reads. */
const TEXT_PARSERS: [Extractor, string][] = [
  [npmLock, "package-lock.json"],
  [yarnLock, "yarn.lock"],
  [pnpmLock, "pnpm-lock.yaml"],
  [cargoLock, "Cargo.lock"],
  [goMod, "go.mod"],
  [requirementsTxt, "requirements.txt"],
  [poetryLock, "poetry.lock"],
  [pipfileLock, "Pipfile.lock"],
  [uvLock, "uv.lock"],
  [composerLock, "composer.lock"],
  [gemfileLock, "Gemfile.lock"],
  [dpkgStatus, "status"],
  [nodeModulesPackageJson, "node_modules/x/package.json"],
  [pythonMetadata, "METADATA"],
];

/** Includes are never found while fuzzing, so a `-r` line is a typed error too. */
const NO_FILES: ExtractContext = {
  readText(path) {
    throw new Deno.errors.NotFound(`fuzzing: ${path}`);
  },
};

/** A value shaped like a lockfile's: objects, lists, strings that look like versions. */
const lockish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("1.0.0", "", "npm:a@1", "file:x", "git+ssh://g@h/x.git#abc", "==1.2", "true"),
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        "name",
        "version",
        "packages",
        "dependencies",
        "dev",
        "optional",
        "resolved",
        "package",
        "source",
        "lockfileVersion",
        "importers",
        "snapshots",
        "node_modules/a",
        "/a/1.0.0",
        "a@1.0.0",
        "default",
        "develop",
        "packages-dev",
        "resolution",
        "groups",
      ),
      tie("value"),
      { maxKeys: 5 },
    ),
  ),
})).value;

/** A field value: mostly right-typed, sometimes not. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom("1.0.0", "2.3.4-rc.1", "", "==1.2", "true", "false", "main", "dev"),
  fc.constantFrom(
    "git+https://github.com/a/b.git#0123abc",
    "https://codeload.github.com/a/b/tar.gz/abc",
  ),
  fc.boolean(),
  fc.integer(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.array(fc.constantFrom("main", "dev", "test"), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom("a", "b@1.0.0", "name"), fc.constantFrom("1.0.0", "^1", ""), {
    maxKeys: 3,
  }),
);

/** One package entry, as lockfiles of most formats write them. */
const entry = fc.record({
  name: fieldValue,
  version: fieldValue,
  dev: fieldValue,
  optional: fieldValue,
  devOptional: fieldValue,
  link: fieldValue,
  resolved: fieldValue,
  resolution: fc.oneof(fieldValue, fc.record({ commit: fieldValue, tarball: fieldValue })),
  source: fc.oneof(
    fieldValue,
    fc.record({ type: fieldValue, reference: fieldValue, git: fieldValue }),
  ),
  groups: fieldValue,
  category: fieldValue,
  dependencies: fc.oneof(fieldValue, fc.array(fc.record({ name: fieldValue }), { maxLength: 2 })),
}, { requiredKeys: [] });

const keys = fc.constantFrom("a", "@s/a", "node_modules/a", "/a/1.0.0", "a@1.0.0", "file:x", "x");

/** Whole documents shaped like each structured format, with entries of random types. */
const shaped: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ lockfileVersion: fc.constantFrom(1, 2, 3), packages: fc.dictionary(keys, entry) }),
  fc.record({
    dependencies: fc.dictionary(
      keys,
      fc.record(
        { version: fieldValue, dev: fieldValue, dependencies: fc.dictionary(keys, entry) },
        { requiredKeys: [] },
      ),
    ),
  }),
  fc.record({
    lockfileVersion: fc.constantFrom("5.4", "6.0", "9.0", 5.3),
    importers: fc.record({
      ".": fc.record({
        dependencies: fc.dictionary(keys, fc.oneof(fieldValue, entry)),
        devDependencies: fc.dictionary(keys, fieldValue),
      }),
    }),
    packages: fc.dictionary(keys, fc.oneof(entry, fc.constant(null))),
    snapshots: fc.dictionary(keys, entry),
  }),
  fc.record({ __metadata: fc.constant({ version: 6 }), "a@npm:^1": entry, "b@workspace:.": entry }),
  fc.record({ package: fc.array(entry, { maxLength: 4 }) }),
  fc.record({
    packages: fc.array(entry, { maxLength: 3 }),
    "packages-dev": fc.array(entry, { maxLength: 3 }),
  }),
  fc.record({
    _meta: fc.constant({}),
    default: fc.dictionary(keys, entry),
    develop: fc.dictionary(keys, entry),
  }),
);

/** TOML has no null; drop what it cannot say rather than skip the document. */
function tomlOf(v: Record<string, unknown>): string {
  try {
    return toToml(JSON.parse(JSON.stringify(v, (_k, x) => (x === null ? undefined : x))));
  } catch {
    return ""; // mixed-type arrays have no TOML form either
  }
}

/** Lines built from the tokens line-based formats care about. */
const lineish = fc.array(
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(
      "require (",
      ")",
      "replace a => b v1",
      "go 1.21",
      '  version "1.0"',
      "a@^1:",
      '"a@1", b@2:',
      "GEM",
      "  specs:",
      "    rack (2.2.3)",
      "GIT",
      "  revision: abc",
      "Package: x",
      "Status: install ok installed",
      "Source: y (1)",
      "-r other.txt",
      "x==1 \\",
      "Name: a",
      "Version: 1",
      "__metadata:",
      '  resolution: "a@npm:1"',
      "[[package]]",
      'name = "a"',
      "",
      "\t",
    ),
  ),
  { maxLength: 12 },
).map((lines) => lines.join("\n"));

/** Runs `extractor` on `text`: only InventoryError may escape, and each call ends fast. */
function onlyTypedErrors(extractor: Extractor, file: string, text: string): void {
  const started = performance.now();
  try {
    extractor.extract(file, text, NO_FILES);
  } catch (e) {
    if (!(e instanceof InventoryError)) {
      throw new Error(`${extractor.name} threw ${e} on ${JSON.stringify(text).slice(0, 300)}`);
    }
  }
  const ms = performance.now() - started;
  if (ms > 2000) throw new Error(`${extractor.name} took ${ms} ms on ${text.length} chars`);
}

Deno.test("extractors throw only InventoryError on arbitrary input", async (t) => {
  for (const [extractor, file] of TEXT_PARSERS) {
    await t.step(extractor.name, () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 400 }), (s) => onlyTypedErrors(extractor, file, s)),
        {
          numRuns: 300,
        },
      );
      fc.assert(fc.property(lineish, (s) => onlyTypedErrors(extractor, file, s)), { numRuns: 300 });
      fc.assert(
        fc.property(shaped, (doc) => {
          onlyTypedErrors(extractor, file, JSON.stringify(doc, null, 2));
          onlyTypedErrors(extractor, file, toYaml(doc));
          onlyTypedErrors(extractor, file, tomlOf(doc));
        }),
        { numRuns: 300 },
      );
      fc.assert(
        fc.property(lockish, (v) => {
          onlyTypedErrors(extractor, file, JSON.stringify(v) ?? "");
          // YAML and TOML renderings reach the structured parsers' conversion code.
          onlyTypedErrors(extractor, file, `__metadata:\n  version: 6\n${toYaml({ x: v })}`);
          onlyTypedErrors(extractor, file, toYaml(v));
          if (typeof v === "object" && v !== null && !Array.isArray(v)) {
            let toml = "";
            try {
              toml = toToml(v as Record<string, unknown>);
            } catch {
              return; // null and mixed arrays have no TOML form
            }
            onlyTypedErrors(extractor, file, toml);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  await t.step("mutated real fixtures", () => {
    const samples: [Extractor, string][] = [
      [npmLock, "osv-scanner/fixtures/npm/commits.v2.json"],
      [npmLock, "osv-scanner/fixtures/npm/same-package-different-groups.v1.json"],
      [yarnLock, "osv-scanner/fixtures/yarn/commits.v1.lock"],
      [yarnLock, "osv-scanner/fixtures/yarn/commits.v2.lock"],
      [pnpmLock, "osv-scanner/fixtures/pnpm/peer-dependencies-advanced.yaml"],
      [pnpmLock, "osv-scanner/fixtures/pnpm/mixed-groups.v9.yaml"],
      [goMod, "osv-scanner/fixtures/go/replace-different.mod"],
      [requirementsTxt, "osv-scanner/fixtures/pip/file-format-example.txt"],
      [gemfileLock, "osv-scanner/fixtures/bundler/has-git-gem.lock"],
      [poetryLock, "osv-scanner/fixtures/poetry/source-git.lock"],
      [dpkgStatus, "osv-scanner/fixtures/dpkg/malformed_status"],
    ];
    for (const [extractor, name] of samples) {
      const text = Deno.readTextFileSync(new URL(name, LOCKFILES));
      const mutation = fc.tuple(
        fc.nat({ max: text.length }),
        fc.nat({ max: 40 }),
        fc.string({ maxLength: 12 }),
      );
      fc.assert(
        fc.property(mutation, ([at, cut, insert]) => {
          onlyTypedErrors(extractor, name, text.slice(0, at) + insert + text.slice(at + cut));
        }),
        { numRuns: 200 },
      );
    }
  });
});
