import { IronpostError } from "../../core/mod.ts";

/**
 * What can go wrong building, updating or opening the vulnerability database. Every error
 * names the source (directory, zip file or URL) or database path it concerns.
 *
 * Codes: `E_VULNDB_SOURCE` (cannot read the source), `E_VULNDB_FETCH` (download failed),
 * `E_VULNDB_ZIP` (not a readable zip: central directory, CRC or deflate data broken),
 * `E_VULNDB_EMPTY` (no record accepted), `E_VULNDB_REJECTED` (too many entries are not
 * OSV records), `E_VULNDB_SHRINK` (the new index lost too many records against the one it
 * would replace), `E_VULNDB_WRITE` (cannot write or swap the index), `E_VULNDB_OPEN`
 * (cannot open an index, or it is not one this agent can read).
 *
 * @example
 * ```ts
 * import { VulnDbError } from "./vulndb_error.ts";
 * const e = new VulnDbError("E_VULNDB_ZIP", "npm/all.zip", "CRC mismatch in GHSA-1.json");
 * console.assert(e.message === "npm/all.zip: CRC mismatch in GHSA-1.json");
 * ```
 */
export class VulnDbError extends IronpostError {
  readonly source: string;

  constructor(
    code: string,
    source: string,
    problem: string,
    context: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(code, `${source}: ${problem}`, { source, ...context }, options);
    this.name = "VulnDbError";
    this.source = source;
  }
}
