/**
 * PyPI version ordering: PEP 440 for valid versions, and pip/packaging's old `LegacyVersion`
 * for the rest, which sort before every valid version.
 *
 * Valid versions go to `npm:@renovatebot/pep440`, a port of packaging's `Version` key that
 * passes every valid pair in OSV's vectors. It has no legacy ordering (packaging dropped
 * `LegacyVersion` in 22.0), yet PyPI still serves such versions and OSV records list them,
 * so that part is written here from packaging 21.3's documented scheme (the setuptools
 * `parse_version` rules): the lowercased string is cut into digit runs, letter runs, `.`, `-`
 * and whatever lies between them; numbers are zero-padded to eight places; `pre`, `preview`
 * and `rc` read as `c`, `dev` as `@`, `-` as `final-`; trailing zero parts and `final-`
 * markers before a pre-release word are dropped; the parts then compare as strings, and the
 * whole key sits below epoch 0. Release numbers past 2^53 lose precision in the library.
 */
import { compare as compareValid, valid } from "@renovatebot/pep440";
import { compareStrings } from "./digits.ts";

/**
 * Orders two PyPI versions as pip does (packaging < 22 for legacy versions).
 *
 * @example
 * ```ts
 * import { comparePep440 } from "./pep440.ts";
 * console.assert(comparePep440("1.0.dev0", "1.0a0") < 0);
 * console.assert(comparePep440("1!1.0", "2.0") > 0);
 * console.assert(comparePep440("0.9-doduo", "0.1") < 0); // legacy sorts before valid
 * ```
 */
export function comparePep440(a: string, b: string): number {
  const x = a.trim();
  const y = b.trim();
  const xValid = valid(x) !== null;
  const yValid = valid(y) !== null;
  if (xValid && yValid) return Math.sign(compareValid(x, y));
  if (xValid !== yValid) return xValid ? 1 : -1;
  return compareLegacyKeys(legacyKey(a), legacyKey(b));
}

/** True when `version` is a valid PEP 440 version (surrounding whitespace allowed). */
export function isPep440(version: string): boolean {
  return valid(version.trim()) !== null;
}

const LEGACY_TOKEN = /\d+|[a-z]+|\.|-/g;
const LEGACY_WORDS: Readonly<Record<string, string>> = {
  pre: "c",
  preview: "c",
  "-": "final-",
  rc: "c",
  dev: "@",
};

/**
 * The sort key packaging's `LegacyVersion` gave a string (its epoch, -1, is implied).
 *
 * @example
 * ```ts
 * import { legacyKey } from "./pep440.ts";
 * console.assert(legacyKey("1.0-dev").join(" ") === "00000001 *@ *final");
 * ```
 */
export function legacyKey(version: string): string[] {
  const parts: string[] = [];
  for (const token of legacyTokens(version.toLowerCase())) {
    const word = LEGACY_WORDS[token] ?? token;
    if (word === "" || word === ".") continue;
    const c = word.charCodeAt(0);
    const part = c >= 48 && c <= 57 ? word.padStart(8, "0") : "*" + word;
    if (part.startsWith("*")) {
      // A pre-release word right after `-` belongs to the release before the dash.
      if (part < "*final") {
        while (parts.length > 0 && parts[parts.length - 1] === "*final-") parts.pop();
      }
      while (parts.length > 0 && parts[parts.length - 1] === "00000000") parts.pop();
    }
    parts.push(part);
  }
  return parts;
}

/** The tokens plus the text between them, as Python's `re.split` with a group yields them. */
function* legacyTokens(s: string): Generator<string> {
  let last = 0;
  for (const m of s.matchAll(LEGACY_TOKEN)) {
    yield s.slice(last, m.index);
    yield m[0];
    last = m.index + m[0].length;
  }
  yield s.slice(last);
  // Every version ends in a final marker, so pre-release words sort before it.
  yield "final";
}

function compareLegacyKeys(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
