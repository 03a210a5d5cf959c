/**
 * `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x. The `packages` keys changed shape
 * across them: `/name/1.0.0_peer@2` (5), `/name@1.0.0(peer@2)` (6), `name@1.0.0` (9, with
 * the install graph moved to `importers` and `snapshots`).
 */
import { malformed } from "./errors.ts";
import { lockfile } from "./extractor.ts";
import { gitCommitOf } from "./git_commit.ts";
import { parseYamlMapping } from "./parse_text.ts";
import { type Dict, dict, flag, str } from "./values.ts";

/** `name@version` with the version ending at `(` (v6 peer suffix) or the end. */
function splitNameAtVersion(s: string): { name: string; version: string } {
  const at = s.indexOf("@", 1);
  if (at < 0) return { name: s, version: "" };
  const rest = s.slice(at + 1);
  const paren = rest.indexOf("(");
  return { name: s.slice(0, at), version: paren < 0 ? rest : rest.slice(0, paren) };
}

/**
 * Name and version from a v5/v6 dependency path. The first segment is dropped (empty for
 * `/name/…`, a registry host for `registry.npmjs.org/name/…`); what is not a version (a git
 * path such as `github.com/owner/repo`) yields none, and the entry's own `name`/`version`
 * fields must then say.
 */
function fromDepPath(file: string, line: number, key: string): { name: string; version: string } {
  const parts = key.split("/");
  if (parts.length === 1) {
    throw malformed(file, line, `Invalid dependency path "${key}" for this lockfile version`);
  }
  let rest = parts.slice(1);
  let name: string;
  if ((rest[0] ?? "").startsWith("@")) {
    name = rest.slice(0, 2).join("/");
    rest = rest.slice(2);
  } else {
    name = rest[0] ?? "";
    rest = rest.slice(1);
  }
  let version = rest[0] ?? "";
  if (version === "") ({ name, version } = splitNameAtVersion(name));
  if (!/^\d/.test(version)) return { name: "", version: "" };
  // v5 appends peers after "_": 1.3.0_bar@2.0.0
  const underscore = version.indexOf("_");
  if (underscore >= 0) version = version.slice(0, underscore);
  return { name, version };
}

/** The key of a v9 `snapshots` entry an importer or snapshot dependency points at. */
function snapshotKey(name: string, version: string): string {
  if (version.startsWith("link:")) return ""; // a workspace package, not in snapshots
  if (/^\d/.test(version)) return `${name}@${version}`; // peers may follow: 1.0.0(x@2)
  // An alias points at the real package's key: "string-width@4.2.3", "@scope/x@1.0.0".
  if (/^(?:@[^/@]+\/)?[^@/:]+@\d/.test(version)) return version;
  return `${name}@${version}`; // a URL, for git and tarball dependencies
}

/** v9 scope: which packages production, dev and optional roots reach through `snapshots`. */
function v9Groups(lock: Dict): Map<string, string[]> {
  const snapshots = dict(lock.snapshots);
  const reach = (roots: string[]): Set<string> => {
    const seen = new Set<string>();
    const stack = [...roots];
    while (stack.length > 0) {
      const key = stack.pop() as string;
      if (key === "" || seen.has(key)) continue;
      seen.add(key);
      const snap = dict(snapshots[key]);
      for (const field of ["dependencies", "optionalDependencies"]) {
        for (const [n, v] of Object.entries(dict(snap[field]))) {
          const version = str(v);
          if (version !== undefined) stack.push(snapshotKey(n, version));
        }
      }
    }
    return seen;
  };
  const roots = (field: string): string[] => {
    const out: string[] = [];
    for (const importer of Object.values(dict(lock.importers))) {
      for (const [n, dep] of Object.entries(dict(dict(importer)[field]))) {
        const version = str(dict(dep).version) ?? str(dep);
        if (version !== undefined) out.push(snapshotKey(n, version));
      }
    }
    return out;
  };
  const prod = reach([...roots("dependencies"), ...roots("optionalDependencies")]);
  const dev = reach(roots("devDependencies"));
  // Group per package (snapshot key without its peer suffix): dev when only dev roots reach
  // it, optional when every snapshot of it is optional.
  const byPackage = new Map<string, { prod: boolean; dev: boolean; optional: boolean }>();
  for (const [key, snap] of Object.entries(snapshots)) {
    const paren = key.indexOf("(", 1);
    const pkg = paren < 0 ? key : key.slice(0, paren);
    const seen = byPackage.get(pkg) ?? { prod: false, dev: false, optional: true };
    seen.prod ||= prod.has(key);
    seen.dev ||= dev.has(key);
    seen.optional &&= flag(dict(snap).optional);
    byPackage.set(pkg, seen);
  }
  const groups = new Map<string, string[]>();
  for (const [pkg, s] of byPackage) {
    groups.set(pkg, [...(s.dev && !s.prod ? ["dev"] : []), ...(s.optional ? ["optional"] : [])]);
  }
  return groups;
}

/**
 * pnpm lockfiles. Entries whose name or version cannot be known are skipped (a `file:` entry
 * without a `name`, a git path without a `version`); a v5/v6 key that is not a path at all is
 * `E_MALFORMED`, as the format does not allow it. Scope comes from `dev`/`optional` flags
 * (v5, v6) or from what the importers' dependency lists reach (v9).
 */
export const pnpmLock = lockfile({
  name: "npm/pnpm-lock",
  ecosystem: "npm",
  files: ["pnpm-lock.yaml"],
  sniff: (t) => /^lockfileVersion:/m.test(t),
  parse(path, text, add) {
    const doc = parseYamlMapping(path, text);
    const lock = doc.data;
    const lockVersion = Number.parseFloat(str(lock.lockfileVersion) ?? "");
    const v9 = lockVersion >= 9;
    const groups9 = v9 ? v9Groups(lock) : new Map<string, string[]>();
    const lines = doc.keyLines(["packages"]);
    for (const [key, raw] of Object.entries(dict(lock.packages))) {
      const entry = dict(raw);
      const line = lines.get(key);
      let { name, version } = key.startsWith("file:")
        ? { name: "", version: "" }
        : v9
        ? splitNameAtVersion(key)
        : fromDepPath(path, line ?? 0, key);
      name = str(entry.name) || name;
      version = str(entry.version) || version;
      if (name === "" || version === "") continue;
      const resolution = dict(entry.resolution);
      const commit = str(resolution.commit) || gitCommitOf(str(resolution.tarball) ?? "");
      const groups = v9
        ? groups9.get(key) ?? []
        : [...(flag(entry.dev) ? ["dev"] : []), ...(flag(entry.optional) ? ["optional"] : [])];
      add({ name, version, line, groups, commit });
    }
  },
});
