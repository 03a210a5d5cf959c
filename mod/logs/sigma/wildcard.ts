/**
 * Sigma string values: text with `*` and `?` wildcards, compiled to a matcher that never
 * backtracks exponentially (no RegExp: a value is split at its `*`s and the pieces are found
 * left to right, which is exact for globs and at worst O(text × pattern)).
 */

/** `*`: any run of characters, possibly empty. */
export const STAR = 0;
/** `?`: exactly one character. */
export const ONE = 1;
/** One of `-`, `/`, `–`, `—`, `―` (the `windash` modifier). */
export const DASH = 2;

/** Literal text, or one of the wildcard tokens. */
export type Token = string | typeof STAR | typeof ONE | typeof DASH;

/** The characters `windash` treats as interchangeable. */
export const DASHES = "-/\u2013\u2014\u2015";

/**
 * Split a Sigma value into tokens. `\*`, `\?` and `\\` are the escaped characters; any other
 * backslash is itself, so `C:\Windows` needs no doubling (Sigma specification, "Escaping").
 *
 * @example
 * ```ts
 * import { parseWildcards, STAR } from "./wildcard.ts";
 * const t = parseWildcards("a\\*b*");
 * console.assert(t.length === 2 && t[0] === "a*b" && t[1] === STAR);
 * ```
 */
export function parseWildcards(value: string): Token[] {
  const out: Token[] = [];
  let lit = "";
  const flush = () => {
    if (lit !== "") out.push(lit);
    lit = "";
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\") {
      const n = value[i + 1];
      if (n === "*" || n === "?" || n === "\\") {
        lit += n;
        i++;
      } else lit += c;
    } else if (c === "*") {
      flush();
      out.push(STAR);
    } else if (c === "?") {
      flush();
      out.push(ONE);
    } else lit += c;
  }
  flush();
  return out;
}

/** True when the tokens hold a wildcard (base64 cannot encode those). */
export function hasWildcards(tokens: readonly Token[]): boolean {
  return tokens.some((t) => typeof t !== "string");
}

/** Literal text with every dash-like character turned into `DASH` (`windash`). */
export function windash(tokens: readonly Token[]): Token[] {
  const out: Token[] = [];
  for (const t of tokens) {
    if (typeof t !== "string") {
      out.push(t);
      continue;
    }
    let lit = "";
    for (const c of t) {
      if (DASHES.includes(c)) {
        if (lit) out.push(lit);
        lit = "";
        out.push(DASH);
      } else lit += c;
    }
    if (lit) out.push(lit);
  }
  return out;
}

// A run of tokens between two `*`s: each unit is one character of text.
type Unit = string | typeof ONE | typeof DASH;
interface Segment {
  units: Unit[];
  /** The segment as plain text when it has no `?`/dash, for `indexOf`. */
  literal?: string;
}

function segments(tokens: readonly Token[]): Segment[] {
  const segs: Segment[] = [];
  let units: Unit[] = [];
  const close = () => {
    const plain = units.every((u) => typeof u === "string");
    segs.push({ units, literal: plain ? (units as string[]).join("") : undefined });
    units = [];
  };
  for (const t of tokens) {
    if (t === STAR) close();
    else if (typeof t === "string") units.push(...t);
    else units.push(t);
  }
  close();
  return segs;
}

function unitMatches(u: Unit, c: string): boolean {
  if (u === ONE) return true;
  if (u === DASH) return DASHES.includes(c);
  return u === c;
}

function matchesAt(seg: Segment, text: string, at: number): boolean {
  if (seg.literal !== undefined) return text.startsWith(seg.literal, at);
  if (at + seg.units.length > text.length) return false;
  for (let i = 0; i < seg.units.length; i++) {
    if (!unitMatches(seg.units[i], text[at + i])) return false;
  }
  return true;
}

function findFrom(seg: Segment, text: string, from: number): number {
  if (seg.literal !== undefined) return text.indexOf(seg.literal, from);
  for (let i = from; i + seg.units.length <= text.length; i++) {
    if (matchesAt(seg, text, i)) return i;
  }
  return -1;
}

/**
 * Compile tokens to a predicate over text. With `lower`, literal tokens are lower-cased and
 * the caller passes lower-cased text: that is Sigma's default case-insensitive match.
 *
 * @example
 * ```ts
 * import { compileWildcards, parseWildcards } from "./wildcard.ts";
 * const m = compileWildcards(parseWildcards("*bin?b?sh"), true);
 * console.assert(m("/usr/bin/bash") && !m("/usr/bin/dash"));
 * ```
 */
export function compileWildcards(tokens: readonly Token[], lower: boolean): (t: string) => boolean {
  const norm = lower
    ? tokens.map((t) => (typeof t === "string" ? t.toLowerCase() : t))
    : [...tokens];
  const segs = segments(norm);
  if (segs.length === 1) {
    const only = segs[0];
    if (only.literal !== undefined) {
      const lit = only.literal;
      return (t) => t === lit;
    }
    return (t) => t.length === only.units.length && matchesAt(only, t, 0);
  }
  const first = segs[0];
  const last = segs[segs.length - 1];
  const middle = segs.slice(1, -1).filter((s) => s.units.length > 0);
  // Fast paths for the shapes `contains`, `startswith` and `endswith` produce.
  if (middle.length === 0 && first.literal !== undefined && last.literal !== undefined) {
    const [a, b] = [first.literal, last.literal];
    if (a === "" && b === "") return () => true;
    if (a === "") return (t) => t.endsWith(b);
    if (b === "") return (t) => t.startsWith(a);
    return (t) => t.length >= a.length + b.length && t.startsWith(a) && t.endsWith(b);
  }
  if (segs.length === 3 && first.units.length === 0 && last.units.length === 0) {
    const mid = segs[1];
    if (mid.literal !== undefined) {
      const lit = mid.literal;
      return (t) => t.includes(lit);
    }
  }
  return (t) => {
    if (!matchesAt(first, t, 0)) return false;
    let pos = first.units.length;
    const endAt = t.length - last.units.length;
    if (endAt < pos || !matchesAt(last, t, endAt)) return false;
    // Leftmost placement of each middle piece leaves the most room for the rest, so one
    // left-to-right pass decides the match.
    for (const seg of middle) {
      const i = findFrom(seg, t, pos);
      if (i < 0) return false;
      pos = i + seg.units.length;
    }
    return pos <= endAt;
  };
}
