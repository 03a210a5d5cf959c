/**
 * Every Sigma modifier this engine knows, in one typed table (Sigma modifiers appendix,
 * v2.1). An entry says which class the modifier belongs to — what it may be combined with
 * and where it applies is decided per class in `modifiers.ts` — and carries what the
 * modifier itself does: the tokens it wraps a value in, the bytes it encodes it to, the
 * comparison it makes, the part of a date it reads. A new modifier of an existing class is
 * one entry here (and its test).
 * @module
 */
import type { RegexFlags } from "./regex.ts";
import { hasWildcards, STAR, type Token, windash } from "./wildcard.ts";

/** A value as wildcard tokens; after a utf16 modifier its literal tokens are bytes. */
export interface Alt {
  tokens: Token[];
  /** The literal tokens are bytes (one char per byte) after a utf16 modifier. */
  binary: boolean;
}

/** What one modifier is and does, by class. */
export type Modifier =
  /** Anchors a value: `contains`, `startswith`, `endswith` (also how `fieldref` compares). */
  | { cls: "wrap"; wrap(t: Token[]): Token[]; test(text: string, part: string): boolean }
  /** Rewrites the value before matching; a string is the error for this value. */
  | { cls: "transform"; apply(a: Alt, name: string): Alt[] | string }
  /** A sub-modifier of `re`: a RegExp flag. */
  | { cls: "resub"; flag: keyof RegexFlags }
  /** A numeric comparison of the field with the value. */
  | { cls: "compare"; test(field: number, value: number): boolean }
  /** Compares a part of the field's date (UTC) instead of the field. */
  | { cls: "time"; part(d: Date): number }
  /** Known but refused, with the reason. */
  | { cls: "unsupported"; why: string }
  /** Modifiers whose class alone says what they do. */
  | { cls: "all" | "cased" | "neq" | "re" | "cidr" | "exists" | "fieldref" };

/** The classes of `Modifier`. */
export type ModClass = Modifier["cls"];

const TABLE = {
  contains: { cls: "wrap", wrap: (t) => [STAR, ...t, STAR], test: (a, b) => a.includes(b) },
  startswith: { cls: "wrap", wrap: (t) => [...t, STAR], test: (a, b) => a.startsWith(b) },
  endswith: { cls: "wrap", wrap: (t) => [STAR, ...t], test: (a, b) => a.endsWith(b) },
  all: { cls: "all" },
  cased: { cls: "cased" },
  neq: { cls: "neq" },
  windash: { cls: "transform", apply: (a) => [{ ...a, tokens: windash(a.tokens) }] },
  base64: { cls: "transform", apply: (a, name) => base64Of(a, name, (b) => [b64(b)]) },
  base64offset: { cls: "transform", apply: (a, name) => base64Of(a, name, base64Offsets) },
  utf16le: { cls: "transform", apply: (a) => [utf16(a, false, false)] },
  utf16be: { cls: "transform", apply: (a) => [utf16(a, true, false)] },
  utf16: { cls: "transform", apply: (a) => [utf16(a, false, true)] },
  wide: { cls: "transform", apply: (a) => [utf16(a, false, false)] },
  re: { cls: "re" },
  i: { cls: "resub", flag: "i" },
  m: { cls: "resub", flag: "m" },
  s: { cls: "resub", flag: "s" },
  cidr: { cls: "cidr" },
  exists: { cls: "exists" },
  fieldref: { cls: "fieldref" },
  lt: { cls: "compare", test: (x, n) => x < n },
  lte: { cls: "compare", test: (x, n) => x <= n },
  gt: { cls: "compare", test: (x, n) => x > n },
  gte: { cls: "compare", test: (x, n) => x >= n },
  minute: { cls: "time", part: (d) => d.getUTCMinutes() },
  hour: { cls: "time", part: (d) => d.getUTCHours() },
  day: { cls: "time", part: (d) => d.getUTCDate() },
  week: { cls: "time", part: isoWeek },
  month: { cls: "time", part: (d) => d.getUTCMonth() + 1 },
  year: { cls: "time", part: (d) => d.getUTCFullYear() },
  expand: {
    cls: "unsupported",
    why: "needs placeholder values from a processing pipeline, which Ironpost does not have",
  },
} satisfies Record<string, Modifier>;

/** A modifier's name. */
export type ModifierName = keyof typeof TABLE;

/** The modifiers by name. */
export const MODIFIERS: Readonly<Record<ModifierName, Modifier>> = TABLE;

/** Every modifier name this engine knows (`expand` is known but refused). */
export const MODIFIER_NAMES: readonly ModifierName[] = Object.keys(TABLE) as ModifierName[];

/** The modifier called `name`, or undefined for a name this engine does not know. */
export function modifier(name: string): Modifier | undefined {
  return Object.hasOwn(TABLE, name) ? MODIFIERS[name as ModifierName] : undefined;
}

// --- what the transforms do -------------------------------------------------------------

function base64Of(a: Alt, name: string, encode: (bytes: Uint8Array) => string[]): Alt[] | string {
  if (hasWildcards(a.tokens)) {
    return `"${name}" cannot encode wildcards or windash characters; put "contains" after it`;
  }
  return encode(toBytes(a)).map((s) => ({ tokens: [s], binary: false }));
}

/** Text to UTF-16 bytes, one char per byte; `bom` puts the little-endian mark first. */
function utf16(a: Alt, be: boolean, bom: boolean): Alt {
  const tokens = a.tokens.map((t) => {
    if (typeof t !== "string") return t;
    let out = "";
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      const [lo, hi] = [String.fromCharCode(c & 0xff), String.fromCharCode(c >> 8)];
      out += be ? hi + lo : lo + hi;
    }
    return out;
  });
  if (bom) {
    if (typeof tokens[0] === "string") tokens[0] = "\xff\xfe" + tokens[0];
    else tokens.unshift("\xff\xfe");
  }
  return { tokens, binary: true };
}

function toBytes(a: Alt): Uint8Array {
  const s = a.tokens.join("");
  if (!a.binary) return new TextEncoder().encode(s);
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * The three forms `bytes` takes inside a longer base64 text, one per alignment, with the
 * characters that depend on the neighbours cut off (pySigma's offsets).
 *
 * @example
 * ```ts
 * import { base64Offsets } from "./modifier_table.ts";
 * console.assert(base64Offsets(new TextEncoder().encode("ab")).length === 3);
 * ```
 */
export function base64Offsets(bytes: Uint8Array): string[] {
  const start = [0, 2, 3];
  const end = [undefined, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const padded = new Uint8Array(i + bytes.length);
    padded.fill(0x20, 0, i);
    padded.set(bytes, i);
    out.push(b64(padded).slice(start[i], end[(bytes.length + i) % 3]));
  }
  return out;
}

/** ISO 8601 week: the week holding the year's first Thursday is week 1. */
function isoWeek(d: Date): number {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7);
}
