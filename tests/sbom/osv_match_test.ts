import type { Component, Ecosystem } from "../../mod/sbom/component.ts";
import type { Finding } from "../../mod/sbom/finding.ts";
import {
  inRange,
  type MatchOptions,
  type MatchReason,
  matchRecord,
  mergeAliases,
  normalizePackageName,
  packageKey,
} from "../../mod/sbom/osv/match.ts";
import { type OsvRecord, OsvRecordError, parseOsvRecord } from "../../mod/sbom/osv/record.ts";
import { compareSemver } from "../../mod/sbom/version/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const FIXTURES = new URL("../fixtures/sbom/osv_match/", import.meta.url);
const SHARED_OSV = new URL("../../../shared/data/osv/", import.meta.url);

function fixture(name: string): OsvRecord {
  const url = new URL(name, FIXTURES);
  return parseOsvRecord(Deno.readTextFileSync(url), url.pathname);
}

function shared(path: string): OsvRecord {
  const url = new URL(path, SHARED_OSV);
  let text: string;
  try {
    text = Deno.readTextFileSync(url);
  } catch (e) {
    throw new Error(
      `OSV record missing: ${url.pathname} (the shared data folder ../shared/data must sit ` +
        `beside the repository): ${(e as Error).message}`,
    );
  }
  return parseOsvRecord(text, path);
}

function comp(
  ecosystem: Ecosystem,
  name: string,
  version: string,
  extra: Partial<Component> = {},
): Component {
  return { name, version, ecosystem, origin: { file: "lockfile" }, groups: [], ...extra };
}

/** `false`: not affected; otherwise affected, with this fix (none when omitted) and reason. */
type Expect = false | { fixed?: string; reason?: MatchReason; entries?: number };

function expectMatch(
  record: OsvRecord,
  component: Component,
  want: Expect,
  options?: MatchOptions,
): void {
  const got = matchRecord(record, component, options);
  const label = `${record.id} vs ${component.ecosystem}/${component.name}@${component.version}` +
    (component.commit ? ` (commit ${component.commit})` : "");
  if (want === false) {
    assertEquals(got, null, `${label}: expected no match, got ${JSON.stringify(got?.reason)}`);
    return;
  }
  assert(got !== null, `${label}: expected a match`);
  assertEquals(got.fixedVersion, want.fixed, `${label}: fixedVersion`);
  if (want.reason !== undefined) assertEquals(got.reason, want.reason, `${label}: reason`);
  if (want.entries !== undefined) assertEquals(got.affected.length, want.entries, `${label}`);
  assert(got.record === record);
}

/** Runs a table of `[version, expectation]` against one package of one record. */
function table(
  record: OsvRecord,
  ecosystem: Ecosystem,
  name: string,
  rows: [string, Expect][],
  options?: MatchOptions,
): void {
  for (const [version, want] of rows) {
    expectMatch(record, comp(ecosystem, name, version), want, options);
  }
}

