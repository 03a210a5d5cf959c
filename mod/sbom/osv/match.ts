/**
 * Whether an OSV record affects a component, by the schema's evaluation algorithm
 * (https://ossf.github.io/osv-schema/#evaluation) with each ecosystem's own version order,
 * and the merging of findings that are one vulnerability under several ids.
 *
 * What decides a match:
 * - a withdrawn record matches nothing;
 * - the package: the record's ecosystem without its release (`Debian:12` is `Debian`;
 *   `debianRelease` narrows that) and the name as the ecosystem compares names (PyPI per
 *   PEP 503, Packagist case-insensitively, Debian by source package, the rest exactly);
 * - the version: listed in `versions`, or inside a `SEMVER` range (SemVer order whatever
 *   the ecosystem) or an `ECOSYSTEM` range (the ecosystem's order): events sorted by version
 *   with `introduced: "0"` first, `introduced` opens, `fixed` closes at the version,
 *   `last_affected` after it, and a range with `limit` events applies only below one of
 *   them (`*` being no limit);
 * - one refinement of that: when a range's events, in the record's order, are pairs of an
 *   `introduced` and at most one closing event at or above it, the range is the union of
 *   those intervals. For sorted, non-overlapping events (what the schema recommends) that is
 *   exactly the pseudocode; for real records that overlap or list a fix and an introduction
 *   at one version (PYSEC-2023-72 lists [3.2.0, 3.2.2) after [0, 3.1.1) and [3.1.1, 3.2.0)),
 *   sorting loses the author's intervals and the pseudocode's answer depends on how ties
 *   sort, so the pairs are kept instead. Events that are not such pairs are sorted (ties
 *   keep the record's order, so `introduced: X, fixed: X` stays empty);
 * - `GIT` ranges need the repository's commit graph, which the scanner does not have, so
 *   they match only a component that pins a commit and then only that commit exactly: an
 *   `introduced` or `last_affected` commit of the range, or one listed in `versions`.
 * A version no ordering can place (a Debian epoch that is not a number) makes its range
 * match nothing rather than fail the scan.
 */
import { type Component, componentKey } from "../component.ts";
import type { Finding } from "../finding.ts";
import { compareSeverity } from "../severity/rating.ts";
import {
  baseEcosystem,
  InvalidVersionError,
  schemeComparator,
  versionComparator,
} from "../version/mod.ts";
import {
  eventKind,
  eventVersion,
  type OsvAffected,
  type OsvEvent,
  type OsvPackage,
  type OsvRange,
  type OsvRecord,
} from "./record.ts";

/** Narrows matching where the component alone cannot. */
export interface MatchOptions {
  /**
   * The Debian release the components were installed from (`"12"`); records scoped to
   * another release (`Debian:11`) are skipped. Unset, every Debian record applies.
   */
  debianRelease?: string;
  /**
   * A component without a version (an unpinned requirement) matches nothing by default:
   * it would otherwise match every advisory its package ever had. Set this to match it
   * against every record naming its package instead (osv-scalibr's choice: a false
   * positive over a false negative), with reason `unversioned`.
   */
  matchUnversioned?: boolean;
}

/** How a record reached a component. */
export type MatchReason = "range" | "versions" | "commit" | "unversioned";

/** A record that affects a component. */
export interface OsvMatch {
  record: OsvRecord;
  /** The `affected` entries that name the component's package and include it. */
  affected: OsvAffected[];
  /** The first reason found, in the order versions list, ranges, commit, unversioned. */
  reason: MatchReason;
  /**
   * The least `fixed` version above the component's that the record's entries for this
   * package do not include again (by range or versions list): the version to upgrade to.
   * Absent when the record gives no such version (unfixed, or only `last_affected`).
   */
  fixedVersion?: string;
}

type Compare = (a: string, b: string) => number;

/**
 * The key under which a database can index records by package and look components up:
 * the ecosystem without its release and the name as that ecosystem compares names.
 *
 * @example
 * ```ts
 * import { packageKey } from "./match.ts";
 * console.assert(packageKey("PyPI", "Jw_Util") === packageKey("PyPI", "jw.util"));
 * console.assert(packageKey("Debian:12", "openssl") === "Debian:openssl");
 * ```
 */
export function packageKey(ecosystem: string, name: string): string {
  const eco = baseEcosystem(ecosystem);
  return `${eco}:${normalizePackageName(eco, name)}`;
}

