/**
 * npm's lockfiles: `package-lock.json` (v1, v2, v3), `npm-shrinkwrap.json` (same format) and
 * `node_modules/.package-lock.json` (the hidden lockfile npm 7+ writes, v2/v3 shape).
 */
import { baseName, type LockEntry, lockfile, pathEndsWith } from "./extractor.ts";
import { gitCommitOf } from "./git_commit.ts";
import { TextLines } from "./lines.ts";
import { parseJsonObject } from "./parse_text.ts";
import { type Dict, dict, flag, isDict, str } from "./values.ts";

/** `dev`/`optional` flags as groups; `devOptional` (dev or optional) is both. */
function groupsOf(entry: Dict): string[] {
  const dev = flag(entry.dev) || flag(entry.devOptional);
  const optional = flag(entry.optional) || flag(entry.devOptional);
  return [...(dev ? ["dev"] : []), ...(optional ? ["optional"] : [])];
}

/** `name` of a v2 `packages` key: what follows its last `node_modules/` (or its last path part). */
function nameFromPath(path: string): string {
  const parts = path.split("/");
  const last = parts[parts.length - 1];
  const scope = parts[parts.length - 2];
  return scope !== undefined && scope.startsWith("@") ? `${scope}/${last}` : last;
}

type Add = (entry: LockEntry) => void;

/** v2/v3: the flat `packages` map keyed by install path. */
function fromPackages(packages: Dict, lines: TextLines, add: Add): void {
  for (const [path, raw] of Object.entries(packages)) {
    // "" is the project itself.
    if (path === "" || !isDict(raw)) continue;
    const line = lines.next(`${JSON.stringify(path)}: {`);
    // A workspace link repeats the package its target path lists.
    if (flag(raw.link)) continue;
    const name = str(raw.name) || nameFromPath(path);
    const commit = gitCommitOf(str(raw.resolved) ?? "");
    add({ name, version: str(raw.version) ?? "", line, groups: groupsOf(raw), commit });
  }
}

/**
 * v1: the nested `dependencies` tree. `version` holds the resolution: a registry version, an
 * `npm:real-name@version` alias, a `file:` path (no version can be known), or a git URL (the
 * commit is what is pinned; the version is unknown).
 */
function fromDependencies(deps: Dict, lines: TextLines, add: Add, depth: number): void {
  // npm nests no deeper than the tree it installs; this bounds hostile input.
  if (depth > 256) return;
  for (const [key, raw] of Object.entries(deps)) {
    if (!isDict(raw)) continue;
    const line = lines.next(`${JSON.stringify(key)}: {`);
    const spec = str(raw.version) ?? "";
    let name = key;
    let version = spec;
    let commit = "";
    if (spec.startsWith("npm:")) {
      const at = spec.lastIndexOf("@");
      if (at > 4) {
        name = spec.slice(4, at);
        version = spec.slice(at + 1);
      }
    }
    if (spec.startsWith("file:")) {
      version = "";
    } else {
      commit = gitCommitOf(spec);
      if (commit) version = "";
    }
    add({ name, version, line, groups: groupsOf(raw), commit });
    if (isDict(raw.dependencies)) fromDependencies(raw.dependencies, lines, add, depth + 1);
  }
}

/**
 * npm lockfiles. v2/v3 are read from `packages` (v2 also keeps the v1 tree for old npm; the
 * flat map is the one npm 7+ installs from), v1 from `dependencies`.
 *
 * @example
 * ```ts
 * import { npmLock } from "./npm_lock.ts";
 * const text = JSON.stringify({
 *   lockfileVersion: 3,
 *   packages: { "": {}, "node_modules/wrappy": { version: "1.0.2", dev: true } },
 * }, null, 2);
 * const [c] = npmLock.extract("package-lock.json", text);
 * console.assert(c.name === "wrappy" && c.groups[0] === "dev" && c.origin.line === 5);
 * ```
 */
export const npmLock = lockfile({
  name: "npm/package-lock",
  ecosystem: "npm",
  fileRequired(path: string): boolean {
    const base = baseName(path);
    return base === "package-lock.json" || base === "npm-shrinkwrap.json" ||
      pathEndsWith(path, "node_modules/.package-lock.json");
  },
  sniff: (t) =>
    /"lockfileVersion"\s*:/.test(t) && /"(dependencies|packages)"\s*:/.test(t) &&
    !/"content-hash"/.test(t),
  parse(path, text, add) {
    const lock = parseJsonObject(path, text);
    const lines = new TextLines(text);
    if (isDict(lock.packages)) fromPackages(lock.packages, lines, add);
    else fromDependencies(dict(lock.dependencies), lines, add, 0);
  },
});
