/**
 * JSON, TOML and YAML parsing that fails only with `E_MALFORMED` (with a line when the parser
 * gives one), so extractors never leak a library's own error type.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { type Document, isMap, isScalar, LineCounter, parseDocument, visit } from "yaml";
import { errorMessage } from "../../core/errors.ts";
import { InventoryError, malformed } from "./errors.ts";
import { TextLines, tomlEntryLines } from "./lines.ts";
import type { Dict } from "./values.ts";
import { isDict, list, str } from "./values.ts";

/**
 * Environment variables the `yaml` library reads on every parse (its debug switches). Under a
 * scoped `--allow-env` they must be granted, or parsing a YAML lockfile fails with
 * `E_PERMISSION` instead of `NotCapable`.
 */
export const INVENTORY_ENV_VARS: readonly string[] = ["LOG_TOKENS", "LOG_STREAM"];

/**
 * The first repeated scalar key of any mapping of `doc`, by position (what the library's
 * `uniqueKeys` reports, with a Set per mapping instead of a scan of the earlier keys).
 */
function duplicateKeyAt(doc: Document.Parsed): { pos: number; message: string }[] {
  let first: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) continue;
        if (!seen.has(key.value)) {
          seen.add(key.value);
        } else if (key.range && (first === undefined || key.range[0] < first)) {
          first = key.range[0];
        }
      }
    },
  });
  return first === undefined ? [] : [{ pos: first, message: "Map keys must be unique" }];
}

/** `text` as a JSON object; anything else (bad JSON, an array, a string) is `E_MALFORMED`. */
export function parseJsonObject(file: string, text: string): Dict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = errorMessage(e);
    throw malformed(file, jsonErrorLine(text, msg), `Not valid JSON: ${msg}`);
  }
  if (!isDict(value)) throw malformed(file, 1, "Not a JSON object");
  return value;
}

/** V8 says "(line L column C)" or "at position N"; either becomes a line, else 0. */
function jsonErrorLine(text: string, msg: string): number {
  const line = /\bline (\d+)/.exec(msg);
  if (line) return Number(line[1]);
  const pos = /\bposition (\d+)/.exec(msg);
  return pos ? new TextLines(text).lineAt(Number(pos[1])) : 0;
}

/** `text` as a TOML table; a syntax error is `E_MALFORMED` at its line. */
export function parseTomlTable(file: string, text: string): Dict {
  try {
    return parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0];
      throw malformed(file, e.line, `Not valid TOML: ${first}`);
    }
    throw malformed(file, 0, `Not valid TOML: ${errorMessage(e)}`);
  }
}

/** One `[[package]]` table of a TOML lockfile. */
export interface TomlPackage {
  name: string;
  /** Absent when the table has none (allowed only when the caller said so). */
  version?: string;
  raw: Dict;
  /** Line of the table's `name` key. */
  line: number | undefined;
}

/**
 * The `[[package]]` tables of a TOML lockfile (Cargo, Poetry, uv), in order, each with the
 * line of its `name`. A table that is not one, or has no name, is `E_MALFORMED`; so is one
 * without a version unless `versionOptional`.
 *
 * @example
 * ```ts
 * import { tomlPackages } from "./parse_text.ts";
 * const [p] = tomlPackages("Cargo.lock", '[[package]]\nname = "a"\nversion = "1.0.0"\n');
 * console.assert(p.name === "a" && p.version === "1.0.0" && p.line === 2);
 * ```
 */
export function tomlPackages(file: string, text: string, versionOptional = false): TomlPackage[] {
  const lock = parseTomlTable(file, text);
  const lines = tomlEntryLines(text, "package", "name");
  return list(lock.package).map((raw, i) => {
    const line = lines[i] || undefined;
    if (!isDict(raw)) throw malformed(file, line ?? 0, "A [[package]] entry is not a table");
    const name = str(raw.name);
    const version = str(raw.version);
    if (versionOptional) {
      if (!name) throw malformed(file, line ?? 0, "A [[package]] entry has no name");
    } else if (!name || version === undefined) {
      throw malformed(file, line ?? 0, "A [[package]] entry lacks a name or version");
    }
    return { name: name as string, version, raw, line };
  });
}

/** A parsed YAML mapping and the lines of its keys. */
export interface YamlMapping {
  data: Dict;
  /** Line of each key of the mapping at `path` (`[]` for the top level). */
  keyLines(path: readonly string[]): Map<string, number>;
}

/**
 * `text` as a YAML mapping. Scalars are all read as strings (the failsafe schema) because a
 * version such as `1.10` must not become the number 1.1; callers compare `"true"` for flags.
 * An empty document is an empty mapping; any other non-mapping is `E_MALFORMED`.
 */
export function parseYamlMapping(file: string, text: string): YamlMapping {
  const denied = INVENTORY_ENV_VARS.filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  );
  if (denied.length > 0) {
    throw new InventoryError(
      "E_PERMISSION",
      file,
      0,
      `Parsing YAML needs env access to ${denied.join(", ")} (the yaml library reads them); ` +
        `add them to --allow-env`,
    );
  }
  const lc = new LineCounter();
  let doc;
  let value: unknown;
  try {
    doc = parseDocument(text, {
      lineCounter: lc,
      schema: "failsafe",
      prettyErrors: false,
      // The library's own check compares each key with every earlier one of its map, which
      // is quadratic (a 40k-entry pnpm-lock.yaml took 15 s); `duplicateKeyAt` is linear.
      uniqueKeys: false,
    });
    const errorAt = [
      ...doc.errors.map((e) => ({ pos: e.pos[0], message: e.message })),
      ...duplicateKeyAt(doc),
    ].sort((a, b) => a.pos - b.pos)[0];
    if (errorAt !== undefined) {
      throw malformed(file, lc.linePos(errorAt.pos).line, `Not valid YAML: ${errorAt.message}`);
    }
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    throw malformed(file, 0, `Not valid YAML: ${errorMessage(e)}`);
  }
  if (value === null || value === undefined || value === "") {
    return { data: {}, keyLines: () => new Map() };
  }
  if (!isDict(value)) throw malformed(file, 1, "Not a YAML mapping");
  const parsed = doc;
  return {
    data: value,
    keyLines(path) {
      const lines = new Map<string, number>();
      const node = path.length === 0 ? parsed.contents : parsed.getIn(path, true);
      if (!isMap(node)) return lines;
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key) && key.range) lines.set(String(key.value), lc.linePos(key.range[0]).line);
      }
      return lines;
    },
  };
}