/**
 * A package name as its ecosystem compares names: PyPI's PEP 503 form (lowercase, runs of
 * `-`, `_`, `.` as one `-`), Packagist lowercased (Composer names are case-insensitive),
 * every other ecosystem's name unchanged.
 *
 * @example
 * ```ts
 * import { normalizePackageName } from "./match.ts";
 * console.assert(normalizePackageName("PyPI", "Zope.Interface__x") === "zope-interface-x");
 * ```
 */
export function normalizePackageName(ecosystem: string, name: string): string {
  switch (baseEcosystem(ecosystem)) {
    case "PyPI":
      return name.replace(/[-_.]+/g, "-").toLowerCase();
    case "Packagist":
      return name.toLowerCase();
    default:
      return name;
  }
}

/** True when an `affected[].package` names the component's package. */
export function packageMatches(
  pkg: OsvPackage | undefined,
  component: Pick<Component, "ecosystem" | "name">,
  options: MatchOptions = {},
): boolean {
  if (pkg === undefined) return false;
  const eco = baseEcosystem(pkg.ecosystem);
  if (eco !== component.ecosystem) return false;
  if (eco === "Debian" && options.debianRelease !== undefined && pkg.ecosystem !== eco) {
    if (pkg.ecosystem.slice(eco.length + 1) !== options.debianRelease) return false;
  }
  return normalizePackageName(eco, pkg.name) === normalizePackageName(eco, component.name);
}

/**
 * Whether `record` affects `component`, and the version that fixes it.
 *
 * @returns the match, or `null` when the record does not affect the component.
 * @example
 * ```ts
 * import { matchRecord } from "./match.ts";
 * import { parseOsvRecord } from "./record.ts";
 * const record = parseOsvRecord(`{"id": "X-1", "modified": "2024-01-01T00:00:00Z",
 *   "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
 *   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]}`);
 * const component = { name: "left-pad", version: "1.1.0", ecosystem: "npm" as const,
 *   origin: { file: "package-lock.json" }, groups: [] };
 * console.assert(matchRecord(record, component)?.fixedVersion === "1.3.0");
 * console.assert(matchRecord(record, { ...component, version: "1.3.0" }) === null);
 * ```
 */
export function matchRecord(
  record: OsvRecord,
  component: Component,
  options: MatchOptions = {},
): OsvMatch | null {
  if (record.withdrawn !== undefined) return null;
  const entries = (record.affected ?? []).filter((a) =>
    packageMatches(a.package, component, options)
  );
  if (entries.length === 0) return null;

  const ecosystemOrder = versionComparator(component.ecosystem);
  const semverOrder = schemeComparator("semver");
  const orderOf = (range: OsvRange): Compare =>
    range.type === "SEMVER" ? semverOrder : ecosystemOrder;

  const hits: OsvAffected[] = [];
  let reason: MatchReason | undefined;
  for (const entry of entries) {
    const why = entryReason(entry, component, ecosystemOrder, orderOf) ??
      (component.version === "" && options.matchUnversioned ? "unversioned" : undefined);
    if (why === undefined) continue;
    hits.push(entry);
    reason ??= why;
  }
  if (reason === undefined) return null;

  const match: OsvMatch = { record, affected: hits, reason };
  const fixed = leastFix(entries, component.version, ecosystemOrder, orderOf);
  if (fixed !== undefined) match.fixedVersion = fixed;
  return match;
}

function entryReason(
  entry: OsvAffected,
  component: Component,
  ecosystemOrder: Compare,
  orderOf: (range: OsvRange) => Compare,
): MatchReason | undefined {
  const version = component.version;
  if (version !== "") {
    if (inVersions(entry.versions, version, ecosystemOrder)) return "versions";
    for (const range of entry.ranges ?? []) {
      if (range.type !== "GIT" && inRange(range, version, orderOf(range))) return "range";
    }
  }
  if (component.commit !== undefined && commitMatches(entry, component.commit)) return "commit";
  return undefined;
}

/** `v == version` of the schema, with the ecosystem's equality (`1.0` is PyPI's `1.0.0`). */
function inVersions(versions: string[] | undefined, version: string, order: Compare): boolean {
  if (versions === undefined) return false;
  if (versions.includes(version)) return true;
  return versions.some((listed) => tryCompare(order, version, listed) === 0);
}

/**
 * The schema's `IncludedInRanges` for one `SEMVER` or `ECOSYSTEM` range.
 *
 * @example
 * ```ts
 * import { inRange } from "./match.ts";
 * import { compareSemver } from "../version/mod.ts";
 * const range = { type: "SEMVER" as const, events: [{ introduced: "1.0.0" }, { last_affected: "1.4.2" }] };
 * console.assert(inRange(range, "1.4.2", compareSemver) && !inRange(range, "1.4.3", compareSemver));
 * ```
 */
