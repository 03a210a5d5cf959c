import { IronpostError } from "../../core/mod.ts";

/**
 * Why an inventory file gave no components. Every extractor throws only this, so a directory
 * walk can report the file and go on with the next one.
 *
 * - `E_NOT_FOUND`: the file (or a file it includes, such as a requirements `-r`) is missing.
 * - `E_READ`: the file exists but cannot be read (permissions, I/O, not a regular file).
 * - `E_TOO_LARGE`: the file is larger than the read cap.
 * - `E_MALFORMED`: the text is not the format its name says (bad JSON/TOML/YAML, a line the
 *   format does not allow).
 * - `E_PERMISSION`: the process lacks a Deno permission the parser needs (the YAML library's
 *   env variables, see `INVENTORY_ENV_VARS`).
 * - `E_INCLUDE`: an include points outside the tree being scanned, or nests too deep.
 * - `E_EXTRACT`: an extractor failed in a way it did not expect (a bug; the cause is kept).
 */
export type InventoryErrorCode =
  | "E_NOT_FOUND"
  | "E_READ"
  | "E_TOO_LARGE"
  | "E_MALFORMED"
  | "E_PERMISSION"
  | "E_INCLUDE"
  | "E_EXTRACT";

/**
 * A file that could not be inventoried, with where (`line` is 1-based, 0 when the problem is
 * the file as a whole).
 *
 * @example
 * ```ts
 * import { InventoryError } from "./errors.ts";
 * const e = new InventoryError("E_MALFORMED", "go.mod", 3, 'Unknown directive "this"');
 * console.assert(e.format() === 'go.mod:3: E_MALFORMED: Unknown directive "this"');
 * ```
 */
export class InventoryError extends IronpostError {
  declare readonly code: InventoryErrorCode;
  readonly file: string;
  readonly line: number;

  constructor(
    code: InventoryErrorCode,
    file: string,
    line: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, { file, line }, options);
    this.name = "InventoryError";
    this.file = file;
    this.line = line;
  }

  /** `file:line: CODE: message` (no line when it is 0), the form editors and CI logs link to. */
  format(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}` : this.file;
    return `${where}: ${this.code}: ${this.message}`;
  }
}

/** `E_MALFORMED` for `file`, the common case, so extractors read short. */
export function malformed(file: string, line: number, message: string): InventoryError {
  return new InventoryError("E_MALFORMED", file, line, message);
}
