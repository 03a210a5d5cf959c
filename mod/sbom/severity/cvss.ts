import { cvss3BaseScore, parseCvss3 } from "./cvss3.ts";
import { cvss4BaseScore, parseCvss4 } from "./cvss4.ts";
import { CvssVectorError } from "./errors.ts";
import { type KnownSeverity, ratingOf } from "./rating.ts";

/** A vector's Base score and its qualitative rating. */
export interface CvssScore {
  version: "3.0" | "3.1" | "4.0";
  /** Base score, 0.0–10.0 (CVSS-B for v4.0). */
  score: number;
  severity: KnownSeverity;
  vector: string;
}

/**
 * Scores any supported vector (`CVSS:3.0/`, `CVSS:3.1/`, `CVSS:4.0/`) by its version label.
 *
 * @throws {CvssVectorError} for an unsupported version (CVSS v2 vectors carry no label) or a
 * malformed vector, naming the metric at fault.
 * @example
 * ```ts
 * import { scoreCvss } from "./cvss.ts";
 * const s = scoreCvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
 * console.assert(s.score === 7.5 && s.severity === "high" && s.version === "3.1");
 * ```
 */
export function scoreCvss(vector: string): CvssScore {
  if (typeof vector === "string" && vector.startsWith("CVSS:4.0/")) {
    const score = cvss4BaseScore(parseCvss4(vector));
    return { version: "4.0", score, severity: ratingOf(score), vector };
  }
  if (typeof vector === "string" && /^CVSS:3\.[01]\//.test(vector)) {
    const parsed = parseCvss3(vector);
    const score = cvss3BaseScore(parsed);
    return { version: parsed.version, score, severity: ratingOf(score), vector };
  }
  const label = typeof vector === "string" ? vector.split("/")[0] : String(vector);
  throw new CvssVectorError(
    String(vector),
    "CVSS",
    `version label "${label}" is not one of CVSS:3.0, CVSS:3.1, CVSS:4.0`,
  );
}
