import { type Diagnostic, formatDiagnostic, IronpostError } from "../core/mod.ts";

export { type Diagnostic, formatDiagnostic };

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
