import fc from "fast-check";
import semver from "semver";
import * as rubySemver from "@renovatebot/ruby-semver";
import {
  compareDebian,
  compareDigits,
  comparePackagist,
  comparePep440,
  compareRubyGems,
  compareSemver,
  compareVersions,
  InvalidVersionError,
  legacyKey,
  UnknownEcosystemError,
  versionComparator,
  versionScheme,
} from "../../mod/sbom/version/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const VECTORS = new URL("../../../shared/data/version-ordering/", import.meta.url);

/** Which ecosystems each vector file speaks for (semver's is osv-scalibr's generic SemVer data). */
const FILE_ECOSYSTEMS: Record<string, string[]> = {
  semver: ["npm", "crates.io", "Go", "Hex"],
  pypi: ["PyPI"],
  debian: ["Debian"],
  rubygems: ["RubyGems"],
  packagist: ["Packagist"],
};

interface Vector {
  line: number;
  a: string;
  op: "<" | ">" | "=";
  b: string;
}

function readVectors(name: string): Vector[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(new URL(name, VECTORS));
  } catch (e) {
    throw new Error(
      `version vectors missing: ${new URL(name, VECTORS).pathname} (the shared data folder ` +
        `../shared/data must sit beside the repository): ${(e as Error).message}`,
    );
  }
  const out: Vector[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "" || raw.startsWith("# ") || raw.startsWith("// ")) return;
    const parts = raw.split(" ");
    if (parts.length !== 3 || !["<", ">", "="].includes(parts[1])) {
      throw new Error(`${name}:${i + 1}: not "A <op> B": ${raw}`);
    }
    out.push({ line: i + 1, a: parts[0], op: parts[1] as Vector["op"], b: parts[2] });
  });
  return out;
}

function vectorFiles(): string[] {
  try {
    return [...Deno.readDirSync(VECTORS)].map((e) => e.name).filter((n) => n.endsWith(".txt"))
      .sort();
  } catch (e) {
    throw new Error(
      `version vectors missing: ${VECTORS.pathname} (the shared data folder ../shared/data ` +
        `must sit beside the repository): ${(e as Error).message}`,
    );
  }
}

const EXPECT = { "<": -1, "=": 0, ">": 1 } as const;

Deno.test("version ordering passes every OSV vector", async (t) => {
  const files = vectorFiles();
  assertEquals(files.length, 9, `expected the 9 vector files, found ${files.join(", ")}`);
  for (const file of files) {
    const ecosystems = FILE_ECOSYSTEMS[file.split("-")[0]];
    assert(ecosystems !== undefined, `no ecosystem for vector file ${file}`);
    const vectors = readVectors(file);
    await t.step(`${file}: ${vectors.length} pairs x ${ecosystems.join(", ")}`, () => {
      const failures: string[] = [];
      for (const eco of ecosystems) {
        for (const v of vectors) {
          const want = EXPECT[v.op];
          const got = compareVersions(eco, v.a, v.b);
          const back = compareVersions(eco, v.b, v.a);
          if (got !== want || back !== -want) {
            failures.push(`${eco} ${file}:${v.line}: ${v.a} ${v.op} ${v.b}, got ${got}/${back}`);
          }
        }
      }
      const total = vectors.length * ecosystems.length;
      assertEquals(
        failures.length,
        0,
        `${failures.length} of ${total} failed:\n${failures.slice(0, 20).join("\n")}`,
      );
    });
  }
});

Deno.test("ecosystem names map to their orderings", async (t) => {
  await t.step("OSV spellings, with and without a release", () => {
    assertEquals(versionScheme("npm"), "semver");
    assertEquals(versionScheme("crates.io"), "semver");
    assertEquals(versionScheme("Go"), "semver");
    assertEquals(versionScheme("Hex"), "semver");
    assertEquals(versionScheme("PyPI"), "pep440");
    assertEquals(versionScheme("RubyGems"), "rubygems");
    assertEquals(versionScheme("Packagist"), "packagist");
    assertEquals(versionScheme("Debian"), "debian");
    assertEquals(versionScheme("Debian:12"), "debian");
    assertEquals(compareVersions("Debian:12", "1.0~rc1-1", "1.0-1"), -1);
  });

  await t.step("an unknown ecosystem is a typed error", () => {
    for (const eco of ["Maven", "pypi", "", "NuGet"]) {
      let err: unknown;
      try {
        compareVersions(eco, "1", "2");
      } catch (e) {
        err = e;
      }
      assert(err instanceof UnknownEcosystemError, `${eco}: ${err}`);
      assertEquals(err.code, "E_UNKNOWN_ECOSYSTEM");
      assertEquals(err.ecosystem, eco);
    }
  });

  await t.step("a Debian epoch that is not a number is a typed error", () => {
    let err: unknown;
    try {
      compareDebian("x:1.0", "1.0");
    } catch (e) {
      err = e;
    }
    assert(err instanceof InvalidVersionError, String(err));
    assertEquals(err.code, "E_INVALID_VERSION");
    assertEquals(err.version, "x:1.0");
  });
});

