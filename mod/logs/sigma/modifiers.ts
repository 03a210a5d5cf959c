/**
 * One detection item (`Field|mod|mod: value or values`) compiled to a predicate, following the
 * Sigma modifiers appendix (v2.1). Modifiers apply left to right, as the specification says;
 * what cannot work (unknown names, conflicting or misplaced modifiers, values of the wrong
 * type, bad regexes and CIDRs) is reported with the position of the modifier or value at
 * fault.
 */
import { maskBytes, parseCidr, parseIp } from "../../core/mod.ts";
import { didYouMean, RuleError } from "./errors.ts";
import type { EventView } from "./fields.ts";
import { posIn } from "./nodes.ts";
import type { Pos, YNode, YScalar } from "./nodes.ts";
import { compileRegex } from "./regex.ts";
import {
  compileWildcards,
  hasWildcards,
  parseWildcards,
  STAR,
  type Token,
  windash,
} from "./wildcard.ts";

/** A compiled test of one event. */
export type Predicate = (v: EventView) => boolean;

type ModClass =
  | "wrap"
  | "all"
  | "cased"
  | "neq"
  | "transform"
  | "re"
  | "resub"
  | "cidr"
  | "exists"
  | "fieldref"
  | "compare"
  | "time"
  | "unsupported";

const CLASS: Record<string, ModClass> = {
  contains: "wrap",
  startswith: "wrap",
  endswith: "wrap",
  all: "all",
  cased: "cased",
  neq: "neq",
  windash: "transform",
  base64: "transform",
  base64offset: "transform",
  utf16le: "transform",
  utf16be: "transform",
  utf16: "transform",
  wide: "transform",
  re: "re",
  i: "resub",
  m: "resub",
  s: "resub",
  cidr: "cidr",
  exists: "exists",
  fieldref: "fieldref",
  lt: "compare",
  lte: "compare",
  gt: "compare",
  gte: "compare",
  minute: "time",
  hour: "time",
  day: "time",
  week: "time",
  month: "time",
  year: "time",
  expand: "unsupported",
};

/** Every modifier name this engine knows (`expand` is known but refused). */
export const MODIFIER_NAMES: readonly string[] = Object.keys(CLASS);

/** What the value classes may be combined with; the key is the item's kind. */
const ALLOWED: Record<string, readonly ModClass[]> = {
  string: ["wrap", "all", "cased", "neq", "transform"],
  re: ["re", "resub", "all", "neq"],
  cidr: ["cidr", "all", "neq"],
  exists: ["exists"],
  fieldref: ["fieldref", "wrap", "all", "cased", "neq"],
  compare: ["compare", "all"],
  time: ["time", "compare", "all", "neq"],
};

/** Kinds that need a field; keywords (`'|all':`) search the message instead. */
const FIELD_ONLY = new Set(["cidr", "exists", "fieldref", "compare", "time"]);

interface Mod {
  name: string;
  cls: ModClass;
  pos: Pos;
}

/** One detection item as written: the key split into field and modifiers, and its values. */
export interface ItemSource {
  keyNode: YScalar;
  value: YNode;
}

interface Ctx {
  file: string;
  errors: RuleError[];
}

function fail(ctx: Ctx, code: string, pos: Pos, message: string): undefined {
  ctx.errors.push(new RuleError(code, ctx.file, pos.line, pos.col, message));
  return undefined;
}

/**
 * Compile one item to a predicate; undefined when it has errors (they are in `errors`).
 * A key of `""` or starting with `|` is a keyword item: it searches the event's text.
 */