Deno.test("OSV matching: hand-checked edge cases", async (t) => {
  await t.step('introduced "0" covers everything below the fix, pre-releases included', () => {
    const r = fixture("introduced_zero.json");
    table(r, "npm", "minimist-like", [
      ["0.0.0-alpha", { fixed: "1.2.6", reason: "range" }],
      ["0.0.1", { fixed: "1.2.6" }],
      ["1.2.5", { fixed: "1.2.6" }],
      ["1.2.6-rc.1", { fixed: "1.2.6" }],
      ["1.2.6", false],
      ["1.2.7", false],
      ["2.0.0", false],
    ]);
    // Same name, other ecosystem.
    expectMatch(r, comp("PyPI", "minimist-like", "0.0.1"), false);
  });

  await t.step("last_affected is inclusive and gives no fixed version", () => {
    table(fixture("last_affected.json"), "PyPI", "lastpkg", [
      ["0.9", false],
      ["1.0rc1", false],
      ["1.0", { reason: "range" }],
      ["1.0.0", {}],
      ["1.4.2rc1", {}],
      ["1.4.2", {}],
      ["1.4.2.post1", false],
      ["1.4.3", false],
    ]);
  });

  await t.step("multiple ranges, multiple entries, unsorted events", () => {
    const r = fixture("multiple_ranges.json");
    table(r, "crates.io", "multi", [
      ["0.4.9", false],
      ["0.5.0", { fixed: "0.5.4", entries: 1 }],
      ["0.5.3", { fixed: "0.5.4" }],
      ["0.5.4", false],
      ["0.9.0", false],
      ["1.0.0", { fixed: "1.1.2" }], // events listed fixed-first: sorted before evaluation
      ["1.1.1", { fixed: "1.1.2" }],
      ["1.1.2", false],
      ["2.0.0", { fixed: "2.0.1", entries: 1 }], // from the second entry
      ["2.0.1", false],
      ["3.0.0", false], // other-crate's range does not apply to multi
    ]);
    table(r, "crates.io", "other-crate", [["0.5.0", false], ["3.0.5", { fixed: "3.0.9" }]]);
  });

  await t.step("limit events bound a range from above; '*' is no bound", () => {
    table(fixture("limit.json"), "Go", "example.com/limited", [
      ["0.0.9", false],
      ["0.1.0", {}],
      ["0.2.5", {}], // below the second limit of the same range
      ["0.3.0", false],
      ["1.0.0", {}],
      ["1.4.9", {}],
      ["1.5.0", false],
      ["2.0.0", false],
      ["3.0.0", {}],
      ["99.0.0", {}],
    ]);
  });

  await t.step("the versions list, with the ecosystem's equality", () => {
    table(fixture("versions_and_git.json"), "RubyGems", "listed", [
      ["1.2.0", { reason: "versions" }],
      ["1.2", { reason: "versions" }], // RubyGems: 1.2 == 1.2.0
      ["1.2.1", { reason: "versions" }],
      ["1.3.0.beta1", { reason: "versions" }],
      ["1.2.2", false],
      ["1.3.0", false],
      ["", false],
    ]);
  });

  await t.step("GIT ranges match only a pinned commit they name as affected", () => {
    const r = fixture("versions_and_git.json");
    const at = (commit: string, version = "") => comp("RubyGems", "listed", version, { commit });
    expectMatch(r, at("a".repeat(40)), { reason: "commit" }); // introduced commit
    expectMatch(r, at("AAAAAAAA"), { reason: "commit" }); // abbreviated, any case
    expectMatch(r, at("c".repeat(40)), { reason: "commit" }); // listed in versions
    expectMatch(r, at("b".repeat(40)), false); // the fix commit
    expectMatch(r, at("d".repeat(40)), false); // unknown: no graph to walk
    expectMatch(r, at("aaaa"), false); // too short to trust as a prefix
    expectMatch(r, at("d".repeat(40), "1.2.1"), { reason: "versions" });
  });

  await t.step("a withdrawn record never matches", () => {
    const r = fixture("withdrawn.json");
    assertEquals(r.withdrawn, "2024-05-02T00:00:00Z");
    table(r, "npm", "withdrawn-pkg", [["0.0.1", false], ["1.0.0", false]]);
    // The same record without `withdrawn` would match everything.
    const { withdrawn: _, ...live } = r;
    expectMatch(live, comp("npm", "withdrawn-pkg", "1.0.0"), {});
  });

  await t.step("PyPI names compare in their PEP 503 form", () => {
    const r = fixture("pep503.json");
    for (const name of ["zope-interface", "zope_interface", "Zope.Interface", "ZOPE__interface"]) {
      expectMatch(r, comp("PyPI", name, "4.7.2"), { fixed: "5.0" });
    }
    expectMatch(r, comp("PyPI", "zopeinterface", "4.7.2"), false);
    expectMatch(r, comp("PyPI", "zope-interface", "5.0.0"), false);
    assertEquals(normalizePackageName("PyPI", "A.b_C--d"), "a-b-c-d");
    assertEquals(packageKey("PyPI", "Zope.Interface"), "PyPI:zope-interface");
  });

  await t.step("Debian matches on the source package, any release unless told", () => {
    const r = fixture("debian_source.json");
    const openssl = (version: string) =>
      comp("Debian", "openssl", version, { binaryName: "libssl3", binaryVersion: version });
    expectMatch(r, openssl("3.0.11-1~deb12u1"), { fixed: "3.0.11-1~deb12u2", entries: 1 });
    expectMatch(r, openssl("3.0.11-1~deb12u1"), { fixed: "3.0.11-1~deb12u2" }, {
      debianRelease: "12",
    });
    expectMatch(r, openssl("3.0.11-1~deb12u2"), false);
    expectMatch(r, openssl("3.0.11-1~deb12u1"), false, { debianRelease: "11" });
    // The binary package's name is not what Debian records name.
    expectMatch(r, comp("Debian", "libssl3", "3.0.11-1~deb12u1"), false);
    // A bullseye version: both entries include it; only the release says which fix applies.
    expectMatch(r, openssl("1.1.1n-0+deb11u4"), { fixed: "1.1.1w-0+deb11u1" }, {
      debianRelease: "11",
    });
    expectMatch(r, openssl("1.1.1n-0+deb11u4"), { fixed: "3.0.11-1~deb12u2", entries: 2 });
  });

  await t.step("the fixed version is the least fix not inside another range", () => {
    table(fixture("overlapping.json"), "npm", "overlap", [
      ["1.0.0", { fixed: "2.0.1" }], // 1.5.0 is still inside [1.2.0, 2.0.1)
      ["1.3.0", { fixed: "2.0.1" }],
      ["1.9.9", { fixed: "2.0.1" }],
      ["2.0.1", false],
    ]);
    // A fix that a later unfixed range re-opens fixes nothing.
    const reopened: OsvRecord = {
      id: "TEST-REOPEN-1",
      modified: "2024-05-01T00:00:00Z",
      affected: [{
        package: { ecosystem: "npm", name: "reopen" },
        ranges: [{
          type: "SEMVER",
          events: [{ introduced: "0" }, { fixed: "1.5.0" }, { introduced: "1.5.0" }],
        }],
      }],
    };
    table(reopened, "npm", "reopen", [["1.0.0", {}], ["1.5.0", {}], ["9.0.0", {}]]);
  });

  await t.step("Packagist names are case-insensitive; unpinned components never match", () => {
    const r: OsvRecord = {
      id: "TEST-COMPOSER-1",
      modified: "2024-05-01T00:00:00Z",
      affected: [{
        package: { ecosystem: "Packagist", name: "Vendor/Pkg" },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.1.0" }] }],
      }],
    };
    expectMatch(r, comp("Packagist", "vendor/pkg", "v2.0.9"), { fixed: "2.1.0" });
    expectMatch(r, comp("Packagist", "vendor/pkg", "2.1.0-RC1"), { fixed: "2.1.0" });
    expectMatch(r, comp("Packagist", "vendor/pkg", "2.1.0"), false);
    expectMatch(r, comp("Packagist", "vendor/pkg", "", { note: "unpinned: ^2.0" }), false);
  });

  await t.step("matchUnversioned matches an unpinned component on its package alone", () => {
    const r = fixture("introduced_zero.json");
    const unpinned = comp("npm", "minimist-like", "", { note: "unpinned: ^1.0.0" });
    expectMatch(r, unpinned, false);
    expectMatch(r, unpinned, { reason: "unversioned" }, { matchUnversioned: true });
    expectMatch(r, comp("npm", "other", ""), false, { matchUnversioned: true });
  });

  await t.step("inRange follows the schema's pseudocode", () => {
    const range = {
      type: "SEMVER" as const,
      events: [{ introduced: "1.0.0" }, { fixed: "1.0.2" }, { introduced: "3.0.0" }, {
        fixed: "3.2.5",
      }],
    };
    const yes = ["1.0.0", "1.0.1", "3.0.0", "3.2.4"];
    const no = ["0.9.0", "1.0.2", "2.9.9", "3.2.5", "4.0.0"];
    for (const v of yes) assert(inRange(range, v, compareSemver), v);
    for (const v of no) assert(!inRange(range, v, compareSemver), v);
  });

  await t.step("an unreadable version makes its range match nothing", () => {
    const r = fixture("debian_source.json");
    expectMatch(r, comp("Debian", "openssl", "x:1.0-1"), false);
  });
});

