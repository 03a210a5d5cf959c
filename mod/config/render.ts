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

const SHIPPED_HEADER = `# Ironpost agent configuration: every key, its default and what it does.
#
# Precedence: command line > environment (IRONPOST_<SECTION>_<KEY>, lists comma-separated)
# > this file > built-in defaults. Relative paths are resolved against this file's directory.
# Check a config before rolling it out:  ironpost --validate --config PATH
#
# As shipped, the agent runs unprivileged with no module enabled (\`deno task start\`); see
# README.md for a server deployment.
`;

/**
 * The documented `config/ironpost.toml`, generated from the schema (the core's sections and
 * each capability's spec): every key with its default and doc. A key whose default depends
 * on the machine is shown commented out, with its value as root and the rule otherwise.
 * `deno task config:toml` writes it; a test fails when the committed file differs.
 */
export function renderShippedToml(): string {
  const out = [SHIPPED_HEADER];
  const asRoot = { root: true, home: "~", stateDir: "/var/lib/ironpost" };
  const symbolic = (root: boolean) => ({ root, home: "~", stateDir: "<state_dir>" });
  for (const [section, spec] of Object.entries(SCHEMA)) {
    out.push(`# ${spec.doc}`, `[${section}]`);
    for (const [key, f] of Object.entries(spec.keys)) {
      if (typeof f.default !== "function") {
        out.push(`${key} = ${tomlValue(f.default)}  # ${f.doc}`);
        continue;
      }
      const example = f.default(asRoot);
      const [root, other] = [f.default(symbolic(true)), f.default(symbolic(false))];
      const note = root === other
        ? `default ${other}: ${f.doc}`
        : `default as root; ${other} otherwise. ${f.doc[0].toUpperCase()}${f.doc.slice(1)}`;
      out.push(`# ${key} = ${tomlValue(example)}  # ${note}`);
    }
    out.push("");
  }
  return out.join("\n").replace(/\n+$/, "\n");
}

/** The README's markers around the generated config reference. */
export const REFERENCE_MARKERS = [
  "<!-- config-reference:start (deno task config:toml writes this) -->",
  "<!-- config-reference:end -->",
] as const;

/**
 * The config reference as Markdown, generated from the schema: one table per section with
 * each key, its default and what it does (the README carries it between
 * `REFERENCE_MARKERS`; a test keeps it true).
 */
export function renderConfigReference(): string {
  const out: string[] = [];
  const symbolic = { root: true, home: "~", stateDir: "<state_dir>" };
  for (const [section, spec] of Object.entries(SCHEMA)) {
    out.push(`**\`[${section}]\`**: ${spec.doc}`, "", "| key | default | what it does |");
    out.push("| --- | --- | --- |");
    for (const [key, f] of Object.entries(spec.keys)) {
      const def = typeof f.default === "function" ? f.default(symbolic) : f.default;
      const cell = `\`${tomlValue(def)}\``.replace(/\|/g, "\\|");
      out.push(`| \`${key}\` | ${cell} | ${f.doc.replace(/\|/g, "\\|")} |`);
    }
    out.push("");
  }
  return out.join("\n").trimEnd() + "\n";
}

/** `readme` with its config reference replaced by the generated one. */
export function withConfigReference(readme: string): string {
  const [start, end] = REFERENCE_MARKERS;
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README has no ${start} … ${end} markers`);
  return readme.slice(0, i + start.length) + "\n\n" + renderConfigReference() + "\n" +
    readme.slice(j);
}
