/**
 * The components of one report, merged by identity. A package can be found more than once
 * (two lockfiles, a lockfile and `node_modules`): CycloneDX wants one component per bom-ref,
 * so every occurrence is folded into one entry that keeps all origins and groups.
 *
 * Identity is the `componentKey`; a component found inside a container that is not the
 * report's subject gets `#container:<short id>` appended, since the same package in two
 * containers is two installations.
 */
import { type Component, componentKey, type Origin } from "../component.ts";
import type { Finding } from "../finding.ts";
import { toPurl } from "./purl.ts";
import { compareText } from "./severity_order.ts";
import type { ScanSubject } from "./subject.ts";

/** CycloneDX component scopes (`required` is the default and is not written). */
export type ComponentScopeName = "required" | "optional" | "excluded";

/** One package after merging every occurrence of it. */
export interface MergedComponent {
  bomRef: string;
  ecosystem: string;
  name: string;
  version: string;
  purl?: string;
  origins: Origin[];
  groups: string[];
  scope: ComponentScopeName;
  commits: string[];
  notes: string[];
  /** Debian binary packages built from this source package, as `name` or `name=version`. */
  binaries: string[];
  container?: { id: string; name: string; image: string };
  /** Resolved bom-refs; `undefined` when no occurrence said what it depends on. */
  dependsOn?: string[];
}

// Group names (or their words: `requirements-dev.txt`, `devDependencies`) that mark
// development-only dependencies across npm, Poetry, Pipenv, Composer and Bundler.
const DEV_WORDS = new Set(["dev", "develop", "development", "test", "tests", "testing"]);

function words(group: string): string[] {
  return group.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/);
}

/**
 * CycloneDX scope of one occurrence from its groups: development and test groups are
 * `excluded` (present for non-runtime purposes, not reachable at run time); `optional`
 * groups are `optional`; everything else is `required`.
 */
export function scopeOfGroups(groups: readonly string[]): ComponentScopeName {
  if (groups.some((g) => words(g).some((w) => DEV_WORDS.has(w)))) return "excluded";
  if (groups.some((g) => words(g).includes("optional"))) return "optional";
  return "required";
}

const SCOPE_STRENGTH: Record<ComponentScopeName, number> = {
  required: 2,
  optional: 1,
  excluded: 0,
};

function containerSuffix(c: Component, subject?: ScanSubject): string {
  if (c.container === undefined) return "";
  if (subject?.type === "container") {
    const same = subject.id !== undefined
      ? subject.id === c.container.id
      : subject.name === c.container.name;
    if (same) return "";
  }
  return `#container:${c.container.id.slice(0, 12)}`;
}

/** The bom-ref of a component in a report about `subject`: its `componentKey`, see above. */
export function bomRefOf(c: Component, subject?: ScanSubject): string {
  return componentKey(c) + containerSuffix(c, subject);
}

/** `file:line`, or `file` when the origin has no line. */
export function originText(o: Origin): string {
  return o.line !== undefined ? `${o.file}:${o.line}` : o.file;
}

function compareOrigins(a: Origin, b: Origin): number {
  return compareText(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0);
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareText);
}

/** The order components are folded in, so the merged result never depends on input order. */
function compareComponents(a: Component, b: Component): number {
  return compareText(componentKey(a), componentKey(b)) ||
    compareOrigins(a.origin, b.origin) ||
    compareText(a.groups.join("\0"), b.groups.join("\0")) ||
    compareText((a.dependsOn ?? []).join("\0"), (b.dependsOn ?? []).join("\0"));
}

/** Merged components and a lookup by bom-ref. */
export interface ComponentSet {
  list: MergedComponent[];
  byRef: Map<string, MergedComponent>;
}

/**
 * Merge `components` and the components of `findings` (a finding's component is added when
 * the inventory lacks it, so every `affects` reference resolves), then resolve `dependsOn`.
 *
 * `dependsOn` entries are `name@version` within the same ecosystem (and container), or full
 * component keys; a bare name is accepted when it names exactly one component there (the one
 * from the same file wins a tie). Entries that name nothing in the set are dropped.
 */
