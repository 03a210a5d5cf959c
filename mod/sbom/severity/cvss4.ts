/**
 * CVSS v4.0 scores, from FIRST's specification document
 * (https://www.first.org/cvss/v4.0/specification-document, section 8): the vector falls into
 * a MacroVector (six equivalence classes), whose score comes from FIRST's lookup table; the
 * score is then lowered by the vector's mean proportional severity distance from the
 * highest-severity vectors of its MacroVector, and rounded half up to one decimal.
 *
 * The arithmetic follows FIRST's reference calculator step for step (levels in 0.1 steps,
 * the same order of additions, a 1e-6 nudge before rounding half up), so scores agree with
 * the calculator on every one of the 104,976 Base vectors, not just on most of them.
 *
 * Kept instead of npm:ae-cvss-calculator, for the measured reasons in `cvss3.ts`'s header.
 */
import { MACROVECTOR_SCORES, MAX_COMPOSED, MAX_SEVERITY, METRIC_LEVELS } from "./cvss4_data.ts";
import {
  IMPACT,
  MODIFIED_IMPACT,
  SECURITY_REQUIREMENTS,
  splitVector,
  type VectorGrammar,
} from "./vector.ts";

/** A checked CVSS v4.0 vector. */
export interface Cvss4Vector {
  version: "4.0";
  /** Metric name → value, as written (Base, and any Threat/Environmental/Supplemental). */
  metrics: Readonly<Record<string, string>>;
}

const MODIFIED_SAFETY_IMPACT = ["X", "S", "H", "L", "N"] as const;
const BASE = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"] as const;

const GRAMMAR: VectorGrammar = {
  prefixes: ["CVSS:4.0"],
  values: {
    AV: ["N", "A", "L", "P"],
    AC: ["L", "H"],
    AT: ["N", "P"],
    PR: ["N", "L", "H"],
    UI: ["N", "P", "A"],
    VC: IMPACT,
    VI: IMPACT,
    VA: IMPACT,
    SC: IMPACT,
    SI: IMPACT,
    SA: IMPACT,
    E: ["X", "A", "P", "U"],
    ...SECURITY_REQUIREMENTS,
    MAV: ["X", "N", "A", "L", "P"],
    MAC: ["X", "L", "H"],
    MAT: ["X", "N", "P"],
    MPR: ["X", "N", "L", "H"],
    MUI: ["X", "N", "P", "A"],
    MVC: MODIFIED_IMPACT,
    MVI: MODIFIED_IMPACT,
    MVA: MODIFIED_IMPACT,
    MSC: MODIFIED_IMPACT,
    MSI: MODIFIED_SAFETY_IMPACT,
    MSA: MODIFIED_SAFETY_IMPACT,
    S: ["X", "N", "P"],
    AU: ["X", "N", "Y"],
    R: ["X", "A", "U", "I"],
    V: ["X", "D", "C"],
    RE: ["X", "L", "M", "H"],
    U: ["X", "Clear", "Green", "Amber", "Red"],
  },
  mandatory: BASE,
};

/**
 * Parses a `CVSS:4.0/…` vector strictly.
 *
 * @throws {CvssVectorError} naming the metric at fault.
 * @example
 * ```ts
 * import { parseCvss4 } from "./cvss4.ts";
 * const v = parseCvss4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
 * console.assert(v.metrics.VC === "H");
 * ```
 */
export function parseCvss4(vector: string): Cvss4Vector {
  return { version: "4.0", metrics: splitVector(vector, GRAMMAR).metrics };
}

/**
 * The CVSS-B score: the Base metrics only, Threat and Environmental metrics taken as Not
 * Defined (the specification's worst case) whatever the vector says. This is the score
 * advisories mean by "CVSS v4 base score".
 *
 * @throws {CvssVectorError} when given a string that is not a valid vector.
 * @example
 * ```ts
 * import { cvss4BaseScore } from "./cvss4.ts";
 * const v = "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
 * console.assert(cvss4BaseScore(v) === 7.3);
 * ```
 */
