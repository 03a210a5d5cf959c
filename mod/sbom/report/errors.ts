import { IronpostError } from "../../core/errors.ts";

/**
 * A report could not be written or checked. Codes: `E_REPORT_FORMAT` (an output format this
 * module does not write), `E_REPORT_VALIDATOR` (the schema validator could not be loaded).
 *
 * @example
 * ```ts
 * import { ReportError } from "./errors.ts";
 * const e = new ReportError("E_REPORT_FORMAT", 'Unknown CycloneDX format "yaml"', { format: "yaml" });
 * console.assert(e.code === "E_REPORT_FORMAT");
 * ```
 */
export class ReportError extends IronpostError {
  override readonly name: string = "ReportError";
}
