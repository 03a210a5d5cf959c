/**
 * One problem found in a config, a rule or a policy file. `file` is the file's path,
 * `env:NAME` for an environment override or `--flag` for a CLI override; `line`/`col` are
 * 1-based and present for files.
 */
export interface Diagnostic {
  severity: "error" | "warning";
  code: string;
  file: string;
  line?: number;
  col?: number;
  /** Dotted key path (`general.log_level`), or the section for section-level problems. */
  key: string;
  message: string;
  expected: string;
}

/**
 * `file:line:col: error: key: what is wrong; expected what is valid`.
 *
 * @example
 * ```ts
 * import { formatDiagnostic } from "./diagnostic.ts";
 * const line = formatDiagnostic({
 *   severity: "error", code: "E_ENUM", file: "a.toml", line: 2, col: 13,
 *   key: "general.log_level", message: 'got "loud"', expected: '"info"',
 * });
 * console.assert(line === 'a.toml:2:13: error: general.log_level: got "loud"; expected "info"');
 * ```
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line !== undefined ? `${d.file}:${d.line}:${d.col ?? 1}` : d.file;
  return `${where}: ${d.severity}: ${d.key}: ${d.message}; expected ${d.expected}`;
}