Deno.test("OSV matching: real records, versions checked by reading them", async (t) => {
  await t.step("Go GO-2022-0922 (contour): four introduced/fixed pairs in one range", () => {
    table(shared("Go/GO-2022-0922.json"), "Go", "github.com/projectcontour/contour", [
      ["0.1.0", { fixed: "1.14.2" }],
      ["1.14.1", { fixed: "1.14.2" }],
      ["1.14.2", false],
      ["1.15.0", { fixed: "1.15.2" }],
      ["v1.15.1", { fixed: "1.15.2" }],
      ["1.15.2", false],
      ["1.16.0", { fixed: "1.16.1" }],
      ["1.16.1", false],
      ["1.17.0", { fixed: "1.17.1" }],
      ["1.17.1", false],
      ["1.18.0", false],
    ]);
  });

  await t.step("Go GO-2023-1577 (argo-cd): two modules, one unfixed", () => {
    const r = shared("Go/GO-2023-1577.json");
    table(r, "Go", "github.com/argoproj/argo-cd", [["1.8.7", {}], ["0.0.0-20230101-abc", {}]]);
    table(r, "Go", "github.com/argoproj/argo-cd/v2", [
      ["2.2.0", false],
      ["2.3.0", { fixed: "2.3.17" }],
      ["2.5.5", { fixed: "2.5.11" }],
      ["2.5.11", false],
      ["2.6.1", { fixed: "2.6.2" }],
      ["2.6.2", false],
    ]);
  });

  await t.step("crates.io RUSTSEC-2020-0071 (time): pre-release introduced events", () => {
    table(shared("crates.io/RUSTSEC-2020-0071.json"), "crates.io", "time", [
      ["0.1.42", { fixed: "0.2.0" }],
      ["0.2.0", false],
      ["0.2.1-alpha", { fixed: "0.2.1" }], // introduced 0.2.1-0, fixed 0.2.1
      ["0.2.1", false],
      ["0.2.5", false],
      ["0.2.7", { fixed: "0.2.23" }],
      ["0.2.22", { fixed: "0.2.23" }],
      ["0.2.23", false],
      ["0.3.0", false],
    ]);
  });

  await t.step("crates.io RUSTSEC-2020-0053 (dirs) is withdrawn", () => {
    const r = shared("crates.io/RUSTSEC-2020-0053.json");
    assert(r.withdrawn !== undefined);
    table(r, "crates.io", "dirs", [["1.0.0", false], ["3.0.2", false]]);
  });

  await t.step("PyPI PYSEC-2012-1 (beaker): versions list, ECOSYSTEM and GIT ranges", () => {
    const r = shared("PyPI/PYSEC-2012-1.json");
    table(r, "PyPI", "Beaker", [
      ["1.6.4", { fixed: "1.6.5.post1", reason: "versions" }],
      ["1.6.5", { fixed: "1.6.5.post1", reason: "versions" }],
      ["1.3.1.dev0", { fixed: "1.6.5.post1", reason: "versions" }], // listed as 1.3.1dev
      ["1.6.5.post0", { fixed: "1.6.5.post1", reason: "range" }],
      ["1.6.5.post1", false],
      ["1.7.0", false],
    ]);
    // The GIT range's fix commit is not affected; with no graph, no other commit is either.
    const fixCommit = "91becae76101cf87ce8cbfabe3af2622fc328fe5";
    expectMatch(r, comp("PyPI", "beaker", "", { commit: fixCommit }), false);
  });

  await t.step("PyPI PYSEC-2022-42969 (py): last_affected 1.11.0", () => {
    table(shared("PyPI/PYSEC-2022-42969.json"), "PyPI", "py", [
      ["0.8.0a2", { reason: "versions" }], // listed as 0.8.0-alpha2
      ["1.4.32.dev1", {}],
      ["1.11.0", {}],
      ["1.11.1", false],
    ]);
  });

  await t.step("PyPI PYSEC-2020-341 (jw.util): PEP 503 name, legacy version listed", () => {
    const r = shared("PyPI/PYSEC-2020-341.json");
    for (const name of ["jw.util", "jw-util", "JW_Util"]) {
      expectMatch(r, comp("PyPI", name, "2.2"), { fixed: "2.3" });
    }
    table(r, "PyPI", "jw-util", [
      ["-class.-jw.util.version.Version-", { fixed: "2.3", reason: "versions" }],
      ["2.3", false],
    ]);
  });

  await t.step("PyPI PYSEC-2023-72 (pyspark): unsorted pairs keep their intervals", () => {
    // Events: [0, 3.1.1), [3.2.0, 3.2.2), [3.1.1, 3.2.0). Sorting would close 3.2.0 again
    // (its introduction and the third pair's fix tie), and the record's own versions list,
    // computed that way, stops at 3.1.3; the advisory's intervals cover 3.2.0 and 3.2.1.
    table(shared("PyPI/PYSEC-2023-72.json"), "PyPI", "pyspark", [
      ["3.0.0", { fixed: "3.2.2", reason: "versions" }],
      ["3.1.1", { fixed: "3.2.2" }],
      ["3.2.0", { fixed: "3.2.2", reason: "range" }],
      ["3.2.1", { fixed: "3.2.2", reason: "range" }],
      ["3.2.2", false],
      ["3.3.0", false],
    ]);
  });

  await t.step("PyPI PYSEC-2022-42972 (apache-iotdb): adjacent pairs listed out of order", () => {
    // Events: [0.13.0, 0.14.0rc1) then [0.12.2, 0.13.0).
    table(shared("PyPI/PYSEC-2022-42972.json"), "PyPI", "apache-iotdb", [
      ["0.12.1", false],
      ["0.12.2", { fixed: "0.14.0rc1" }],
      ["0.13.0", { fixed: "0.14.0rc1", reason: "range" }],
      ["0.13.3", { fixed: "0.14.0rc1" }],
      ["0.14.0rc1", false],
      ["0.14.0", false],
    ]);
  });

  await t.step("Go GO-2025-3448 (wasmvm): the fix is the version that fixes every entry", () => {
    // Three entries for wasmvm/v2 (one per affected package) fixed at 2.0.6, 2.1.5, 2.2.2:
    // 2.0.6 and 2.1.5 are still inside a later entry, so the module is fixed at 2.2.2.
    const r = shared("Go/GO-2025-3448.json");
    table(r, "Go", "github.com/CosmWasm/wasmvm/v2", [
      ["2.0.0", { fixed: "2.2.2", entries: 3 }],
      ["2.0.6", { fixed: "2.2.2", entries: 2 }],
      ["2.1.5", { fixed: "2.2.2", entries: 1 }],
      ["2.2.2", false],
    ]);
    table(r, "Go", "github.com/CosmWasm/wasmvm", [["1.5.7", { fixed: "1.5.8" }], ["1.5.8", false]]);
  });

  await t.step("npm GHSA-29mw-wpgm-hmr9 (lodash): four packages, fixed and last_affected", () => {
    const r = shared("npm/GHSA-29mw-wpgm-hmr9.json");
    table(r, "npm", "lodash", [["4.17.20", { fixed: "4.17.21" }], ["4.17.21", false]]);
    table(r, "npm", "lodash-es", [["4.17.15", { fixed: "4.17.21" }], ["4.17.21", false]]);
    table(r, "npm", "lodash.trim", [["4.5.1", {}], ["4.5.2", false]]);
    table(r, "npm", "lodash.trimend", [["4.0.0", {}]]);
  });

  await t.step("Debian DSA-3029-1 (nginx, Debian:7)", () => {
    const r = shared("Debian/DSA-3029-1.json");
    table(r, "Debian", "nginx", [
      ["1.2.1-2.2+wheezy2", { fixed: "1.2.1-2.2+wheezy3" }],
      ["1.2.1-2.2+wheezy3", false],
      ["1.22.1-9", false],
    ]);
    table(r, "Debian", "nginx", [["1.2.1-2.2+wheezy2", false]], { debianRelease: "12" });
    table(r, "Debian", "nginx", [["1.2.1-2.2+wheezy2", { fixed: "1.2.1-2.2+wheezy3" }]], {
      debianRelease: "7",
    });
  });
});

