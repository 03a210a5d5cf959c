/**
 * Packagist (Composer) version ordering: PHP's `version_compare`, as Composer applies it and
 * as OSV orders Packagist ranges. No npm package implements it, so it is written here to the
 * PHP manual's description, with the readings OSV's vectors fix (osv-scalibr `semantic`):
 *
 * - a leading `v`/`V` is dropped (Composer drops it; PHP alone would not);
 * - `-`, `_` and `+` become `.`, and a `.` goes between every digit and non-digit, so
 *   `4.3.2RC1` reads `4.3.2.RC.1`; the parts are what lies between the dots;
 * - two numbers compare by value; two words by their rank: any other word < `dev` <
 *   `alpha` = `a` < `beta` = `b` < `RC` = `rc` < `#` < `pl` = `p`, a word taking the rank of
 *   the first of those it starts with, case-sensitively as PHP does (the vectors order
 *   `1.9.0-ALPHA.1` equal to `1.9.0-BETA.1`: both are "other" words); a number against a
 *   word counts as `#`;
 * - when one version has parts left over, a number there makes it the greater; otherwise
 *   its remaining parts compare against `#` (so `1.0` < `1.0pl1` but `1.0a1` < `1.0`).
 */
import { compareDigits, isDigits } from "./digits.ts";

/**
 * The parts `version_compare` compares, after Composer's `v` and PHP's separators.
 *
 * @example
 * ```ts
 * import { packagistParts } from "./packagist.ts";
 * console.assert(packagistParts("v4.3.2RC1").join(" ") === "4 3 2 RC 1");
 * ```
 */
export function packagistParts(version: string): string[] {
  let s = version.trim();
  if (s.startsWith("v") || s.startsWith("V")) s = s.slice(1);
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "-" || c === "_" || c === "+") {
      out += ".";
      continue;
    }
    if (i > 0 && out.length > 0) {
      const prev = out[out.length - 1];
      if (prev !== "." && c !== "." && isDigits(prev) !== isDigits(c)) out += ".";
    }
    out += c;
  }
  return out.split(".");
}

// Checked in this order, each as a prefix, as PHP does.
const SPECIAL_RANKS: readonly [string, number][] = [
  ["dev", 0],
  ["alpha", 1],
  ["a", 1],
  ["beta", 2],
  ["b", 2],
  ["RC", 3],
  ["rc", 3],
  ["#", 4],
  ["pl", 5],
  ["p", 5],
];

function rank(word: string): number {
  for (const [name, r] of SPECIAL_RANKS) if (word.startsWith(name)) return r;
  return -1;
}

function comparePart(a: string, b: string): number {
  const an = isDigits(a);
  const bn = isDigits(b);
  if (an && bn) return compareDigits(a, b);
  const d = rank(an ? "#" : a) - rank(bn ? "#" : b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

function compareParts(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = comparePart(a[i], b[i]);
    if (c !== 0) return c;
  }
  if (a.length > n) return isDigits(a[n]) ? 1 : compareParts(a.slice(n), ["#"]);
  if (b.length > n) return isDigits(b[n]) ? -1 : compareParts(["#"], b.slice(n));
  return 0;
}

/**
 * Orders two Packagist versions as Composer (PHP's `version_compare`) does.
 *
 * @example
 * ```ts
 * import { comparePackagist } from "./packagist.ts";
 * console.assert(comparePackagist("1.0-dev", "1.0a1") < 0);
 * console.assert(comparePackagist("1.0rc1", "1.0RC1") === 0);
 * console.assert(comparePackagist("1.0pl1", "1.0") > 0);
 * ```
 */
export function comparePackagist(a: string, b: string): number {
  return compareParts(packagistParts(a), packagistParts(b));
}
