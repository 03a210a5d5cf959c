import type { Ecosystem } from "../component.ts";
import { compareDebian } from "./debian.ts";
import { UnknownEcosystemError } from "./errors.ts";
import { comparePackagist } from "./packagist.ts";
import { comparePep440 } from "./pep440.ts";
import { compareRubyGems } from "./rubygems.ts";
import { compareSemver } from "./semver.ts";

/** The version orderings Ironpost knows, one file each in this folder. */
export type VersionScheme = "semver" | "pep440" | "debian" | "rubygems" | "packagist";

const SCHEMES: Readonly<Record<string, VersionScheme>> = {
  npm: "semver",
  "crates.io": "semver",
  Go: "semver",
  Hex: "semver",
  PyPI: "pep440",
  Debian: "debian",
  // Ubuntu packages are dpkg packages too; OSV orders them the same way.
  Ubuntu: "debian",
  RubyGems: "rubygems",
  Packagist: "packagist",
};

const COMPARE: Readonly<Record<VersionScheme, (a: string, b: string) => number>> = {
  semver: compareSemver,
  pep440: comparePep440,
  debian: compareDebian,
  rubygems: compareRubyGems,
  packagist: comparePackagist,
};

/**
 * The ecosystem without OSV's release suffix (`Debian:12` -> `Debian`).
 *
 * @example
 * ```ts
 * import { baseEcosystem } from "./compare.ts";
 * console.assert(baseEcosystem("Debian:12") === "Debian");
 * ```
 */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(":");
  return colon < 0 ? ecosystem : ecosystem.slice(0, colon);
}

/**
 * The ordering an ecosystem's versions follow.
 *
 * @throws {UnknownEcosystemError} for an ecosystem with no ordering here.
 * @example
 * ```ts
 * import { versionScheme } from "./compare.ts";
 * console.assert(versionScheme("crates.io") === "semver");
 * console.assert(versionScheme("Debian:12") === "debian");
 * ```
 */
export function versionScheme(ecosystem: Ecosystem | string): VersionScheme {
  const scheme = SCHEMES[baseEcosystem(ecosystem)];
  if (scheme === undefined) throw new UnknownEcosystemError(ecosystem);
  return scheme;
}

/**
 * Orders two versions of one ecosystem by that ecosystem's own rules: negative when `a`
 * comes first, zero when they are equal in that ordering, positive otherwise (always -1, 0
 * or 1). OSV's release suffixes are accepted (`Debian:12` orders as Debian).
 *
 * @throws {UnknownEcosystemError} for an ecosystem with no ordering here.
 * @throws {InvalidVersionError} for the few versions no ordering can place (a Debian epoch
 * that is not a number).
 * @example
 * ```ts
 * import { compareVersions } from "./compare.ts";
 * console.assert(compareVersions("npm", "1.10.0", "1.9.0") > 0);
 * console.assert(compareVersions("PyPI", "1.0rc1", "1.0") < 0);
 * console.assert(compareVersions("Debian:12", "1.0~rc1-1", "1.0-1") < 0);
 * ```
 */
export function compareVersions(ecosystem: Ecosystem | string, a: string, b: string): number {
  return Math.sign(COMPARE[versionScheme(ecosystem)](a, b));
}

/**
 * The comparator for one ecosystem, resolved once (for sorting or matching many versions).
 *
 * @throws {UnknownEcosystemError} for an ecosystem with no ordering here.
 * @example
 * ```ts
 * import { versionComparator } from "./compare.ts";
 * const sorted = ["1.10", "1.9", "1.9.1"].sort(versionComparator("RubyGems"));
 * console.assert(sorted.join(" ") === "1.9 1.9.1 1.10");
 * ```
 */
export function versionComparator(ecosystem: Ecosystem | string): (a: string, b: string) => number {
  const compare = COMPARE[versionScheme(ecosystem)];
  return (a, b) => Math.sign(compare(a, b));
}

/** The comparator for a scheme by name (`SEMVER` ranges use `"semver"` in any ecosystem). */
export function schemeComparator(scheme: VersionScheme): (a: string, b: string) => number {
  const compare = COMPARE[scheme];
  return (a, b) => Math.sign(compare(a, b));
}
