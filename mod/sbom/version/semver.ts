/**
 * SemVer 2.0.0 precedence (section 11), read as leniently as OSV reads it: for npm,
 * crates.io, Go and Hex, and for every `SEMVER` range whatever its ecosystem.
 *
 * Why not `npm:semver`: it rejects what OSV data and lockfiles hold and OSV orders, namely
 * missing minor/patch (`"1"`, `"0"` in `introduced`), components past 2^53 and more than
 * three components; its `coerce` drops pre-releases instead. Written here to the SemVer
 * spec, with these readings taken from OSV's ordering vectors (osv-scalibr `semantic`):
 * - a leading `v`/`V` is ignored (Go's `v1.2.3` equals `1.2.3`);
 * - missing minor/patch are zero (`1` equals `1.0.0`);
 * - numeric components are compared as numbers of any length;
 * - a pre-release need not start with `-` (`1.0.0rc1` has pre-release `rc1`);
 * - build metadata after `+` is ignored, so Go's `+incompatible` changes nothing;
 * - Go pseudo-versions (`1.2.4-0.20191109021931-daa7c04131f5`) order as the pre-releases
 *   they are, which puts them between the releases Go puts them between.
 *
 * One reading differs from the vectors' own comment, which calls components after the third
 * "part of the build string": those are compared as further numeric components (`1.2.3.4` <
 * `1.2.3.5`), because ignoring them would call two different versions equal, and in a
 * vulnerability matcher that equality is a missed finding. No vector depends on it.
 * `npm:semver` is still used by the tests as an oracle on strict SemVer input.
 */
import { compareDigits, compareStrings, isDigits } from "./digits.ts";

/** A version read the lenient way: numeric components, then pre-release identifiers. */
export interface SemverParts {
  /** Numeric components as digit strings; missing ones are zero. */
  components: string[];
  /** Pre-release identifiers; empty for a release. */
  prerelease: string[];
  /** Build metadata after `+`, kept for display; never compared. */
  build: string;
}

/**
 * Reads any string as a SemVer-like version; it never fails (an empty or non-numeric
 * string is `0.0.0` with the text as its pre-release).
 *
 * @example
 * ```ts
 * import { parseSemver } from "./semver.ts";
 * const v = parseSemver("v1.2.0-rc.1+incompatible");
 * console.assert(v.components.join(".") === "1.2.0" && v.prerelease.join(".") === "rc.1");
 * ```
 */
export function parseSemver(version: string): SemverParts {
  let s = version.trim();
  if (s.startsWith("v") || s.startsWith("V")) s = s.slice(1);

  const components: string[] = [];
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) break;
    components.push(s.slice(start, i));
    // A dot continues the numeric part only when a digit follows it.
    if (s[i] === "." && i + 1 < s.length && isDigits(s[i + 1])) i++;
    else break;
  }

  let rest = s.slice(i);
  let build = "";
  const plus = rest.indexOf("+");
  if (plus >= 0) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
  }
  // `1.2.3-beta`, `1.2.3.beta` and `1.2.3beta` all carry the pre-release `beta`.
  if (rest.startsWith("-") || rest.startsWith(".")) rest = rest.slice(1);
  return { components, prerelease: rest === "" ? [] : rest.split("."), build };
}

/**
 * Orders two versions by SemVer precedence, leniently (see the module notes). Negative when
 * `a` sorts first, zero when they have equal precedence, positive otherwise.
 *
 * @example
 * ```ts
 * import { compareSemver } from "./semver.ts";
 * console.assert(compareSemver("1.0.0-alpha", "1.0.0") < 0);
 * console.assert(compareSemver("v1.2.3", "1.2.3+build") === 0);
 * console.assert(compareSemver("1.2.3-a.10", "1.2.3-a.5") > 0);
 * ```
 */
export function compareSemver(a: string, b: string): number {
  return compareSemverParts(parseSemver(a), parseSemver(b));
}

/** `compareSemver` on already parsed versions, for callers that compare one against many. */
export function compareSemverParts(a: SemverParts, b: SemverParts): number {
  const n = Math.max(a.components.length, b.components.length);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(a.components[i] ?? "", b.components[i] ?? "");
    if (c !== 0) return c;
  }
  // A release sorts after every pre-release of it (spec item 11.3).
  const ap = a.prerelease.length > 0;
  const bp = b.prerelease.length > 0;
  if (!ap || !bp) return ap === bp ? 0 : ap ? -1 : 1;
  return compareIdentifiers(a.prerelease, b.prerelease);
}

/** Spec item 11.4: identifier by identifier, numeric ones below alphanumeric ones. */
function compareIdentifiers(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    const xn = isDigits(x);
    const yn = isDigits(y);
    let c: number;
    if (xn && yn) c = compareDigits(x, y);
    else if (xn) c = -1;
    else if (yn) c = 1;
    else c = compareStrings(x, y);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
