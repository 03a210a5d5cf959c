import { IronpostError } from "../core/mod.ts";

/**
 * One problem found in a config. `file` is the config path, `env:NAME` for an environment
 * override or `--flag` for a CLI override; `line`/`col` are 1-based and present for files.
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
 * import { formatDiagnostic } from "./diagnostics.ts";
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

/** The config could not be used; every problem found is in `diagnostics`. */
export class ConfigError extends IronpostError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super(
      "E_CONFIG_INVALID",
      `Invalid configuration (${errors.length} error${errors.length === 1 ? "" : "s"}):\n` +
        errors.map(formatDiagnostic).join("\n"),
      { count: errors.length },
    );
    this.name = "ConfigError";
    this.diagnostics = diagnostics;
  }
}
