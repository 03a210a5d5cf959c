/**
 * Debian version ordering, written to Debian Policy 5.6.12 (the algorithm dpkg implements):
 * no npm package implements it with epochs, `~` and revisions checked against OSV's vectors.
 *
 * `[epoch:]upstream_version[-debian_revision]`: the epoch (0 when absent) compares as a
 * number; then the upstream version and the revision (everything after the last hyphen;
 * absent equals `0`) compare part by part: a run of non-digits compared character by
 * character, where `~` sorts before anything (even the end of the run), then the end, then
 * letters, then every other character (each group in ASCII order); then a run of digits
 * compared as a number (an empty run is zero); and so on until they differ or both end.
 */
import { compareDigits } from "./digits.ts";
import { InvalidVersionError } from "./errors.ts";

/** A Debian version split into its three fields. */
export interface DebianVersion {
  /** Digits only; `"0"` when the version has no epoch. */
  epoch: string;
  upstream: string;
  /** Empty when the version has no revision (which compares equal to `0`). */
  revision: string;
}

/**
 * Splits a Debian version into epoch, upstream version and revision.
 *
 * @throws {InvalidVersionError} when the epoch is empty or not a number.
 * @example
 * ```ts
 * import { parseDebian } from "./debian.ts";
 * const v = parseDebian("1:2.7.4+reloaded2-13+deb9u1");
 * console.assert(v.epoch === "1" && v.upstream === "2.7.4+reloaded2" && v.revision === "13+deb9u1");
 * ```
 */
export function parseDebian(version: string): DebianVersion {
  let s = version.trim();
  let epoch = "0";
  const colon = s.indexOf(":");
  if (colon >= 0) {
    epoch = s.slice(0, colon);
    if (!/^[0-9]+$/.test(epoch)) {
      throw new InvalidVersionError("Debian", version, "the epoch is not a number");
    }
    s = s.slice(colon + 1);
  }
  const dash = s.lastIndexOf("-");
  if (dash < 0) return { epoch, upstream: s, revision: "" };
  return { epoch, upstream: s.slice(0, dash), revision: s.slice(dash + 1) };
}

/**
 * Orders two Debian versions as `dpkg --compare-versions` does.
 *
 * @throws {InvalidVersionError} when either epoch is not a number.
 * @example
 * ```ts
 * import { compareDebian } from "./debian.ts";
 * console.assert(compareDebian("1.2.3-1~deb7u1", "1.2.3-1") < 0);
 * console.assert(compareDebian("1:0.9", "2.0") > 0);
 * console.assert(compareDebian("0.0.0", "0:0.0.0-0") === 0);
 * ```
 */
export function compareDebian(a: string, b: string): number {
  const x = parseDebian(a);
  const y = parseDebian(b);
  return compareDigits(x.epoch, y.epoch) ||
    compareFragment(x.upstream, y.upstream) ||
    compareFragment(x.revision, y.revision);
}

/** Policy's rank of one character in a non-digit run; `undefined` is the end of the run. */
function rank(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c === 126) return -1; // "~"
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  return c + 256;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // The non-digit runs, character by character.
    while (
      (i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))
    ) {
      const ca = i < a.length && !isDigit(a.charCodeAt(i)) ? a.charCodeAt(i) : undefined;
      const cb = j < b.length && !isDigit(b.charCodeAt(j)) ? b.charCodeAt(j) : undefined;
      const d = rank(ca) - rank(cb);
      if (d !== 0) return d < 0 ? -1 : 1;
      if (ca !== undefined) i++;
      if (cb !== undefined) j++;
    }
    // The digit runs, by value.
    const si = i;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    const sj = j;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const d = compareDigits(a.slice(si, i), b.slice(sj, j));
    if (d !== 0) return d;
  }
  return 0;
}
