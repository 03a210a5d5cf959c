import { closest, IronpostError } from "../../core/mod.ts";

/**
 * One problem in a rule file, with where it is. Loading collects every one of these instead of
 * stopping at the first, so a rules directory is fixed in one pass (as pySigma's collection
 * does). `line`/`col` are 1-based; both are 0 when the problem is the file as a whole (it
 * cannot be read).
 *
 * Codes: `E_READ`, `E_PERMISSION` (the YAML parser lacks env access), `E_YAML`, `E_RULE` (structure or metadata), `E_DETECTION`, `E_MODIFIER`,
 * `E_VALUE`, `E_REGEX`, `E_CONDITION`, `E_CORRELATION`, `E_REFERENCE`, `E_DUPLICATE`,
 * `E_UNSUPPORTED`, `E_UNSAFE` (a file or directory others may write), `E_LIMIT` (too large a file,
 * too many rules).
 *
 * @example
 * ```ts
 * import { RuleError } from "./errors.ts";
 * const e = new RuleError("E_MODIFIER", "a.yml", 7, 21, 'Unknown modifier "contians"');
 * console.assert(e.format() === 'a.yml:7:21: E_MODIFIER: Unknown modifier "contians"');
 * ```
 */
export class RuleError extends IronpostError {
  readonly file: string;
  readonly line: number;
  readonly col: number;

  constructor(code: string, file: string, line: number, col: number, message: string) {
    super(code, message, { file, line, col });
    this.name = "RuleError";
    this.file = file;
    this.line = line;
    this.col = col;
  }

  /** `file:line:col: CODE: message`, the form editors and CI logs link to. */
  format(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}:${this.col}` : this.file;
    return `${where}: ${this.code}: ${this.message}`;
  }
}

/** `; did you mean "x"?` when a candidate is close enough to read as a typo, else "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const best = closest(word, candidates);
  return best !== undefined ? `; did you mean "${best}"?` : "";
}
