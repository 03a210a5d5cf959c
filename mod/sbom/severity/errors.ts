import { IronpostError } from "../../core/mod.ts";

/**
 * A CVSS vector that does not follow its specification. `metric` names the metric at fault
 * (`CVSS` when the version prefix itself is wrong), so a report can point at the exact part.
 *
 * @example
 * ```ts
 * import { CvssVectorError } from "./errors.ts";
 * const e = new CvssVectorError("CVSS:3.1/AV:Q", "AV", 'has no value "Q"');
 * console.assert(e.code === "E_CVSS_VECTOR" && e.metric === "AV");
 * ```
 */
export class CvssVectorError extends IronpostError {
  readonly vector: string;
  readonly metric: string;

  constructor(vector: string, metric: string, problem: string) {
    super("E_CVSS_VECTOR", `Invalid CVSS vector "${vector}": ${metric} ${problem}`, {
      vector,
      metric,
    });
    this.name = "CvssVectorError";
    this.vector = vector;
    this.metric = metric;
  }
}
