/** `poetry.lock`: Poetry's lockfile (TOML, one `[[package]]` per distribution). */
import type { Component } from "../component.ts";
import { Collector } from "./collect.ts";
import { malformed } from "./errors.ts";
import { baseName, type Extractor } from "./extractor.ts";
import { tomlEntryLines } from "./lines.ts";
import { parseTomlTable } from "./parse_text.ts";
import { type Dict, dict, flag, isDict, list, str } from "./values.ts";

/**
 * Scope of one entry: lock format 2.1 lists its `groups` (`main` is production), older ones a
 * `category` (`main` or `dev`); `optional = true` marks an extra's dependency.
 */
function groupsOf(entry: Dict): string[] {
  const out: string[] = [];
  const groups = list(entry.groups).filter((g): g is string => typeof g === "string");
  if (groups.length > 0) {
    if (!groups.includes("main")) out.push(...groups);
  } else if (str(entry.category) === "dev") {
    out.push("dev");
  }
  if (flag(entry.optional)) out.push("optional");
  return out;
}

/**
 * Poetry lockfiles. A git source's `resolved_reference` is the commit.
 *
 * @example
 * ```ts
 * import { poetryLock } from "./poetry_lock.ts";
 * const text = '[[package]]\nname = "numpy"\nversion = "1.23.3"\noptional = true\n';
 * const [c] = poetryLock.extract("poetry.lock", text);
 * console.assert(c.name === "numpy" && c.groups[0] === "optional" && c.origin.line === 2);
 * ```
 */
export const poetryLock: Extractor = {
  name: "pypi/poetry-lock",
  ecosystem: "PyPI",
  fileRequired(path: string): boolean {
    return baseName(path) === "poetry.lock";
  },
  extract(path: string, text: string): Component[] {
    const lock = parseTomlTable(path, text);
    const lines = tomlEntryLines(text, "package", "name");
    const out = new Collector();
    list(lock.package).forEach((raw, i) => {
      const line = lines[i] || undefined;
      if (!isDict(raw)) throw malformed(path, line ?? 0, "A [[package]] entry is not a table");
      const name = str(raw.name);
      const version = str(raw.version);
      if (!name || version === undefined) {
        throw malformed(path, line ?? 0, "A [[package]] entry lacks a name or version");
      }
      const source = dict(raw.source);
      const commit = str(source.type) === "git" ? str(source.resolved_reference) ?? "" : "";
      out.add({
        name,
        version,
        ecosystem: "PyPI",
        origin: { file: path, line },
        groups: groupsOf(raw),
        ...(commit ? { commit } : {}),
      });
    });
    return out.list();
  },
};
