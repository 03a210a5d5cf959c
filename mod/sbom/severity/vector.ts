import { CvssVectorError } from "./errors.ts";

/** Values of an impact metric (v3 `C`/`I`/`A`, v4 `VC`…`SA`). */
export const IMPACT = ["H", "L", "N"] as const;
/** Values of a modified impact metric (`MC`, `MVC`, …). */
export const MODIFIED_IMPACT = ["X", "H", "L", "N"] as const;
const REQUIREMENT = ["X", "H", "M", "L"] as const;
/** The Environmental security requirements, the same in v3.x and v4.0. */
export const SECURITY_REQUIREMENTS = { CR: REQUIREMENT, IR: REQUIREMENT, AR: REQUIREMENT };

/** What one CVSS version allows in a vector string. */
export interface VectorGrammar {
  /** Accepted version labels, e.g. `CVSS:3.0`, `CVSS:3.1`. */
  prefixes: readonly string[];
  /** Every metric the version defines, with its allowed values. */
  values: Readonly<Record<string, readonly string[]>>;
  /** Metrics that must be present (the Base group). */
  mandatory: readonly string[];
}

/** A vector split into its version label and metric values. */
export interface ParsedVector {
  prefix: string;
  metrics: Readonly<Record<string, string>>;
}

/**
 * Splits a vector string strictly: a known version label, then `/metric:value` pairs, each
 * metric known, present at most once and with an allowed value, every mandatory metric present.
 *
 * Order is not enforced. The v3.x specifications allow any order, and advisory databases
 * publish v4.0 vectors out of the documented order (e.g. `VC/SC/VI/SI/VA/SA`); the metric
 * values, not their order, decide the score, so refusing those would only lose real scores.
 *
 * @throws {CvssVectorError} naming the metric at fault.
 * @example
 * ```ts
 * import { splitVector } from "./vector.ts";
 * const g = { prefixes: ["CVSS:9.9"], values: { AV: ["N", "L"] }, mandatory: ["AV"] };
 * console.assert(splitVector("CVSS:9.9/AV:N", g).metrics.AV === "N");
 * ```
 */
export function splitVector(vector: string, grammar: VectorGrammar): ParsedVector {
  if (typeof vector !== "string" || vector === "") {
    throw new CvssVectorError(String(vector), "CVSS", "version label is missing");
  }
  const [prefix, ...parts] = vector.split("/");
  if (!grammar.prefixes.includes(prefix)) {
    throw new CvssVectorError(
      vector,
      "CVSS",
      `version label "${prefix}" is not one of ${grammar.prefixes.join(", ")}`,
    );
  }
  const metrics: Record<string, string> = {};
  for (const part of parts) {
    const colon = part.indexOf(":");
    if (colon <= 0 || colon === part.length - 1 || part.indexOf(":", colon + 1) !== -1) {
      throw new CvssVectorError(
        vector,
        part === "" ? "(empty)" : part,
        'is not a "metric:value" pair',
      );
    }
    const name = part.slice(0, colon);
    const value = part.slice(colon + 1);
    const allowed = Object.hasOwn(grammar.values, name) ? grammar.values[name] : undefined;
    if (allowed === undefined) {
      throw new CvssVectorError(vector, name, `is not a ${prefix} metric`);
    }
    if (Object.hasOwn(metrics, name)) {
      throw new CvssVectorError(vector, name, "appears more than once");
    }
    if (!allowed.includes(value)) {
      throw new CvssVectorError(
        vector,
        name,
        `has no value "${value}" (expected one of ${allowed.join(", ")})`,
      );
    }
    metrics[name] = value;
  }
  for (const name of grammar.mandatory) {
    if (!Object.hasOwn(metrics, name)) {
      throw new CvssVectorError(vector, name, "is missing (every Base metric is required)");
    }
  }
  return { prefix, metrics };
}
