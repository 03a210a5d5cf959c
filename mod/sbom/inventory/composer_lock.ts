/** `composer.lock`: PHP Composer's lockfile (JSON, `packages` and `packages-dev` lists). */
import { malformed } from "./errors.ts";
import { lockfile } from "./extractor.ts";
import { TextLines } from "./lines.ts";
import { parseJsonObject } from "./parse_text.ts";
import { dict, isDict, list, str } from "./values.ts";

/**
 * Composer lockfiles. `packages-dev` entries are the `dev` group; `source.reference` (the
 * VCS commit Composer installed) is kept as the commit.
 *
 * @example
 * ```ts
 * import { composerLock } from "./composer_lock.ts";
 * const text = JSON.stringify({ packages: [], "packages-dev": [
 *   { name: "sentry/sdk", version: "2.0.4", source: { type: "git", reference: "4c11587" } },
 * ] }, null, 2);
 * const [c] = composerLock.extract("composer.lock", text);
 * console.assert(c.groups[0] === "dev" && c.commit === "4c11587" && c.origin.line === 5);
 * ```
 */
export const composerLock = lockfile({
  name: "packagist/composer-lock",
  ecosystem: "Packagist",
  files: ["composer.lock"],
  sniff: (t) =>
    /"content-hash"\s*:/.test(t) || (/"packages"\s*:/.test(t) && /"packages-dev"\s*:/.test(t)),
  parse(path, text, add) {
    const lock = parseJsonObject(path, text);
    const lines = new TextLines(text);
    for (const [field, groups] of [["packages", []], ["packages-dev", ["dev"]]] as const) {
      for (const raw of list(lock[field])) {
        const name = isDict(raw) ? str(raw.name) : undefined;
        const version = isDict(raw) ? str(raw.version) : undefined;
        if (!name || version === undefined) {
          throw malformed(path, 0, `An entry of "${field}" lacks a name or version`);
        }
        const line = lines.next(`"name": ${JSON.stringify(name)}`);
        const commit = str(dict(dict(raw).source).reference) ?? "";
        add({ name, version, line, groups: [...groups], commit });
      }
    }
  },
});