export function compileItem(
  item: ItemSource,
  file: string,
  errors: RuleError[],
): Predicate | undefined {
  const ctx: Ctx = { file, errors };
  const key = String(item.keyNode.value);
  const parts = key.split("|");
  const field = parts[0];
  const mods: Mod[] = [];
  let offset = field.length + 1;
  let ok = true;
  const bad = (code: string, pos: Pos, message: string) => {
    fail(ctx, code, pos, message);
    ok = false;
  };
  for (const name of parts.slice(1)) {
    const pos = posIn(item.keyNode, offset);
    offset += name.length + 1;
    const cls = CLASS[name];
    if (cls === undefined) {
      bad("E_MODIFIER", pos, `Unknown modifier "${name}"${didYouMean(name, MODIFIER_NAMES)}`);
      continue;
    }
    if (cls === "unsupported") {
      bad(
        "E_UNSUPPORTED",
        pos,
        `Modifier "${name}" needs placeholder values from a processing pipeline, which Ironpost does not have`,
      );
      continue;
    }
    mods.push({ name, cls, pos });
  }
  if (!ok) return undefined;

  const kindMod = mods.find((m) =>
    m.cls === "re" || m.cls === "cidr" || m.cls === "exists" || m.cls === "fieldref" ||
    m.cls === "time" || m.cls === "compare"
  );
  let kind = "string";
  if (kindMod) {
    kind = kindMod.cls;
    // A time part compared with lt/gt is still a time item.
    if (kind === "compare" && mods.some((m) => m.cls === "time")) kind = "time";
  }
  const fieldOnly = field === "" &&
    (FIELD_ONLY.has(kind) ? kindMod : mods.find((m) => m.cls === "neq"));
  if (fieldOnly) {
    return fail(
      ctx,
      "E_MODIFIER",
      fieldOnly.pos,
      `Modifier "${fieldOnly.name}" needs a field name`,
    );
  }
  const seen = new Map<ModClass, Mod>();
  for (const m of mods) {
    if (!ALLOWED[kind].includes(m.cls)) {
      const other = kindMod && kindMod !== m ? ` with "${kindMod.name}"` : "";
      const why = m.cls === "resub"
        ? `Modifier "${m.name}" is a sub-modifier of "re" and must follow it`
        : `Modifier "${m.name}" cannot be combined${other}`;
      bad("E_MODIFIER", m.pos, why);
      continue;
    }
    const prev = seen.get(m.cls);
    if (prev && (m.cls === "wrap" || m.cls === "compare" || m.cls === "time")) {
      bad(
        "E_MODIFIER",
        m.pos,
        `Modifier "${m.name}" conflicts with "${prev.name}" on the same value`,
      );
    } else if (prev && m.cls !== "transform" && m.cls !== "resub") {
      bad("E_MODIFIER", m.pos, `Modifier "${m.name}" is repeated`);
    }
    if (m.cls === "resub" && !mods.slice(0, mods.indexOf(m)).some((x) => x.cls === "re")) {
      bad("E_MODIFIER", m.pos, `Modifier "${m.name}" must follow "re"`);
    }
    seen.set(m.cls, m);
  }
  if (!ok) return undefined;

  // Values: one scalar or a list of scalars.
  const raw = item.value;
  let values: YScalar[];
  if (raw.kind === "scalar") values = [raw];
  else if (raw.kind === "seq") {
    values = [];
    for (const v of raw.items) {
      if (v.kind !== "scalar") {
        bad("E_VALUE", v.pos, `A value list may hold only plain values, not a ${v.kind}`);
      } else values.push(v);
    }
    if (raw.items.length === 0) {
      return fail(ctx, "E_VALUE", raw.pos, `"${key}" has an empty value list`);
    }
  } else {
    return fail(
      ctx,
      "E_VALUE",
      raw.pos,
      `The value of "${key}" must be a value or a list of values, not a map`,
    );
  }
  if (!ok) return undefined;

  const flag = (c: ModClass) => mods.find((m) => m.cls === c);
  const cased = flag("cased") !== undefined;
  const all = flag("all") !== undefined;
  const neq = flag("neq") !== undefined;
  if (kind === "exists" && (raw.kind !== "scalar" || typeof raw.value !== "boolean")) {
    return fail(ctx, "E_VALUE", raw.pos, `"exists" takes true or false`);
  }

  const spec: ValueSpec = { field, mods, cased, kind, ctx };
  const preds: Predicate[] = [];
  for (const v of values) {
    const p = compileValue(spec, v);
    if (p) preds.push(p);
    else ok = false;
  }
  if (!ok) return undefined;

  if (neq) {
    const present = presence(field);
    return (e) => present(e) && !preds.some((p) => p(e));
  }
  if (preds.length === 1) return preds[0];
  return all ? (e) => preds.every((p) => p(e)) : (e) => preds.some((p) => p(e));
}

