/**
 * CVSS v3.0 and v3.1 Base scores, from FIRST's specification documents
 * (https://www.first.org/cvss/v3.1/specification-document, sections 7.1 and 7.4, and
 * Appendix A for the v3.1 Roundup). Temporal and Environmental metrics are checked when a
 * vector carries them but do not change the Base score.
 *
 * Kept instead of npm:ae-cvss-calculator (1.0.13, measured on the 670 vectors of
 * tests/fixtures/sbom/vulndb/cvss_reference.tsv, v3.x and v4.0): it took 115 µs a vector
 * against 12 µs here (an index build scores every vector of every record); it scores
 * incomplete vectors (`CVSS:3.1/AV:N/AC:L` gives undefined, `CVSS:4.0/AV:N` gives 0) where
 * they must be refused naming the missing metric; and its v4.0 score folds in Threat
 * metrics, so 2 of the 670 differed from the CVSS-B the scanner reports.
 */
import * as vector from "./vector.ts";

const { IMPACT, MODIFIED_IMPACT, SECURITY_REQUIREMENTS, splitVector } = vector;

/** A checked CVSS v3.x vector. */
export interface Cvss3Vector {
  version: "3.0" | "3.1";
  /** Metric name → value, as written (Base, and any Temporal/Environmental ones). */
  metrics: Readonly<Record<string, string>>;
}

const GRAMMAR: vector.VectorGrammar = {
  prefixes: ["CVSS:3.0", "CVSS:3.1"],
  values: {
    AV: ["N", "A", "L", "P"],
    AC: ["L", "H"],
    PR: ["N", "L", "H"],
    UI: ["N", "R"],
    S: ["U", "C"],
    C: IMPACT,
    I: IMPACT,
    A: IMPACT,
    E: ["X", "H", "F", "P", "U"],
    RL: ["X", "U", "W", "T", "O"],
    RC: ["X", "C", "R", "U"],
    ...SECURITY_REQUIREMENTS,
    MAV: ["X", "N", "A", "L", "P"],
    MAC: ["X", "L", "H"],
    MPR: ["X", "N", "L", "H"],
    MUI: ["X", "N", "R"],
    MS: ["X", "U", "C"],
    MC: MODIFIED_IMPACT,
    MI: MODIFIED_IMPACT,
    MA: MODIFIED_IMPACT,
  },
  mandatory: ["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
};

// Metric weights, specification section 7.4.
const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Record<string, number> = { L: 0.77, H: 0.44 };
const PR_UNCHANGED: Record<string, number> = { N: 0.85, L: 0.62, H: 0.27 };
const PR_CHANGED: Record<string, number> = { N: 0.85, L: 0.68, H: 0.5 };
const UI: Record<string, number> = { N: 0.85, R: 0.62 };
const CIA: Record<string, number> = { H: 0.56, L: 0.22, N: 0 };

/**
 * Parses a `CVSS:3.0/…` or `CVSS:3.1/…` vector strictly.
 *
 * @throws {CvssVectorError} naming the metric at fault.
 * @example
 * ```ts
 * import { parseCvss3 } from "./cvss3.ts";
 * const v = parseCvss3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
 * console.assert(v.version === "3.1" && v.metrics.S === "U");
 * ```
 */
export function parseCvss3(vector: string): Cvss3Vector {
  const { prefix, metrics } = splitVector(vector, GRAMMAR);
  return { version: prefix === "CVSS:3.0" ? "3.0" : "3.1", metrics };
}

/**
 * The Base score (0.0–10.0) of a v3.0 or v3.1 vector. v3.1 rounds up with the
 * specification's integer Roundup (so 4.000000000000001 stays 4.0); v3.0 with the plain
 * ceiling it specified, so scores match what each version's calculator published.
 *
 * @throws {CvssVectorError} when given a string that is not a valid vector.
 * @example
 * ```ts
 * import { cvss3BaseScore } from "./cvss3.ts";
 * console.assert(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") === 9.8);
 * console.assert(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N") === 6.1);
 * ```
 */
export function cvss3BaseScore(vector: string | Cvss3Vector): number {
  const v = typeof vector === "string" ? parseCvss3(vector) : vector;
  const m = v.metrics;
  const changed = m.S === "C";
  const iss = 1 - (1 - CIA[m.C]) * (1 - CIA[m.I]) * (1 - CIA[m.A]);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const pr = (changed ? PR_CHANGED : PR_UNCHANGED)[m.PR];
  const exploitability = 8.22 * AV[m.AV] * AC[m.AC] * pr * UI[m.UI];
  if (impact <= 0) return 0;
  const raw = changed
    ? Math.min(1.08 * (impact + exploitability), 10)
    : Math.min(impact + exploitability, 10);
  return v.version === "3.1" ? roundup31(raw) : roundup30(raw);
}

/**
 * v3.1 Roundup (Appendix A): work in integers of 1/100000 so that floating-point noise
 * such as 4.000000000000001 does not round up to 4.1.
 */
export function roundup31(input: number): number {
  const int = Math.round(input * 100000);
  return int % 10000 === 0 ? int / 100000 : (Math.floor(int / 10000) + 1) / 10;
}

/** v3.0 Round up: the smallest one-decimal number not below the input. */
function roundup30(input: number): number {
  return Math.ceil(input * 10) / 10;
}
