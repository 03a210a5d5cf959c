/**
 * RubyGems version ordering: `Gem::Version#<=>`, written to RubyGems' documented behaviour.
 *
 * Why not `npm:@renovatebot/ruby-semver`: it rejects versions OSV's vectors order (`1beta`,
 * which Gem::Version's strict pattern also rejects but OSV data holds) and reads numbers
 * into `number`, so components past 2^53 compare equal. It remains the tests' oracle.
 *
 * The rules: `-` reads as `.pre.`; the version is the list of its digit runs (numbers) and
 * letter runs (strings), everything else separating them; trailing zeros are dropped from
 * the leading numeric part and from the rest; then segment by segment, a missing segment
 * being 0, a string sorts below a number (`1.0.a` < `1.0`), numbers compare by value and
 * strings byte by byte.
 */
import { compareDigits, compareStrings, isDigits } from "./digits.ts";

/**
 * The canonical segments `Gem::Version` compares; numbers stay digit strings.
 *
 * @example
 * ```ts
 * import { rubygemsSegments } from "./rubygems.ts";
 * console.assert(rubygemsSegments("1.0.a.2.0").join(" ") === "1 a 2");
 * ```
 */
export function rubygemsSegments(version: string): string[] {
  const segments = version.trim().replaceAll("-", ".pre.").match(/[0-9]+|[a-z]+/gi) ?? [];
  const firstString = segments.findIndex((s) => !isDigits(s));
  const numeric = firstString < 0 ? segments : segments.slice(0, firstString);
  const rest = firstString < 0 ? [] : segments.slice(firstString);
  return [...dropTrailingZeros(numeric), ...dropTrailingZeros(rest)];
}

function dropTrailingZeros(segments: string[]): string[] {
  let end = segments.length;
  while (end > 0 && isZero(segments[end - 1])) end--;
  return segments.slice(0, end);
}

function isZero(s: string): boolean {
  return isDigits(s) && compareDigits(s, "0") === 0;
}

/**
 * Orders two RubyGems versions as `Gem::Version#<=>` does.
 *
 * @example
 * ```ts
 * import { compareRubyGems } from "./rubygems.ts";
 * console.assert(compareRubyGems("1.0.b1", "1.0") < 0);
 * console.assert(compareRubyGems("1.0.a2", "1.0.a.2") === 0);
 * console.assert(compareRubyGems("3.10", "3.2") > 0);
 * ```
 */
export function compareRubyGems(a: string, b: string): number {
  const x = rubygemsSegments(a);
  const y = rubygemsSegments(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const l = x[i] ?? "0";
    const r = y[i] ?? "0";
    const ln = isDigits(l);
    const rn = isDigits(r);
    if (ln && rn) {
      const c = compareDigits(l, r);
      if (c !== 0) return c;
    } else if (ln !== rn) {
      return ln ? 1 : -1;
    } else {
      const c = compareStrings(l, r);
      if (c !== 0) return c;
    }
  }
  return 0;
}
