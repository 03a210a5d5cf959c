import { parseArgs } from "node:util";
import {
  type CliOverride,
  ConfigError,
  formatDiagnostic,
  loadConfig,
  type LoadedConfig,
} from "../config/mod.ts";
import { builtSections } from "../daemon/mod.ts";
import { errorMessage, IronpostError } from "../core/mod.ts";
import { err } from "./output.ts";

export const DEFAULT_CONFIG = "/etc/ironpost/ironpost.toml";

/** Options every command understands (config location and the overrides of it). */
export const COMMON_OPTIONS = {
  config: { type: "string", short: "c" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "log-file": { type: "string" },
  "pid-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** A usage mistake: exit code 2 and the command's help hint. */
export class UsageError extends IronpostError {
  constructor(message: string, command?: string) {
    super("E_USAGE", message, { command });
    this.name = "UsageError";
  }
}

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parse argv for one command, turning node:util errors into `UsageError`. */
export function parse(
  args: string[],
  options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>,
  command: string,
): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (err) {
    throw new UsageError(errorMessage(err), command);
  }
}

/** The CLI flags that override config keys, in precedence above env and file. */
export function cliOverrides(values: Values): CliOverride[] {
  const map: [string, string][] = [
    ["log-level", "general.log_level"],
    ["log-format", "general.log_format"],
    ["log-file", "general.log_file"],
    ["pid-file", "general.pid_file"],
  ];
  const out: CliOverride[] = [];
  for (const [flag, key] of map) {
    const v = values[flag];
    if (typeof v === "string") out.push({ key, value: v, flag: `--${flag}` });
  }
  return out;
}

/** Load the config a command names (or the default path), with its CLI overrides. */
export function loadFor(values: Values): Promise<LoadedConfig> {
  return loadConfig({
    path: typeof values.config === "string" ? values.config : DEFAULT_CONFIG,
    cli: cliOverrides(values),
    builtModules: builtSections(),
  });
}

/**
 * Load the config for a command that cannot go on without it: an invalid config becomes one
 * error listing every diagnostic, `why` saying what that stops.
 */
export async function loadOrFail(values: Values, why = ""): Promise<LoadedConfig> {
  try {
    return await loadFor(values);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new IronpostError(
      "E_CONFIG_INVALID",
      `the config is invalid${why}\n` + e.diagnostics.map(formatDiagnostic).join("\n"),
    );
  }
}

/**
 * Load the config for a command that prints an invalid config's diagnostics itself (one a
 * line, then `note` when given) and exits 1: undefined then.
 */
export async function loadOrReport(values: Values, note = ""): Promise<LoadedConfig | undefined> {
  try {
    return await loadFor(values);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const d of e.diagnostics) err(formatDiagnostic(d));
    if (note) err(note);
    return undefined;
  }
}

export { ConfigError };
