/** `uv.lock`: uv's lockfile (TOML, one `[[package]]` per distribution and version). */
import { lockfile } from "./extractor.ts";
import { poetryLock } from "./poetry_lock.ts";
import { type TomlPackage, tomlPackages } from "./parse_text.ts";
import { dict, list, str } from "./values.ts";

/** A package; `version` is absent for a virtual workspace root (in the graph, not reported). */
type Entry = TomlPackage;

/** The dependency references (`{ name, version? }`) of a list of them. */
function refs(v: unknown): { name: string; version?: string }[] {
  const out: { name: string; version?: string }[] = [];
  for (const r of list(v)) {
    const name = str(dict(r).name);
    if (name) out.push({ name, version: str(dict(r).version) });
  }
  return out;
}

/**
 * Scope from the graph: the workspace's own packages (source `editable` or `virtual`) are the
 * roots; what their `dependencies` reach is production, what only their `dev-dependencies`
 * (dependency groups) reach is `dev`, what only their `optional-dependencies` (extras) reach
 * is `optional`. uv records no per-package scope, so this is the only way to know it.
 */
function scopes(entries: Entry[]): Map<Entry, string[]> {
  // Entries by name and by name and version, and each reference followed once per walk: the
  // copy per entry, the filter per reference and the push of every match per reference were
  // quadratic (a root naming one package 10,000 times, with 10,000 entries of that name:
  // 2.9 s), and `push(...matches)` overflows the stack past ~100k matches.
  const byName = new Map<string, Entry[]>();
  const byVersion = new Map<string, Entry[]>();
  const add = (map: Map<string, Entry[]>, key: string, e: Entry) => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [e]);
    else list.push(e);
  };
  for (const e of entries) {
    add(byName, e.name, e);
    if (e.version !== undefined) add(byVersion, JSON.stringify([e.name, e.version]), e);
  }
  type Ref = { name: string; version?: string };
  const resolve = (r: Ref): Entry[] =>
    (r.version === undefined
      ? byName.get(r.name)
      : byVersion.get(JSON.stringify([r.name, r.version]))) ?? [];
  const reach = (roots: Entry[], rootRefs: Ref[] = []): Set<Entry> => {
    const seen = new Set<Entry>();
    const followed = new Set<string>();
    const stack = [...roots];
    const follow = (r: Ref): void => {
      const key = JSON.stringify([r.name, r.version ?? null]);
      if (followed.has(key)) return;
      followed.add(key);
      for (const e of resolve(r)) if (!seen.has(e)) stack.push(e);
    };
    rootRefs.forEach(follow);
    while (stack.length > 0) {
      const e = stack.pop() as Entry;
      if (seen.has(e)) continue;
      seen.add(e);
      for (const r of refs(e.raw.dependencies)) follow(r);
    }
    return seen;
  };
  const roots = entries.filter((e) => {
    const source = dict(e.raw.source);
    return "editable" in source || "virtual" in source;
  });
  const named = (field: string): Ref[] =>
    roots.flatMap((root) => Object.values(dict(root.raw[field])).flatMap(refs));
  const prod = reach(roots);
  const dev = reach([], named("dev-dependencies"));
  const optional = reach([], named("optional-dependencies"));
  const out = new Map<Entry, string[]>();
  for (const e of entries) {
    const groups = prod.has(e)
      ? []
      : [...(dev.has(e) ? ["dev"] : []), ...(optional.has(e) ? ["optional"] : [])];
    out.set(e, groups);
  }
  return out;
}

/**
 * uv lockfiles. Packages without a version (a virtual workspace root) are skipped; a git
 * source (`https://host/repo?rev=x#<commit>`) gives the commit.
 *
 * @example
 * ```ts
 * import { uvLock } from "./uv_lock.ts";
 * const text = 'version = 1\n\n[[package]]\nname = "anyio"\nversion = "4.6.2"\n' +
 *   'source = { registry = "https://pypi.org/simple" }\n';
 * const [c] = uvLock.extract("uv.lock", text);
 * console.assert(c.name === "anyio" && c.version === "4.6.2" && c.origin.line === 4);
 * ```
 */
export const uvLock = lockfile({
  name: "pypi/uv-lock",
  ecosystem: "PyPI",
  files: ["uv.lock"],
  sniff: (t) =>
    /^\[\[package\]\]/m.test(t) && /^requires-python\s*=/m.test(t) &&
    /^version\s*=\s*\d/m.test(t) && !poetryLock.sniff!(t),
  parse(path, text, add) {
    const entries = tomlPackages(path, text, true);
    const groups = scopes(entries);
    for (const e of entries) {
      if (e.version === undefined) continue;
      const git = str(dict(e.raw.source).git) ?? "";
      const hash = git.lastIndexOf("#");
      const commit = hash >= 0 ? git.slice(hash + 1) : "";
      add({
        name: e.name,
        version: e.version,
        line: e.line,
        groups: [...(groups.get(e) ?? [])],
        commit,
      });
    }
  },
});