interface ValueSpec {
  field: string;
  mods: Mod[];
  cased: boolean;
  kind: string;
  ctx: Ctx;
}

function presence(field: string): Predicate {
  return (e) => {
    const x = e.get(field);
    return x !== undefined && x !== null;
  };
}

/** A test on the item's text: a field's, or any of the keyword texts. */
function onText(field: string, cased: boolean, test: (t: string) => boolean): Predicate {
  if (field === "") return (e) => e.keywordTexts(!cased).some(test);
  return cased
    ? (e) => {
      const t = e.text(field);
      return t !== undefined && test(t);
    }
    : (e) => {
      const t = e.lower(field);
      return t !== undefined && test(t);
    };
}

function compileValue(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const { field, ctx } = spec;
  switch (spec.kind) {
    case "exists": {
      const want = v.value === true;
      return (e) => e.has(field) === want;
    }
    case "re":
      return compileRe(spec, v);
    case "cidr":
      return compileCidr(spec, v);
    case "fieldref":
      return compileFieldref(spec, v);
    case "compare":
    case "time":
      return compileNumeric(spec, v);
  }
  if (v.value === null) {
    const other = spec.mods.find((m) => m.cls !== "all" && m.cls !== "cased");
    if (other) {
      return fail(ctx, "E_MODIFIER", other.pos, `Modifier "${other.name}" cannot apply to null`);
    }
    if (field === "") return fail(ctx, "E_VALUE", v.pos, "A keyword cannot be null");
    return (e) => {
      const x = e.get(field);
      return x === undefined || x === null;
    };
  }
  return compileString(spec, v);
}

interface Alt {
  tokens: Token[];
  /** The literal tokens are bytes (one char per byte) after a utf16 modifier. */
  binary: boolean;
}

function compileString(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const { field, ctx } = spec;
  const text = typeof v.value === "string" ? v.value : v.source;
  let alts: Alt[] = [{
    tokens: typeof v.value === "string" ? parseWildcards(text) : [text],
    binary: false,
  }];
  let shaped = false;
  let wrapped = false;
  for (const m of spec.mods) {
    if (m.cls === "wrap") {
      wrapped = shaped = true;
      alts = alts.map((a) => ({ ...a, tokens: wrap(m.name, a.tokens) }));
    } else if (m.cls === "transform") {
      shaped = true;
      const next: Alt[] = [];
      for (const a of alts) {
        const r = transform(m, a);
        if (typeof r === "string") return fail(ctx, "E_VALUE", v.pos, r);
        next.push(...r);
      }
      alts = next;
    }
  }
  // Keywords are searched for anywhere in the text, unless a modifier anchored them.
  if (field === "" && !wrapped) {
    alts = alts.map((a) => ({ ...a, tokens: wrap("contains", a.tokens) }));
  }
  const matchers = alts.map((a) => compileWildcards(a.tokens, !spec.cased));
  const test = matchers.length === 1 ? matchers[0] : (t: string) => matchers.some((m) => m(t));
  const byText = onText(field, spec.cased, test);
  if (typeof v.value === "number" && !shaped && field !== "") {
    // `EventID: 4625` matches the number 4625 and the texts "4625" and "4625.0".
    const n = v.value;
    return (e) => byText(e) || toNumber(e.get(field)) === n;
  }
  return byText;
}

function wrap(name: string, t: Token[]): Token[] {
  if (name === "contains") return [STAR, ...t, STAR];
  if (name === "startswith") return [...t, STAR];
  return [STAR, ...t];
}

