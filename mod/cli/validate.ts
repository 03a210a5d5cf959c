import { type Diagnostic, formatDiagnostic } from "../config/mod.ts";
import { enabledSpecs, sectionOf } from "../daemon/mod.ts";
import { ConfigError, loadFor, UsageError, type Values } from "./args.ts";
import { githubCommands, repositoryRoot, sarifLog } from "./ci_report.ts";
import { err, out } from "./output.ts";

const FORMATS = ["human", "json", "github", "sarif"];

/** The config file itself could not be read: an I/O error, not an invalid config. */
const IO_CODES = new Set([
  "E_CONFIG_NOT_FOUND",
  "E_NOT_CAPABLE",
  "E_CONFIG_UNREADABLE",
  "E_CONFIG_NOT_FILE",
]);

/**
 * `ironpost --validate` / `ironpost config validate`: the config, every rule and every policy,
 * without privileges or network. Exit 0 valid (warnings allowed unless --strict), 1 invalid,
 * 2 usage or I/O error (the config cannot be read: one line on stderr).
 */
export async function validateCommand(values: Values): Promise<number> {
  const format = typeof values.format === "string" ? values.format : "human";
  if (!FORMATS.includes(format)) {
    throw new UsageError(
      `--format must be human, json, github or sarif, got "${format}"`,
      "config validate",
    );
  }
  const strict = values.strict === true;
  let diagnostics: Diagnostic[];
  let file: string;
  try {
    const loaded = await loadFor(values);
    diagnostics = [...loaded.warnings];
    file = loaded.path;
    // Rules and policies are validated before anything starts, so a broken one fails here.
    for (const spec of enabledSpecs(loaded.config)) {
      if (spec.validate) diagnostics.push(...await spec.validate(sectionOf(loaded.config, spec)));
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const io = e.diagnostics.find((d) => IO_CODES.has(d.code));
    if (io) {
      err(formatDiagnostic(io));
      return 2;
    }
    diagnostics = [...e.diagnostics];
    file = e.diagnostics[0]?.file ?? "";
  }
  // --strict: a warning fails the check like an error, in every format.
  if (strict) diagnostics = diagnostics.map((d) => ({ ...d, severity: "error" }));
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (format === "json") {
    out(JSON.stringify({ valid: errors === 0, file, errors, warnings, diagnostics }, null, 2));
  } else if (format === "github") {
    for (const line of githubCommands(diagnostics, await repositoryRoot(file))) out(line);
  } else if (format === "sarif") {
    out(JSON.stringify(sarifLog(diagnostics, await repositoryRoot(file)), null, 2));
  } else {
    for (const d of diagnostics) err(formatDiagnostic(d));
    if (errors === 0) {
      out(`${file}: config is valid` + (warnings ? ` (${warnings} warning(s))` : ""));
    } else err(`${errors} error(s); the config was not accepted`);
  }
  return errors === 0 ? 0 : 1;
}
