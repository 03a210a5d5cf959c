import { IronpostError } from "../../core/mod.ts";

/**
 * One problem in a rule file, with where it is. Loading collects every one of these instead of
 * stopping at the first, so a rules directory is fixed in one pass (as pySigma's collection
 * does). `line`/`col` are 1-based; both are 0 when the problem is the file as a whole (it
 * cannot be read).
 *
 * Codes: `E_READ`, `E_PERMISSION` (the YAML parser lacks env access), `E_YAML`, `E_RULE` (structure or metadata), `E_DETECTION`, `E_MODIFIER`,
 * `E_VALUE`, `E_REGEX`, `E_CONDITION`, `E_CORRELATION`, `E_REFERENCE`, `E_DUPLICATE`,
 * `E_UNSUPPORTED`.
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

/** Edit distance, for "did you mean" hints on misspelt modifiers and keys. */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** `; did you mean "x"?` when a candidate is close enough to read as a typo, else "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3))
    ? `; did you mean "${best}"?`
    : "";
}