function transform(m: Mod, a: Alt): Alt[] | string {
  switch (m.name) {
    case "windash":
      return [{ ...a, tokens: windash(a.tokens) }];
    case "base64":
    case "base64offset": {
      if (hasWildcards(a.tokens)) {
        return `"${m.name}" cannot encode wildcards or windash characters; put "contains" after it`;
      }
      const bytes = toBytes(a);
      if (m.name === "base64") return [{ tokens: [b64(bytes)], binary: false }];
      return base64Offsets(bytes).map((s) => ({ tokens: [s], binary: false }));
    }
    default: {
      // utf16le, wide, utf16be, utf16: text to UTF-16 bytes, one char per byte.
      const be = m.name === "utf16be";
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
      if (m.name === "utf16") {
        if (typeof tokens[0] === "string") tokens[0] = "\xff\xfe" + tokens[0];
        else tokens.unshift("\xff\xfe");
      }
      return [{ tokens, binary: true }];
    }
  }
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

function compileRe(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const pattern = typeof v.value === "string" ? v.value : v.source;
  const flags = {
    i: spec.mods.some((m) => m.name === "i"),
    m: spec.mods.some((m) => m.name === "m"),
    s: spec.mods.some((m) => m.name === "s"),
  };
  const re = compileRegex(pattern, flags);
  if (typeof re === "string") return fail(spec.ctx, "E_REGEX", v.pos, re);
  // Regexes see the text as written: their case rules are their own.
  return onText(spec.field, true, (t) => re.test(t));
}

function compileCidr(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const c = typeof v.value === "string" ? parseCidr(v.value.trim()) : "a CIDR must be text";
  if (typeof c === "string") {
    return fail(spec.ctx, "E_VALUE", v.pos, `Invalid CIDR ${JSON.stringify(v.value)}: ${c}`);
  }
  const field = spec.field;
  return (e) => {
    const t = e.text(field);
    const ip = t === undefined ? undefined : parseIp(t.trim());
    if (!ip || ip.family !== c.family) return false;
    const masked = maskBytes(ip.bytes, c.prefix);
    return masked.every((b, i) => b === c.bytes[i]);
  };
}

function compileFieldref(spec: ValueSpec, v: YScalar): Predicate | undefined {
  if (typeof v.value !== "string" || v.value === "") {
    return fail(spec.ctx, "E_VALUE", v.pos, `"fieldref" takes a field name`);
  }
  const other = v.value;
  const { field, cased } = spec;
  const how = spec.mods.find((m) => m.cls === "wrap")?.name;
  const text = (e: EventView, f: string) => cased ? e.text(f) : e.lower(f);
  return (e) => {
    const a = text(e, field);
    const b = text(e, other);
    if (a === undefined || b === undefined) return false;
    if (how === "contains") return a.includes(b);
    if (how === "startswith") return a.startsWith(b);
    if (how === "endswith") return a.endsWith(b);
    return a === b;
  };
}

function compileNumeric(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const n = typeof v.value === "number" ? v.value : undefined;
  if (n === undefined || !Number.isFinite(n)) {
    return fail(spec.ctx, "E_VALUE", v.pos, `Expected a number, got ${JSON.stringify(v.value)}`);
  }
  const cmp = spec.mods.find((m) => m.cls === "compare")?.name;
  const unit = spec.mods.find((m) => m.cls === "time")?.name;
  const field = spec.field;
  const read = unit
    ? (e: EventView) => timePart(e.get(field), unit)
    : (e: EventView) => toNumber(e.get(field));
  const test: (x: number) => boolean = cmp === "lt"
    ? (x) => x < n
    : cmp === "lte"
    ? (x) => x <= n
    : cmp === "gt"
    ? (x) => x > n
    : cmp === "gte"
    ? (x) => x >= n
    : (x) => x === n;
  return (e) => {
    const x = read(e);
    return x !== undefined && test(x);
  };
}

/** A number, or numeric text; undefined for anything else. */
export function toNumber(x: unknown): number | undefined {
  if (typeof x === "number") return Number.isFinite(x) ? x : undefined;
  if (typeof x === "string" && x.trim() !== "") {
    const n = Number(x);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A part of a date (UTC): RFC 3339 text, or epoch seconds/milliseconds as a number. */
function timePart(x: unknown, unit: string): number | undefined {
  let ms: number;
  if (typeof x === "number") ms = x < 1e11 ? x * 1000 : x;
  else if (typeof x === "string") ms = Date.parse(x);
  else return undefined;
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  switch (unit) {
    case "minute":
      return d.getUTCMinutes();
    case "hour":
      return d.getUTCHours();
    case "day":
      return d.getUTCDate();
    case "month":
      return d.getUTCMonth() + 1;
    case "year":
      return d.getUTCFullYear();
    default: {
      // ISO 8601 week: the week holding the year's first Thursday is week 1.
      const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const dow = t.getUTCDay() || 7;
      t.setUTCDate(t.getUTCDate() + 4 - dow);
      const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
      return Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7);
    }
  }
}