export function cvss4BaseScore(vector: string | Cvss4Vector): number {
  const m = (typeof vector === "string" ? parseCvss4(vector) : vector).metrics;
  return score((metric) => {
    if (metric === "E") return "A";
    if (metric === "CR" || metric === "IR" || metric === "AR") return "H";
    return m[metric];
  });
}

/**
 * The score of the vector as written: CVSS-BT, -BE or -BTE when it carries Threat or
 * Environmental metrics (modified metrics replace their Base metric), else CVSS-B.
 *
 * @throws {CvssVectorError} when given a string that is not a valid vector.
 * @example
 * ```ts
 * import { cvss4Score } from "./cvss4.ts";
 * const v = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
 * console.assert(cvss4Score(v) === 7.7 && cvss4Score(v + "/E:U") === 5.2);
 * ```
 */
export function cvss4Score(vector: string | Cvss4Vector): number {
  const m = (typeof vector === "string" ? parseCvss4(vector) : vector).metrics;
  return score((metric) => {
    const value = m[metric] ?? "X";
    if (value === "X" && metric === "E") return "A";
    if (value === "X" && (metric === "CR" || metric === "IR" || metric === "AR")) return "H";
    const modified = m[`M${metric}`];
    return modified !== undefined && modified !== "X" ? modified : value;
  });
}

/** The value a metric is scored with, after defaults and modified metrics. */
type Effective = (metric: string) => string;

/** The six equivalence-class digits (EQ1..EQ6) that name the vector's MacroVector. */
export function macroVector(v: Effective): string {
  const av = v("AV"), pr = v("PR"), ui = v("UI");
  const eq1 = av === "N" && pr === "N" && ui === "N"
    ? 0
    : (av === "N" || pr === "N" || ui === "N") && av !== "P"
    ? 1
    : 2;
  const eq2 = v("AC") === "L" && v("AT") === "N" ? 0 : 1;
  const vc = v("VC"), vi = v("VI"), va = v("VA");
  const eq3 = vc === "H" && vi === "H" ? 0 : vc === "H" || vi === "H" || va === "H" ? 1 : 2;
  const eq4 = v("SI") === "S" || v("SA") === "S"
    ? 0
    : v("SC") === "H" || v("SI") === "H" || v("SA") === "H"
    ? 1
    : 2;
  const eq5 = v("E") === "A" ? 0 : v("E") === "P" ? 1 : 2;
  const eq6 = (v("CR") === "H" && vc === "H") || (v("IR") === "H" && vi === "H") ||
      (v("AR") === "H" && va === "H")
    ? 0
    : 1;
  return `${eq1}${eq2}${eq3}${eq4}${eq5}${eq6}`;
}

const IMPACTS = ["VC", "VI", "VA", "SC", "SI", "SA"] as const;
const LEVELLED = Object.keys(METRIC_LEVELS);
const STEP = 0.1;

