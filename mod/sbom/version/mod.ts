/**
 * Each ecosystem's own version ordering, as OSV matching needs it: SemVer (npm, crates.io,
 * Go, Hex), PEP 440 with legacy versions (PyPI), Debian, RubyGems and Packagist. All of them
 * pass OSV's ordering vectors (`shared/data/version-ordering/`).
 *
 * ```ts
 * import { compareVersions } from "./mod.ts";
 * console.assert(compareVersions("Go", "1.2.4-0.20191109021931-daa7c04131f5", "1.2.4") < 0);
 * ```
 * @module
 */
export {
  baseEcosystem,
  compareVersions,
  schemeComparator,
  versionComparator,
  type VersionScheme,
  versionScheme,
} from "./compare.ts";
export { compareDebian, type DebianVersion, parseDebian } from "./debian.ts";
export { compareDigits } from "./digits.ts";
export { InvalidVersionError, UnknownEcosystemError } from "./errors.ts";
export { comparePackagist, packagistParts } from "./packagist.ts";
export { comparePep440, isPep440, legacyKey } from "./pep440.ts";
export { compareRubyGems, rubygemsSegments } from "./rubygems.ts";
export { compareSemver, compareSemverParts, parseSemver, type SemverParts } from "./semver.ts";