export function inRange(range: OsvRange, version: string, order: Compare): boolean {
  try {
    return evaluateRange(range.events, version, order);
  } catch (e) {
    if (e instanceof InvalidVersionError) return false;
    throw e;
  }
}

function evaluateRange(events: OsvEvent[], version: string, order: Compare): boolean {
  const limits = events.filter((e) => e.limit !== undefined).map((e) => e.limit!);
  // Without limit events the range is unbounded (an implicit `limit: "*"`).
  if (limits.length > 0 && !limits.some((l) => l.includes("*") || order(version, l) < 0)) {
    return false;
  }
  const intervals = asIntervals(events, order);
  if (intervals !== null) return intervals.some((iv) => inInterval(iv, version, order));
  let vulnerable = false;
  for (const event of sortEvents(events, order)) {
    if (event.introduced !== undefined) {
      if (event.introduced === "0" || order(version, event.introduced) >= 0) vulnerable = true;
    } else if (event.fixed !== undefined) {
      if (order(version, event.fixed) >= 0) vulnerable = false;
    } else if (event.last_affected !== undefined) {
      if (order(version, event.last_affected) > 0) vulnerable = false;
    }
  }
  return vulnerable;
}

/** `[introduced, fixed)` or `[introduced, last_affected]`; no end is unbounded. */
interface Interval {
  introduced: string;
  end?: { version: string; inclusive: boolean };
}

/** The events as the record pairs them, or `null` when they are not such pairs. */
function asIntervals(events: OsvEvent[], order: Compare): Interval[] | null {
  const out: Interval[] = [];
  let open: Interval | undefined;
  for (const e of events) {
    if (e.limit !== undefined) continue;
    if (e.introduced !== undefined) {
      if (open !== undefined && open.end === undefined) return null;
      open = { introduced: e.introduced };
      out.push(open);
      continue;
    }
    if (open === undefined || open.end !== undefined) return null;
    const end = e.fixed !== undefined
      ? { version: e.fixed, inclusive: false }
      : { version: e.last_affected!, inclusive: true };
    if (open.introduced !== "0" && order(open.introduced, end.version) > 0) return null;
    open.end = end;
  }
  return out;
}

function inInterval(iv: Interval, version: string, order: Compare): boolean {
  if (iv.introduced !== "0" && order(version, iv.introduced) < 0) return false;
  if (iv.end === undefined) return true;
  const c = order(version, iv.end.version);
  return iv.end.inclusive ? c <= 0 : c < 0;
}

/** Events in version order, `introduced: "0"` before all; ties keep the record's order. */
function sortEvents(events: OsvEvent[], order: Compare): OsvEvent[] {
  const isZero = (e: OsvEvent) => e.introduced === "0";
  return events
    .filter((e) => e.limit === undefined)
    .map((event, index) => ({ event, index }))
    .sort((a, b) => {
      const za = isZero(a.event);
      const zb = isZero(b.event);
      const c = za || zb
        ? (za === zb ? 0 : za ? -1 : 1)
        : order(eventVersion(a.event), eventVersion(b.event));
      return c !== 0 ? c : a.index - b.index;
    })
    .map((x) => x.event);
}

/** Without the commit graph only the commits a GIT range names as affected can match. */
function commitMatches(entry: OsvAffected, commit: string): boolean {
  const c = commit.toLowerCase();
  // A lockfile may pin an abbreviated hash; seven hex digits is git's own shortest.
  const same = (listed: string) => {
    const l = listed.toLowerCase();
    return l === c || (c.length >= 7 && l.startsWith(c));
  };
  if (entry.versions?.some(same)) return true;
  return (entry.ranges ?? []).some((range) =>
    range.type === "GIT" &&
    range.events.some((e) => {
      const kind = eventKind(e);
      return (kind === "introduced" || kind === "last_affected") && eventVersion(e) !== "0" &&
        same(eventVersion(e));
    })
  );
}