function score(v: Effective): number {
  // No impact on either system scores 0 whatever the exploitability.
  if (IMPACTS.every((metric) => v(metric) === "N")) return 0;

  const mv = macroVector(v);
  const [eq1, eq2, eq3, eq4, eq5, eq6] = [...mv].map(Number);
  const value = MACROVECTOR_SCORES[mv];
  const at = (d: number[]): number => MACROVECTOR_SCORES[d.join("")] ?? NaN;

  // The next lower MacroVector of each set (NaN when there is none). EQ3 and EQ6 move
  // together: 00 can step to 01 or 10 (take the higher), 10 to 11, 01 to 11, 11 to 21.
  const lower1 = at([eq1 + 1, eq2, eq3, eq4, eq5, eq6]);
  const lower2 = at([eq1, eq2 + 1, eq3, eq4, eq5, eq6]);
  const lower36 = eq3 === 0 && eq6 === 0
    ? Math.max(at([eq1, eq2, 0, eq4, eq5, 1]), at([eq1, eq2, 1, eq4, eq5, 0]))
    : eq3 === 1 && eq6 === 0
    ? at([eq1, eq2, 1, eq4, eq5, 1])
    : eq3 === 2
    ? NaN
    : at([eq1, eq2, eq3 + 1, eq4, eq5, eq6]);
  const lower4 = at([eq1, eq2, eq3, eq4 + 1, eq5, eq6]);
  const lower5 = at([eq1, eq2, eq3, eq4, eq5 + 1, eq6]);

  // Distance from the first highest-severity vector of the MacroVector that is nowhere
  // less severe than this one (the reference keeps the last candidate if none is).
  const eq3Maxes: Record<number, readonly string[]> = MAX_COMPOSED.eq3[eq3 as 0 | 1 | 2];
  let d: Record<string, number> = {};
  for (const max of candidates(mv, eq3Maxes[eq6])) {
    d = {};
    for (const metric of LEVELLED) {
      const levels = METRIC_LEVELS[metric];
      d[metric] = levels[v(metric)] - levels[max[metric]];
    }
    if (LEVELLED.every((metric) => d[metric] >= 0)) break;
  }
  const dist1 = d.AV + d.PR + d.UI;
  const dist2 = d.AC + d.AT;
  const dist36 = d.VC + d.VI + d.VA + d.CR + d.IR + d.AR;
  const dist4 = d.SC + d.SI + d.SA;

  const depth1 = MAX_SEVERITY.eq1[eq1 as 0 | 1 | 2] * STEP;
  const depth2 = MAX_SEVERITY.eq2[eq2 as 0 | 1] * STEP;
  const depth36 = (MAX_SEVERITY.eq3eq6[eq3 as 0 | 1 | 2] as Record<number, number>)[eq6] * STEP;
  const depth4 = MAX_SEVERITY.eq4[eq4 as 0 | 1 | 2] * STEP;

  // Each set that has a lower MacroVector contributes its available score drop scaled by how
  // far into the class the vector sits; EQ5 (threat) always contributes 0 but still counts.
  let n = 0;
  let sum = 0;
  const parts: [number, number][] = [
    [value - lower1, dist1 / depth1],
    [value - lower2, dist2 / depth2],
    [value - lower36, dist36 / depth36],
    [value - lower4, dist4 / depth4],
    [value - lower5, 0],
  ];
  for (const [available, proportion] of parts) {
    if (Number.isNaN(available)) continue;
    n++;
    sum += available * proportion;
  }
  const mean = n === 0 ? 0 : sum / n;
  return roundHalfUp1(Math.max(0, Math.min(10, value - mean)));
}

/** The highest-severity vectors of a MacroVector, as metric → value maps, in reference order. */
function* candidates(
  mv: string,
  eq3eq6: readonly string[],
): Generator<Record<string, string>> {
  const sets = [
    MAX_COMPOSED.eq1[Number(mv[0]) as 0 | 1 | 2],
    MAX_COMPOSED.eq2[Number(mv[1]) as 0 | 1],
    eq3eq6,
    MAX_COMPOSED.eq4[Number(mv[3]) as 0 | 1 | 2],
    MAX_COMPOSED.eq5[Number(mv[4]) as 0 | 1 | 2],
  ];
  for (const a of sets[0]) {
    for (const b of sets[1]) {
      for (const c of sets[2]) {
        for (const e of sets[3]) {
          for (const f of sets[4]) yield metricsOf(a + b + c + e + f);
        }
      }
    }
  }
}

const parsedMaxes = new Map<string, Record<string, string>>();

function metricsOf(text: string): Record<string, string> {
  let m = parsedMaxes.get(text);
  if (m === undefined) {
    m = {};
    for (const part of text.split("/")) {
      if (part === "") continue;
      const [k, val] = part.split(":");
      m[k] = val;
    }
    parsedMaxes.set(text, m);
  }
  return m;
}

/**
 * Rounds half up to one decimal. The 1e-6 nudge is the reference calculator's: without it,
 * 8.6 - 7.15 = 1.4499999999999993 would round to 1.4 instead of 1.5.
 */
function roundHalfUp1(value: number): number {
  return Math.round((value + 1e-6) * 10) / 10;
}
