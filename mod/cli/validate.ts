import { type Diagnostic, formatDiagnostic } from "../config/mod.ts";
import { ConfigError, loadFor, UsageError, type Values } from "./args.ts";
import type { RuleError } from "../logs/mod.ts";

/** A Sigma rule error in the config diagnostics' shape (file:line:col of the rule). */
function ruleDiagnostic(e: RuleError): Diagnostic {
  return {
    severity: "error",
    code: e.code,
    file: e.file,
    ...(e.line > 0 ? { line: e.line, col: e.col } : {}),
    key: "rule",
    message: e.message,
    expected: "a valid Sigma rule (ironpost rules validate shows every rule error)",
  };
}
import { err, out } from "./output.ts";

/**
 * `ironpost --validate` / `ironpost config validate`: every diagnostic, exit 0 when only
 * warnings remain, 1 when anything is an error.
 */
export async function validateCommand(values: Values): Promise<number> {
  const format = typeof values.format === "string" ? values.format : "human";
  if (format !== "human" && format !== "json") {
    throw new UsageError(`--format must be human or json, got "${format}"`, "config validate");
  }
  let diagnostics: Diagnostic[];
  let file: string;
  try {
    const loaded = await loadFor(values);
    diagnostics = [...loaded.warnings];
    file = loaded.path;
    // Rules and policies are validated before anything starts, so a broken one fails here.
    if (loaded.config.log_pipeline.enabled) {
      const { loadConfiguredRules } = await import("../logs/module.ts");
      const { errors } = await loadConfiguredRules(loaded.config.log_pipeline);
      diagnostics.push(...errors.map(ruleDiagnostic));
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    diagnostics = [...e.diagnostics];
    file = e.diagnostics[0]?.file ?? "";
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (format === "json") {
    out(JSON.stringify({ valid: errors === 0, file, errors, diagnostics }, null, 2));
  } else {
    for (const d of diagnostics) err(formatDiagnostic(d));
    if (errors === 0) {
      out(
        `${file}: config is valid` +
          (diagnostics.length ? ` (${diagnostics.length} warning(s))` : ""),
      );
    } else err(`${errors} error(s); the config was not accepted`);
  }
  return errors === 0 ? 0 : 1;
}
