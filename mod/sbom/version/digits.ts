/**
 * Numeric comparison of ASCII digit strings of any length. Version components are compared
 * as numbers, but OSV's ordering data has components past 2^53 (and Go pseudo-version
 * timestamps come close), so they are never converted to `number`.
 */

/** True when `s` is one or more ASCII digits. */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Compares two digit strings by value (`"007"` equals `"7"`); the empty string is zero.
 *
 * @example
 * ```ts
 * import { compareDigits } from "./digits.ts";
 * console.assert(compareDigits("10", "9") > 0);
 * console.assert(compareDigits("007", "7") === 0);
 * console.assert(compareDigits("999999999999999999999999999991", "999999999999999999999999999999") < 0);
 * ```
 */
export function compareDigits(a: string, b: string): number {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) === 48) i++;
  return s.slice(i);
}

/** -1, 0 or 1 for a plain string comparison by UTF-16 code units (ASCII order for ASCII). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