Deno.test("version ordering: hand-checked cases the vectors leave out", async (t) => {
  await t.step("Go: pseudo-versions, +incompatible, v prefix", () => {
    const go = versionComparator("Go");
    // A pseudo-version based on v1.2.3 sorts after it and before v1.2.4.
    assertEquals(go("1.2.4-0.20191109021931-daa7c04131f5", "1.2.3"), 1);
    assertEquals(go("1.2.4-0.20191109021931-daa7c04131f5", "1.2.4"), -1);
    assertEquals(go("0.0.0-20191109021931-daa7c04131f5", "0.0.0-20200101000000-aaaaaaaaaaaa"), -1);
    assertEquals(go("2.0.0+incompatible", "v2.0.0"), 0);
    assertEquals(go("2.0.1+incompatible", "2.0.0"), 1);
    assertEquals(go("1", "1.0.0"), 0);
    assertEquals(go("0", "0.0.0-0"), 1);
  });

  await t.step("SemVer: components past the third are compared, not ignored", () => {
    assertEquals(compareSemver("1.2.3.4", "1.2.3.5"), -1);
    assertEquals(compareSemver("1.2.3.0", "1.2.3"), 0);
  });

  await t.step("PyPI: legacy keys as packaging 21.3 built them", () => {
    assertEquals(legacyKey("0.1-bulbasaur"), ["00000000", "00000001", "*bulbasaur", "*final"]);
    assertEquals(legacyKey("1.0_x"), ["00000001", "*_", "*x", "*final"]);
    assertEquals(comparePep440("1.0_x", "1.0"), -1); // legacy below every valid version
    assertEquals(comparePep440("  1.0 ", "1.0.0"), 0);
    assertEquals(comparePep440("1.0.post1", "1.0"), 1);
  });

  await t.step("Debian: tilde, empty revision, letters before symbols", () => {
    assertEquals(compareDebian("1.0~~", "1.0~"), -1);
    assertEquals(compareDebian("1.0~", "1.0"), -1);
    assertEquals(compareDebian("1.0a", "1.0+"), -1);
    assertEquals(compareDebian("1.0", "1.0-0"), 0);
    assertEquals(compareDebian("3.0.11-1~deb12u2", "3.0.11-1~deb12u1"), 1);
    assertEquals(compareDebian("1:1.0", "9.9"), 1);
  });

  await t.step("RubyGems and Packagist", () => {
    assertEquals(compareRubyGems("1.0.0-rc1", "1.0.0"), -1); // "-" reads ".pre."
    assertEquals(compareRubyGems("1.0.0.pre.rc1", "1.0.0-rc1"), 0);
    assertEquals(comparePackagist("1.0.0-beta", "1.0.0-alpha"), 1);
    assertEquals(comparePackagist("1.0.0-stable", "1.0.0-dev"), -1); // PHP: other words < dev
  });

  await t.step("digit strings of any length", () => {
    assertEquals(compareDigits("18446744073709551616", "18446744073709551615"), 1);
    assertEquals(compareDigits("", "0"), 0);
  });
});

// Property tests: each comparator must be a total preorder, or range matching is arbitrary.

const digits = fc.oneof(
  fc.constantFrom("0", "1", "2", "9", "10", "01", "99999999999999999999"),
  fc.nat({ max: 30 }).map(String),
);
const word = fc.constantFrom(
  "a",
  "b",
  "c",
  "rc",
  "RC",
  "alpha",
  "beta",
  "dev",
  "post",
  "pre",
  "p",
  "pl",
  "final",
  "x",
  "Foo",
);
const sep = fc.constantFrom(".", ".", ".", "-", "_", "+", "~", ":", "!", "");
const freeVersion = fc.array(fc.oneof(digits, word, sep), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(""));
const debianVersion = fc.tuple(
  fc.option(fc.nat({ max: 3 })),
  digits,
  fc.array(fc.oneof(digits, fc.constantFrom("a", "z", "+", "~", ".", "~~", "dfsg")), {
    maxLength: 4,
  }),
  fc.option(fc.array(fc.oneof(digits, fc.constantFrom("deb12u", "~", "+", ".", "ubuntu")), {
    minLength: 1,
    maxLength: 3,
  })),
).map(([epoch, head, tail, rev]) =>
  `${epoch === null ? "" : `${epoch}:`}${head}${tail.join("")}${
    rev === null ? "" : `-${rev.join("")}`
  }`
);

