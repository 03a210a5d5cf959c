import {
  cvss3BaseScore,
  cvss4BaseScore,
  cvss4Score,
  CvssVectorError,
  meetsThreshold,
  parseCvss3,
  parseCvss4,
  ratingOf,
  scoreCvss,
  severityFromLabel,
  severityOf,
  severityRank,
} from "../../mod/sbom/severity/mod.ts";
import { roundup31 } from "../../mod/sbom/severity/cvss3.ts";
import type { VulnSeverity } from "../../mod/sbom/finding.ts";
import { parseOsvRecord } from "../../mod/sbom/osv/record.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const FIXTURES = new URL("../fixtures/sbom/vulndb/", import.meta.url);
const SHARED_OSV = new URL("../../../shared/data/osv/", import.meta.url);

/** FIRST's CVSS v3.1 examples document, https://www.first.org/cvss/v3.1/examples. */
const FIRST_V31: [string, string, number][] = [
  ["CVE-2013-0375", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4],
  ["CVE-2014-3566", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1],
  ["CVE-2012-1516", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9],
  ["CVE-2009-0783", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2],
  ["CVE-2012-0384", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2],
  ["CVE-2015-1098", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8],
  ["CVE-2014-0160", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5],
  ["CVE-2014-6271", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
  ["CVE-2008-1447", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8],
  ["CVE-2014-2005", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8],
  ["CVE-2010-0467", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8],
  ["CVE-2012-1342", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8],
  ["CVE-2013-6014", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3],
  ["CVE-2011-1265", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2014-2019", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 4.6],
  ["CVE-2015-0970", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2014-0224", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4],
  ["CVE-2012-5376", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 9.6],
  ["CVE-2016-0128", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8],
  ["CVE-2016-2118", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.5],
  ["CVE-2019-7551", "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", 9.0],
  ["CVE-2017-5942", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
  ["CVE-2016-5558", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:L", 8.6],
  ["CVE-2016-5729", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 8.2],
  ["CVE-2015-2890", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:N/I:H/A:H", 6.0],
  ["CVE-2018-3652", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 7.6],
  ["CVE-2019-0884", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", 4.2],
];

/** FIRST's CVSS v3.0 examples document, https://www.first.org/cvss/v3.0/examples. */
const FIRST_V30: [string, string, number][] = [
  ["CVE-2013-1937", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
  ["CVE-2014-9253", "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4],
  ["CVE-2012-0384", "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2015-8252", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5],
];

/**
 * FIRST's CVSS v4.0 examples document (https://www.first.org/cvss/v4.0/examples, version
 * 1.4.1): vector and the score it prints. Vectors with `E:A` are Base + Threat at the
 * worst-case threat, which equals their CVSS-B.
 */
const FIRST_V4: [string, string, number][] = [
  ["CVE-2022-41741", "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3],
  ["CVE-2020-3549", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.7],
  ["CVE-2023-3089", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 8.3],
  ["CVE-2021-44714", "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 4.6],
  ["CVE-2022-21830", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.1],
  ["CVE-2022-22186", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 6.9],
  ["CVE-2023-21989", "CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:N/VI:N/VA:N/SC:H/SI:N/SA:N", 5.9],
  ["CVE-2020-3947", "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 9.4],
  ["CVE-2023-48228", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:H/SI:H/SA:H", 9.3],
  [
    "CVE-2023-30560",
    "CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:H/SA:N/S:P/V:D",
    8.3,
  ],
  [
    "CVE-2025-31324",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A",
    10,
  ],
  ["CVE-2014-0160", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/E:A", 8.7],
  ["CVE-2021-44228", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A", 9.3],
];

/** The same document's Base + Threat and Base + Environmental scores. */
const FIRST_V4_BT_BE: [string, string, number][] = [
  ["CVE-2020-3549", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 5.2],
  [
    "CVE-2023-3089",
    "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N/CR:H/IR:L/AR:L/MAV:N/MAC:H/MVC:H/MVI:L/MVA:L",
    8.1,
  ],
];

function throwsCvss(fn: () => unknown): CvssVectorError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof CvssVectorError, `expected CvssVectorError, got ${e}`);
    return e;
  }
  throw new Error("expected a CvssVectorError");
}

async function readReference(): Promise<{ vector: string; score: number; set: string }[]> {
  const text = await Deno.readTextFile(new URL("cvss_reference.tsv", FIXTURES));
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => {
    const [vector, score, set] = l.split("\t");
    return { vector, score: Number(score), set };
  });
}

Deno.test("CVSS v3.0 and v3.1 Base scores", async (t) => {
  await t.step("FIRST's v3.1 examples", () => {
    for (const [cve, vector, score] of FIRST_V31) {
      assertEquals(cvss3BaseScore(vector), score, `${cve} ${vector}`);
    }
  });
  await t.step("FIRST's v3.0 examples", () => {
    for (const [cve, vector, score] of FIRST_V30) {
      assertEquals(cvss3BaseScore(vector), score, `${cve} ${vector}`);
    }
  });
  await t.step("the v3.1 Roundup ignores floating-point noise", () => {
    assertEquals(roundup31(4.000000000000001), 4.0);
    assertEquals(Math.ceil(4.000000000000001 * 10) / 10, 4.1, "what a plain ceiling gives");
    assertEquals(roundup31(4.02), 4.1);
    assertEquals(roundup31(4.0), 4.0);
    assertEquals(roundup31(9.99), 10);
  });
  await t.step("reference scores for every v3 vector in the OSV data", async () => {
    const ref = (await readReference()).filter((r) => r.vector.startsWith("CVSS:3"));
    assert(ref.length > 100, `only ${ref.length} v3 reference vectors`);
    for (const { vector, score } of ref) assertEquals(cvss3BaseScore(vector), score, vector);
  });
  await t.step("Temporal and Environmental metrics are checked but leave the Base score", () => {
    const base = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    assertEquals(cvss3BaseScore(`${base}/E:P/RL:O/RC:C/CR:H/MAV:L/MS:C`), 9.8);
    assertEquals(parseCvss3(`${base}/E:P`).metrics.E, "P");
  });
});

Deno.test("CVSS v4.0 scores", async (t) => {
  await t.step("FIRST's v4.0 examples (CVSS-B)", () => {
    for (const [cve, vector, score] of FIRST_V4) {
      assertEquals(cvss4BaseScore(vector), score, `${cve} ${vector}`);
    }
  });
  await t.step("FIRST's Base + Threat and Base + Environmental examples", () => {
    for (const [cve, vector, score] of FIRST_V4_BT_BE) {
      assertEquals(cvss4Score(vector), score, `${cve} ${vector}`);
      // CVSS-B of the same vector ignores the Threat and Environmental metrics.
      const base = vector.split("/").slice(0, 12).join("/");
      assertEquals(cvss4BaseScore(vector), cvss4BaseScore(base), cve);
    }
  });
  await t.step(
    "FIRST's reference calculator on sampled and rounding-sensitive vectors",
    async () => {
      const ref = (await readReference()).filter((r) => r.vector.startsWith("CVSS:4.0"));
      const sets = new Set(ref.map((r) => r.set));
      assertEquals([...sets].sort(), ["osv", "rounding", "sample"]);
      for (const { vector, score, set } of ref) {
        assertEquals(cvss4BaseScore(vector), score, `${set} ${vector}`);
      }
    },
  );
  await t.step("no impact scores 0; the worst vector 10", () => {
    assertEquals(
      cvss4BaseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"),
      0,
    );
    assertEquals(
      cvss4BaseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"),
      10,
    );
  });
  await t.step("metrics out of the documented order score the same", () => {
    // As GitHub published GHSA-28g4-38q8-3cwc: VC/SC/VI/SI/VA/SA.
    const odd = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/SC:N/VI:H/SI:N/VA:H/SA:N";
    const canonical = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    assertEquals(cvss4BaseScore(odd), cvss4BaseScore(canonical));
    assertEquals(parseCvss4(odd).metrics.SC, "N");
  });
});

Deno.test("vector parsing is strict and names the metric", async (t) => {
  const v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
  const v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
  const cases: [string, string, RegExp][] = [
    ["", "CVSS", /version label "" is not one of/],
    ["AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS", /not one of CVSS:3.0, CVSS:3.1, CVSS:4.0/],
    ["CVSS:3.2/AV:N", "CVSS", /not one of/],
    [v31.replace("AV:N", "AV:Q"), "AV", /has no value "Q" \(expected one of N, A, L, P\)/],
    [v31.replace("/A:H", ""), "A", /is missing/],
    [`${v31}/AV:L`, "AV", /appears more than once/],
    [`${v31}/XX:Y`, "XX", /is not a CVSS:3.1 metric/],
    [`${v31}/`, "(empty)", /"metric:value" pair/],
    [v31.replace("S:U", "S"), "S", /"metric:value" pair/],
    [v31.replace("C:H", "C:H:H"), "C:H:H", /"metric:value" pair/],
    [`${v31}/E:X`.replace("E:X", "E:A"), "E", /has no value "A"/],
    [v40.replace("UI:N", "UI:R"), "UI", /has no value "R" \(expected one of N, P, A\)/],
    [v40.replace("/AT:N", ""), "AT", /is missing/],
    [`${v40}/S:C`, "S", /has no value "C"/],
    [`${v40}/MSI:S/MSI:S`, "MSI", /appears more than once/],
    [`${v40}/C:H`, "C", /is not a CVSS:4.0 metric/],
    ["cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS", /not one of/],
    [` ${v31}`, "CVSS", /not one of/],
  ];
  for (const [vector, metric, problem] of cases) {
    await t.step(`${JSON.stringify(vector).slice(0, 50)} → ${metric}`, () => {
      const e = throwsCvss(() => scoreCvss(vector));
      assertEquals(e.code, "E_CVSS_VECTOR");
      assertEquals(e.metric, metric, e.message);
      assert(problem.test(e.message), e.message);
      assert(e.message.includes(vector), "the message quotes the vector");
    });
  }
  await t.step("the version parsers refuse each other's vectors", () => {
    assertEquals(throwsCvss(() => parseCvss3(v40)).metric, "CVSS");
    assertEquals(throwsCvss(() => parseCvss4(v31)).metric, "CVSS");
  });
  await t.step("explicit Not Defined values and every supplemental metric parse", () => {
    const full = `${v40}/E:X/CR:X/IR:M/AR:L/MAV:X/MAC:H/MAT:P/MPR:X/MUI:A/MVC:X/MVI:N/MVA:L/` +
      "MSC:H/MSI:S/MSA:X/S:N/AU:Y/R:I/V:C/RE:H/U:Amber";
    assertEquals(parseCvss4(full).metrics.U, "Amber");
    assertEquals(cvss4BaseScore(full), cvss4BaseScore(v40));
  });
});

Deno.test("qualitative rating and thresholds", async (t) => {
  await t.step("FIRST's rating scale boundaries", () => {
    const cases: [number, VulnSeverity][] = [
      [0, "none"],
      [0.1, "low"],
      [3.9, "low"],
      [4, "medium"],
      [6.9, "medium"],
      [7, "high"],
      [8.9, "high"],
      [9, "critical"],
      [10, "critical"],
    ];
    for (const [score, rating] of cases) assertEquals(ratingOf(score), rating, String(score));
    let threw = false;
    try {
      ratingOf(10.1);
    } catch {
      threw = true;
    }
    assert(threw, "a score above 10 is refused");
  });
  await t.step("unknown ranks as medium", () => {
    assertEquals(severityRank("unknown"), severityRank("medium"));
    const order: VulnSeverity[] = ["none", "low", "medium", "high", "critical"];
    for (let i = 1; i < order.length; i++) {
      assert(severityRank(order[i]) > severityRank(order[i - 1]), order[i]);
    }
  });
  await t.step("meetsThreshold encodes the rule", () => {
    const yes: [VulnSeverity, VulnSeverity][] = [
      ["critical", "high"],
      ["high", "high"],
      ["unknown", "medium"],
      ["unknown", "low"],
      ["unknown", "none"],
      ["medium", "unknown"],
      ["none", "none"],
    ];
    const no: [VulnSeverity, VulnSeverity][] = [
      ["unknown", "high"],
      ["unknown", "critical"],
      ["low", "medium"],
      ["low", "unknown"],
      ["high", "critical"],
    ];
    for (const [s, th] of yes) assert(meetsThreshold(s, th), `${s} meets ${th}`);
    for (const [s, th] of no) assert(!meetsThreshold(s, th), `${s} does not meet ${th}`);
  });
  await t.step("database labels", () => {
    const cases: [string, VulnSeverity][] = [
      ["CRITICAL", "critical"],
      ["HIGH", "high"],
      ["MODERATE", "medium"],
      ["LOW", "low"],
      ["Important", "high"],
      ["negligible", "low"],
      ["unimportant", "low"],
      ["untriaged", "unknown"],
      ["not yet assigned", "unknown"],
      ["", "unknown"],
    ];
    for (const [label, severity] of cases) assertEquals(severityFromLabel(label), severity, label);
  });
});

Deno.test("severityOf picks CVSS v4, then v3, then labels, else unknown", async (t) => {
  const v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N";
  const v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
  await t.step("v4 is preferred over a higher v3", () => {
    const v = severityOf({
      severity: [{ type: "CVSS_V3", score: v31 }, { type: "CVSS_V4", score: v4 }],
      database_specific: { severity: "CRITICAL" },
    });
    assertEquals(v, { severity: "high", score: 8.7, vector: v4, from: "CVSS_V4", problems: [] });
  });
  await t.step("v3 over a label; the most severe of several vectors", () => {
    const low = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
    const v = severityOf({
      severity: [{ type: "CVSS_V3", score: low }],
      affected: [{ severity: [{ type: "CVSS_V3", score: v31 }] }],
      database_specific: { severity: "LOW" },
    });
    assertEquals([v.severity, v.score, v.from], ["critical", 9.8, "CVSS_V3"]);
  });
  await t.step("a bad vector is skipped and reported, the next rule decides", () => {
    const v = severityOf({
      severity: [{ type: "CVSS_V4", score: "CVSS:4.0/AV:N" }],
      database_specific: { severity: "MODERATE" },
    });
    assertEquals([v.severity, v.from, v.label], ["medium", "label", "MODERATE"]);
    assertEquals(v.problems.length, 1);
    assert(v.problems[0].includes("AC is missing"), v.problems[0]);
  });
  await t.step("RustSec's affected[].database_specific.cvss", () => {
    const v = severityOf({ affected: [{ database_specific: { cvss: v31, informational: null } }] });
    assertEquals([v.severity, v.from], ["critical", "CVSS_V3"]);
  });
  await t.step("affected[] labels, the highest wins; Ubuntu-style severity entries", () => {
    const v = severityOf({
      affected: [
        { ecosystem_specific: { severity: "LOW" } },
        { database_specific: { severity: "Important" } },
      ],
    });
    assertEquals([v.severity, v.label], ["high", "Important"]);
    assertEquals(
      severityOf({ severity: [{ type: "Ubuntu", score: "medium" }] }).severity,
      "medium",
    );
  });
  await t.step("CVSS v2 and unassessed labels give unknown", () => {
    const v = severityOf({
      severity: [{ type: "CVSS_V2", score: "AV:N/AC:L/Au:N/C:P/I:P/A:P" }],
      database_specific: { severity: "untriaged" },
    });
    assertEquals(v, { severity: "unknown", from: "none", problems: [] });
  });
});

Deno.test("every CVSS vector in shared/data/osv parses and scores within 0..10", async () => {
  let root: string;
  try {
    root = (await Deno.realPath(SHARED_OSV)).toString();
  } catch {
    throw new Error(
      `shared data not found at ${SHARED_OSV.pathname}: this test needs ../shared/data beside ` +
        "the repository (see shared/data/README.md)",
    );
  }
  const vectors = new Set<string>();
  const origins: Record<string, number> = {};
  let records = 0;
  for await (const eco of Deno.readDir(root)) {
    if (!eco.isDirectory) continue;
    for await (const f of Deno.readDir(`${root}/${eco.name}`)) {
      const text = await Deno.readTextFile(`${root}/${eco.name}/${f.name}`);
      const record = parseOsvRecord(text, f.name);
      records++;
      for (const s of record.severity ?? []) vectors.add(s.score);
      for (const a of record.affected ?? []) {
        for (const s of a.severity ?? []) vectors.add(s.score);
        if (typeof a.database_specific?.cvss === "string") vectors.add(a.database_specific.cvss);
      }
      const verdict = severityOf(record);
      assertEquals(verdict.problems, [], record.id);
      origins[verdict.from] = (origins[verdict.from] ?? 0) + 1;
    }
  }
  assertEquals(records, 8170);
  assert(vectors.size >= 160, `only ${vectors.size} distinct vectors`);
  for (const vector of vectors) {
    const s = scoreCvss(vector);
    assert(s.score >= 0 && s.score <= 10, `${vector} scored ${s.score}`);
    assertEquals(s.severity, ratingOf(s.score));
  }
  console.log(`${vectors.size} distinct vectors scored; record severity from:`, origins);
});
