/** `Pipfile.lock`: Pipenv's lockfile (JSON, one map of packages per category). */
import { lockfile } from "./extractor.ts";
import { TextLines } from "./lines.ts";
import { parseJsonObject } from "./parse_text.ts";
import { isDict, str } from "./values.ts";

/**
 * Pipfile.lock files. Every top-level map but `_meta` is a category: `default` is production,
 * `develop` is the `dev` group, and any other (Pipenv's custom categories) is a group of its
 * own name. A package with no `==` version (a git or path dependency) is skipped, as
 * osv-scanner does: nothing says which release it is.
 *
 * @example
 * ```ts
 * import { pipfileLock } from "./pipfile_lock.ts";
 * const text = JSON.stringify({ develop: { pluggy: { version: "==1.0.0" } } }, null, 2);
 * const [c] = pipfileLock.extract("Pipfile.lock", text);
 * console.assert(c.version === "1.0.0" && c.groups[0] === "dev" && c.origin.line === 3);
 * ```
 */
export const pipfileLock = lockfile({
  name: "pypi/pipfile-lock",
  ecosystem: "PyPI",
  files: ["Pipfile.lock"],
  sniff: (t) => /"pipfile-spec"/.test(t) || (/"default"\s*:/.test(t) && /"develop"\s*:/.test(t)),
  parse(path, text, add) {
    const lock = parseJsonObject(path, text);
    const lines = new TextLines(text);
    for (const [category, packages] of Object.entries(lock)) {
      if (category === "_meta" || !isDict(packages)) continue;
      const groups = category === "default" ? [] : category === "develop" ? ["dev"] : [category];
      for (const [name, raw] of Object.entries(packages)) {
        const line = lines.next(`${JSON.stringify(name)}: {`);
        const version = isDict(raw) ? str(raw.version) ?? "" : "";
        if (!version.startsWith("==")) continue;
        add({
          name,
          version: version.slice(version.startsWith("===") ? 3 : 2),
          line,
          groups: [...groups],
        });
      }
    }
  },
});