const SCHEMES: [string, (a: string, b: string) => number, fc.Arbitrary<string>][] = [
  ["semver", compareSemver, freeVersion],
  ["pep440", comparePep440, freeVersion],
  ["debian", compareDebian, debianVersion],
  ["rubygems", compareRubyGems, freeVersion],
  ["packagist", comparePackagist, freeVersion],
];

Deno.test("version ordering properties (fast-check)", async (t) => {
  for (const [name, cmp, arb] of SCHEMES) {
    await t.step(`${name}: reflexive and antisymmetric`, () => {
      fc.assert(
        fc.property(arb, arb, (a, b) => {
          assertEquals(cmp(a, a), 0, `${a} vs itself`);
          // Written as a sum: -0 and 0 differ to deepStrictEqual.
          assertEquals(Math.sign(cmp(a, b)) + Math.sign(cmp(b, a)), 0, `${a} vs ${b}`);
        }),
        { numRuns: 500 },
      );
    });

    await t.step(`${name}: transitive (a sorted list is ordered pairwise)`, () => {
      fc.assert(
        fc.property(fc.array(arb, { minLength: 2, maxLength: 12 }), (list) => {
          const sorted = [...list].sort(cmp);
          for (let i = 0; i < sorted.length; i++) {
            for (let j = i + 1; j < sorted.length; j++) {
              assert(cmp(sorted[i], sorted[j]) <= 0, `${sorted.join(" , ")} at ${i},${j}`);
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

Deno.test("version ordering agrees with the libraries on their own ground", async (t) => {
  const ident = fc.oneof(
    fc.nat({ max: 20 }).map(String),
    fc.constantFrom("alpha", "beta", "rc", "x-y", "A", "a1"),
  );
  const strictSemver = fc.tuple(
    fc.nat({ max: 20 }),
    fc.nat({ max: 20 }),
    fc.nat({ max: 20 }),
    fc.array(ident, { maxLength: 3 }),
    fc.option(fc.constantFrom("build.1", "sha.abc", "incompatible")),
  ).map(([a, b, c, pre, build]) =>
    `${a}.${b}.${c}${pre.length ? `-${pre.join(".")}` : ""}${build === null ? "" : `+${build}`}`
  );

  await t.step("SemVer vs npm:semver on strict SemVer", () => {
    fc.assert(
      fc.property(strictSemver, strictSemver, (a, b) => {
        assertEquals(compareSemver(a, b), semver.compare(a, b), `${a} vs ${b}`);
      }),
      { numRuns: 1000 },
    );
  });

  const gem = fc.tuple(
    fc.array(fc.nat({ max: 12 }).map(String), { minLength: 1, maxLength: 4 }),
    fc.array(fc.oneof(fc.nat({ max: 5 }).map(String), fc.constantFrom("a", "b", "pre", "rc")), {
      maxLength: 3,
    }),
  ).map(([nums, rest]) => [...nums, ...rest].join("."));

  await t.step("RubyGems vs npm:@renovatebot/ruby-semver on valid gem versions", () => {
    fc.assert(
      fc.property(gem, gem, (a, b) => {
        const want = rubySemver.eq(a, b) ? 0 : rubySemver.lt(a, b) ? -1 : 1;
        assertEquals(compareRubyGems(a, b), want, `${a} vs ${b}`);
      }),
      { numRuns: 1000 },
    );
  });

  const dpkg = "/usr/bin/dpkg";
  let haveDpkg = false;
  try {
    haveDpkg = Deno.statSync(dpkg).isFile;
  } catch { /* absent */ }
  await t.step({
    name: "Debian vs dpkg --compare-versions",
    ignore: !requirePart("dpkg", haveDpkg),
    fn: async () => {
      const pairs = fc.sample(fc.tuple(debianVersion, debianVersion), { numRuns: 60, seed: 7 });
      pairs.push(["1.0~rc1", "1.0"], ["2:1.0", "1:9"], ["1.0-1", "1.0-1+b1"], ["1.0a", "1.0+"]);
      for (const [a, b] of pairs) {
        const lt = await new Deno.Command(dpkg, { args: ["--compare-versions", a, "lt", b] })
          .output();
        const eq = await new Deno.Command(dpkg, { args: ["--compare-versions", a, "eq", b] })
          .output();
        const want = eq.code === 0 ? 0 : lt.code === 0 ? -1 : 1;
        assertEquals(compareDebian(a, b), want, `${a} vs ${b}`);
      }
    },
  });
});