Deno.test("OSV records: parsing and its errors", async (t) => {
  await t.step("every shared record parses", () => {
    let dirs: Deno.DirEntry[];
    try {
      dirs = [...Deno.readDirSync(SHARED_OSV)].filter((d) => d.isDirectory);
    } catch (e) {
      throw new Error(
        `OSV data missing: ${SHARED_OSV.pathname} (the shared data folder ../shared/data ` +
          `must sit beside the repository): ${(e as Error).message}`,
      );
    }
    const counts: Record<string, number> = {};
    for (const dir of dirs) {
      for (const f of Deno.readDirSync(new URL(`${dir.name}/`, SHARED_OSV))) {
        const path = `${dir.name}/${f.name}`;
        const r = shared(path);
        assertEquals(`${r.id}.json`, f.name, path);
        counts[dir.name] = (counts[dir.name] ?? 0) + 1;
      }
    }
    assertEquals(counts, { Debian: 1, Go: 4291, PyPI: 2661, "crates.io": 1206, npm: 11 });
  });

  await t.step("fields come through typed; null arrays and unknown keys go", () => {
    const r = fixture("introduced_zero.json");
    assertEquals(r.aliases, ["CVE-2099-0001"]);
    assertEquals(r.severity?.[0].type, "CVSS_V3");
    assertEquals(r.affected?.[0].package?.purl, "pkg:npm/minimist-like");
    assertEquals(r.references?.[0].type, "ADVISORY");
    assert(!("x_unknown_key" in r));
    const m = fixture("multiple_ranges.json");
    assert(!("aliases" in m), "null aliases read as absent");
    assertEquals(m.affected?.[1].ecosystem_specific, { affects: { os: ["windows"] } });
  });

  const base = { id: "X-1", modified: "2024-01-01T00:00:00Z" };
  const withRange = (range: unknown) => ({
    ...base,
    affected: [{ package: { ecosystem: "npm", name: "p" }, ranges: [range] }],
  });
  const bad: [string, unknown, string, string][] = [
    ["missing id", { modified: base.modified }, "id", "is missing"],
    ["empty id", { ...base, id: "" }, "id", "is empty"],
    ["missing modified", { id: "X-1" }, "modified", "is missing"],
    ["bad timestamp", { ...base, published: "yesterday" }, "published", "RFC 3339"],
    ["aliases not a list", { ...base, aliases: "CVE-1" }, "aliases", "array of strings"],
    [
      "severity without score",
      { ...base, severity: [{ type: "CVSS_V3" }] },
      "severity[0].score",
      "string",
    ],
    [
      "package without name",
      { ...base, affected: [{ package: { ecosystem: "npm" } }] },
      "affected[0].package.name",
      "string",
    ],
    [
      "unknown range type",
      withRange({ type: "RANGE", events: [{ introduced: "0" }] }),
      "affected[0].ranges[0].type",
      "SEMVER, ECOSYSTEM or GIT",
    ],
    [
      "event with two keys",
      withRange({ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1", limit: "2" }] }),
      "affected[0].ranges[0].events[1]",
      "exactly one",
    ],
    [
      "event version not a string",
      withRange({ type: "SEMVER", events: [{ introduced: 0 }] }),
      "affected[0].ranges[0].events[0].introduced",
      "string",
    ],
    [
      "range without introduced",
      withRange({ type: "SEMVER", events: [{ fixed: "1.0.0" }] }),
      "affected[0].ranges[0].events",
      "introduced",
    ],
    [
      "GIT range without repo",
      withRange({ type: "GIT", events: [{ introduced: "0" }] }),
      "affected[0].ranges[0].repo",
      "required",
    ],
    ["record not an object", [], "", "object"],
  ];
  for (const [what, json, key, problem] of bad) {
    await t.step(`rejected, naming file and key: ${what}`, () => {
      let err: unknown;
      try {
        parseOsvRecord(JSON.stringify(json), "db/X-1.json");
      } catch (e) {
        err = e;
      }
      assert(err instanceof OsvRecordError, `${what}: ${err}`);
      assertEquals(err.code, "E_OSV_RECORD");
      assertEquals(err.file, "db/X-1.json");
      assertEquals(err.key, key);
      assert(err.message.startsWith("db/X-1.json: "), err.message);
      assert(err.message.includes(problem), `${err.message} lacks "${problem}"`);
    });
  }

  await t.step("text that is not JSON", () => {
    let err: unknown;
    try {
      parseOsvRecord("{", "broken.json");
    } catch (e) {
      err = e;
    }
    assert(err instanceof OsvRecordError);
    assertEquals(err.code, "E_OSV_JSON");
    assertEquals(err.key, "");
    assert(err.message.startsWith("broken.json: is not valid JSON"), err.message);
  });
});

Deno.test("mergeAliases: one finding per vulnerability per component", async (t) => {
  const c1 = comp("npm", "lodash", "4.17.20");
  const c2 = comp("npm", "lodash-es", "4.17.20");
  const f = (
    id: string,
    aliases: string[],
    extra: Partial<Finding> = {},
    component = c1,
  ): Finding => ({ id, aliases, summary: id, component, severity: "unknown", ...extra });

  await t.step("records sharing an alias merge; ids move to aliases", () => {
    const out = mergeAliases([
      f("GHSA-29mw-wpgm-hmr9", ["CVE-2020-28500"], { fixedVersion: "4.17.21" }),
      f("OSV-2020-1", ["CVE-2020-28500"], { severity: "medium", score: 5.3, vector: "CVSS:3.1/x" }),
    ]);
    assertEquals(out.length, 1);
    assertEquals(out[0].id, "OSV-2020-1"); // the more severe one is kept
    assertEquals(out[0].aliases, ["CVE-2020-28500", "GHSA-29mw-wpgm-hmr9"]);
    assertEquals(out[0].fixedVersion, "4.17.21");
    assertEquals(out[0].score, 5.3);
  });

  await t.step("an id named as another's alias merges, transitively", () => {
    const out = mergeAliases([
      f("GO-2024-1", ["CVE-2024-1"]),
      f("GHSA-aaaa", ["CVE-2024-2"]),
      f("CVE-2024-2", ["CVE-2024-1"]), // links the two above
      f("GO-2024-9", ["CVE-2024-9"]),
    ]);
    assertEquals(out.map((x) => x.id), ["GO-2024-1", "GO-2024-9"]);
    assertEquals(out[0].aliases, ["CVE-2024-1", "CVE-2024-2", "GHSA-aaaa"]);
  });

  await t.step("different components never merge", () => {
    const out = mergeAliases([
      f("GHSA-x", ["CVE-1"]),
      f("GHSA-x", ["CVE-1"], {}, c2),
      f("GHSA-x", ["CVE-1"], {}, { ...c1, origin: { file: "other/package-lock.json" } }),
    ]);
    assertEquals(out.length, 3);
  });

  await t.step("the greatest fixed version wins, in the ecosystem's order", () => {
    const out = mergeAliases([
      f("A-1", ["CVE-7"], { fixedVersion: "4.9.0" }),
      f("B-1", ["CVE-7"], { fixedVersion: "4.10.0" }),
      f("C-1", ["CVE-7"]),
    ]);
    assertEquals(out[0].id, "A-1");
    assertEquals(out[0].fixedVersion, "4.10.0");
  });

  await t.step("unrelated findings pass through unchanged and in order", () => {
    const input = [f("A", []), f("B", ["CVE-B"]), f("C", [])];
    const out = mergeAliases(input);
    assertEquals(out, input);
    assertEquals(mergeAliases([]), []);
  });
});
