/** `poetry.lock`: Poetry's lockfile (TOML, one `[[package]]` per distribution). */
import { lockfile } from "./extractor.ts";
import { tomlPackages } from "./parse_text.ts";
import { type Dict, dict, flag, list, str } from "./values.ts";

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
export const poetryLock = lockfile({
  name: "pypi/poetry-lock",
  ecosystem: "PyPI",
  files: ["poetry.lock"],
  sniff: (t) =>
    /^\[\[package\]\]/m.test(t) &&
    (/^python-versions\s*=/m.test(t) || (/^\[metadata\]/m.test(t) && /content-hash/.test(t))),
  parse(path, text, add) {
    for (const p of tomlPackages(path, text)) {
      const source = dict(p.raw.source);
      const commit = str(source.type) === "git" ? str(source.resolved_reference) ?? "" : "";
      add({ name: p.name, version: p.version!, line: p.line, groups: groupsOf(p.raw), commit });
    }
  },
});