export function mergeComponents(
  components: readonly Component[],
  findings: readonly Finding[],
  subject?: ScanSubject,
): ComponentSet {
  const all = [...components, ...findings.map((f) => f.component)].sort(compareComponents);
  const byRef = new Map<string, MergedComponent>();
  const rawDeps = new Map<string, { entries: string[]; from: Component }[]>();
  const strength = new Map<string, number>();
  for (const c of all) {
    const ref = bomRefOf(c, subject);
    let m = byRef.get(ref);
    if (m === undefined) {
      m = {
        bomRef: ref,
        ecosystem: c.ecosystem,
        name: c.name,
        version: c.version,
        purl: toPurl(c),
        origins: [],
        groups: [],
        scope: "excluded",
        commits: [],
        notes: [],
        binaries: [],
        container: c.container,
      };
      byRef.set(ref, m);
      strength.set(ref, -1);
    }
    if (!m.origins.some((o) => compareOrigins(o, c.origin) === 0)) m.origins.push(c.origin);
    m.groups = sortedUnique([...m.groups, ...c.groups]);
    // The most needed occurrence decides: required anywhere means required.
    const scope = scopeOfGroups(c.groups);
    if (SCOPE_STRENGTH[scope] > (strength.get(ref) ?? -1)) {
      strength.set(ref, SCOPE_STRENGTH[scope]);
      m.scope = scope;
    }
    if (c.commit) m.commits = sortedUnique([...m.commits, c.commit]);
    if (c.note) m.notes = sortedUnique([...m.notes, c.note]);
    if (c.binaryName) {
      const b = c.binaryVersion ? `${c.binaryName}=${c.binaryVersion}` : c.binaryName;
      m.binaries = sortedUnique([...m.binaries, b]);
    }
    if (c.dependsOn !== undefined) {
      const list = rawDeps.get(ref) ?? [];
      list.push({ entries: c.dependsOn, from: c });
      rawDeps.set(ref, list);
    }
  }
  for (const m of byRef.values()) m.origins.sort(compareOrigins);

  const resolver = new DependencyResolver(byRef, subject);
  for (const [ref, lists] of rawDeps) {
    const m = byRef.get(ref)!;
    const deps = new Set<string>();
    for (const { entries, from } of lists) {
      for (const e of entries) {
        const target = resolver.resolve(e, from);
        if (target !== undefined && target !== ref) deps.add(target);
      }
    }
    m.dependsOn = sortedUnique(deps);
  }
  const list = [...byRef.values()].sort((a, b) => compareText(a.bomRef, b.bomRef));
  return { list, byRef };
}

class DependencyResolver {
  readonly #byRef: Map<string, MergedComponent>;
  readonly #subject?: ScanSubject;
  /** `ecosystem|container suffix|name` → candidates, for bare-name entries. */
  readonly #byName = new Map<string, MergedComponent[]>();

  constructor(byRef: Map<string, MergedComponent>, subject?: ScanSubject) {
    this.#byRef = byRef;
    this.#subject = subject;
    for (const m of byRef.values()) {
      const k = `${m.ecosystem}|${suffixOfRef(m.bomRef)}|${m.name}`;
      const list = this.#byName.get(k) ?? [];
      list.push(m);
      this.#byName.set(k, list);
    }
  }

  resolve(entry: string, from: Component): string | undefined {
    if (this.#byRef.has(entry)) return entry;
    const suffix = containerSuffix(from, this.#subject);
    const keyed = `${from.ecosystem}:${entry}${suffix}`;
    if (this.#byRef.has(keyed)) return keyed;
    // A scoped npm name starts with `@`, so a version separator is an `@` after the first char.
    if (entry.lastIndexOf("@") > 0) return undefined;
    const candidates = this.#byName.get(`${from.ecosystem}|${suffix}|${entry}`) ?? [];
    if (candidates.length === 1) return candidates[0].bomRef;
    const sameFile = candidates.filter((m) => m.origins.some((o) => o.file === from.origin.file));
    return sameFile.length === 1 ? sameFile[0].bomRef : undefined;
  }
}

function suffixOfRef(ref: string): string {
  const i = ref.indexOf("#container:");
  return i < 0 ? "" : ref.slice(i);
}