/** The least `fixed` above `version` that the entries do not include again. */
function leastFix(
  entries: OsvAffected[],
  version: string,
  ecosystemOrder: Compare,
  orderOf: (range: OsvRange) => Compare,
): string | undefined {
  if (version === "") return undefined;
  const candidates = new Set<string>();
  for (const entry of entries) {
    for (const range of entry.ranges ?? []) {
      if (range.type === "GIT") continue;
      for (const e of range.events) {
        if (e.fixed !== undefined && tryCompare(orderOf(range), e.fixed, version) > 0) {
          candidates.add(e.fixed);
        }
      }
    }
  }
  const sorted = [...candidates].sort((a, b) => tryCompare(ecosystemOrder, a, b));
  const stillAffected = (v: string) =>
    entries.some((entry) =>
      inVersions(entry.versions, v, ecosystemOrder) ||
      (entry.ranges ?? []).some((r) => r.type !== "GIT" && inRange(r, v, orderOf(r)))
    );
  return sorted.find((v) => !stillAffected(v));
}

/** A comparison that places versions no ordering can read as unequal to everything. */
function tryCompare(order: Compare, a: string, b: string): number {
  try {
    return order(a, b);
  } catch (e) {
    if (e instanceof InvalidVersionError) return a === b ? 0 : a < b ? -1 : 1;
    throw e;
  }
}

/**
 * Merges findings that are one vulnerability of one component under several ids: two
 * findings merge when they share an id or alias (transitively, as OSV aliases are), and only
 * for the same component (same package, version, file and container). The merged finding
 * keeps the id, summary and score of its most severe member (by `SEVERITY_ORDER`; the first
 * of equals), lists
 * every other id and alias in `aliases` (sorted), and takes the greatest `fixedVersion` any
 * member gives, since the upgrade must fix them all. Order follows each group's first
 * member.
 *
 * @example
 * ```ts
 * import { mergeAliases } from "./match.ts";
 * import type { Finding } from "../finding.ts";
 * const component = { name: "x", version: "1.0.0", ecosystem: "Go" as const,
 *   origin: { file: "go.mod" }, groups: [] };
 * const a: Finding = { id: "GO-2024-1", aliases: ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc"],
 *   summary: "a", component, severity: "unknown", fixedVersion: "1.0.1" };
 * const b: Finding = { id: "GHSA-aaaa-bbbb-cccc", aliases: ["CVE-2024-1"], summary: "b",
 *   component, severity: "high", fixedVersion: "1.0.2" };
 * const [m] = mergeAliases([a, b]);
 * console.assert(m.id === "GHSA-aaaa-bbbb-cccc" && m.fixedVersion === "1.0.2");
 * console.assert(m.aliases.join(" ") === "CVE-2024-1 GO-2024-1");
 * ```
 */
export function mergeAliases(findings: readonly Finding[]): Finding[] {
  const parent = findings.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const owner = new Map<string, number>();
  findings.forEach((f, i) => {
    const where = componentIdentity(f.component);
    for (const id of [f.id, ...f.aliases]) {
      const key = `${where}\u0000${id}`;
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else parent[root(i)] = root(j);
    }
  });

  const groups = new Map<number, Finding[]>();
  findings.forEach((f, i) => {
    const r = root(i);
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [f]);
    else g.push(f);
  });
  // A Map keeps insertion order: each group sits where its first member was.
  return [...groups.values()].map(mergeGroup);
}

function componentIdentity(c: Component): string {
  return `${componentKey(c)}\u0000${c.origin.file}\u0000${c.container?.id ?? ""}`;
}

function mergeGroup(group: Finding[]): Finding {
  if (group.length === 1) return group[0];
  let kept = group[0];
  for (const f of group) if (compareSeverity(f.severity, kept.severity) < 0) kept = f;

  const ids = new Set<string>();
  for (const f of group) for (const id of [f.id, ...f.aliases]) ids.add(id);
  ids.delete(kept.id);

  const merged: Finding = { ...kept, aliases: [...ids].sort() };
  if (merged.summary === "") merged.summary = group.find((f) => f.summary !== "")?.summary ?? "";
  if (merged.url === undefined) {
    const url = group.find((f) => f.url !== undefined)?.url;
    if (url !== undefined) merged.url = url;
  }
  if (merged.score === undefined) {
    const scored = group.find((f) => f.score !== undefined);
    if (scored !== undefined) {
      merged.score = scored.score;
      if (scored.vector !== undefined) merged.vector = scored.vector;
    }
  }
  const fixes = group.map((f) => f.fixedVersion).filter((v): v is string => v !== undefined);
  if (fixes.length > 0) {
    const order = versionComparator(kept.component.ecosystem);
    merged.fixedVersion = fixes.reduce((a, b) => (tryCompare(order, b, a) > 0 ? b : a));
  }
  return merged;
}
