import { redact } from "../core/mod.ts";
import type { Origin } from "./load.ts";
import { envName, SCHEMA } from "./schema.ts";
import type { IronpostConfig } from "./types.ts";

/**
 * The effective config as TOML, credentials redacted, each value that did not come from the
 * file annotated with where it came from.
 */
export function renderToml(config: IronpostConfig, origins: Record<string, Origin>): string {
  const safe = redact(config) as unknown as Record<string, Record<string, unknown>>;
  const out: string[] = [];
  for (const [section, spec] of Object.entries(SCHEMA)) {
    out.push(`[${section}]`);
    for (const key of Object.keys(spec.keys)) {
      const origin = origins[`${section}.${key}`];
      const note = origin === "env"
        ? `  # from env ${envName(section, key)}`
        : origin === "cli"
        ? "  # from the command line"
        : origin === "default"
        ? "  # default"
        : "";
      out.push(`${key} = ${tomlValue(safe[section][key])}${note}`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** The effective config as JSON, credentials redacted, with each key's origin. */
export function renderJson(config: IronpostConfig, origins: Record<string, Origin>): string {
  return JSON.stringify({ config: redact(config), origins }, null, 2);
}

function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(", ")}]`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}
