/**
 * One detection item (`Field|mod|mod: value or values`) compiled to a predicate, following the
 * Sigma modifiers appendix (v2.1). Modifiers (`modifier_table.ts`) apply left to right, as
 * the specification says; what cannot work (unknown names, conflicting or misplaced
 * modifiers, values of the wrong type, bad regexes and CIDRs) is reported with the position
 * of the modifier or value at fault. What a class of modifiers may be combined with is
 * decided here; what one modifier does is its table entry.
 */
import { maskBytes, parseCidr, parseIp } from "../../core/mod.ts";
import { didYouMean, RuleError } from "./errors.ts";
import type { EventView } from "./fields.ts";
import { posIn } from "./nodes.ts";
import type { Pos, YNode, YScalar } from "./nodes.ts";
import {
  type Alt,
  type ModClass,
  type Modifier,
  modifier,
  MODIFIER_NAMES,
} from "./modifier_table.ts";
import { compileRegex, type RegexFlags } from "./regex.ts";
import { compileWildcards, parseWildcards } from "./wildcard.ts";

export { base64Offsets, MODIFIER_NAMES } from "./modifier_table.ts";

/** A compiled test of one event. */
export type Predicate = (v: EventView) => boolean;

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
  def: Modifier;
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
    const def = modifier(name);
    if (def === undefined) {
      bad("E_MODIFIER", pos, `Unknown modifier "${name}"${didYouMean(name, MODIFIER_NAMES)}`);
      continue;
    }
    if (def.cls === "unsupported") {
      bad("E_UNSUPPORTED", pos, `Modifier "${name}" ${def.why}`);
      continue;
    }
    mods.push({ name, def, cls: def.cls, pos });
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
    const def = m.def;
    if (def.cls === "wrap") {
      wrapped = shaped = true;
      alts = alts.map((a) => ({ ...a, tokens: def.wrap(a.tokens) }));
    } else if (def.cls === "transform") {
      shaped = true;
      const next: Alt[] = [];
      for (const a of alts) {
        const r = def.apply(a, m.name);
        if (typeof r === "string") return fail(ctx, "E_VALUE", v.pos, r);
        next.push(...r);
      }
      alts = next;
    }
  }
  // Keywords are searched for anywhere in the text, unless a modifier anchored them.
  if (field === "" && !wrapped) {
    alts = alts.map((a) => ({ ...a, tokens: CONTAINS.wrap(a.tokens) }));
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

/** How keywords are searched for, unless a modifier anchored them. */
const CONTAINS = modifier("contains") as Extract<Modifier, { cls: "wrap" }>;

function compileRe(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const pattern = typeof v.value === "string" ? v.value : v.source;
  const flags: RegexFlags = {};
  for (const { def } of spec.mods) if (def.cls === "resub") flags[def.flag] = true;
  const re = compileRegex(pattern, flags);
  if ("message" in re) {
    // At the construct at fault when the value is written as is; else at the value.
    const pos = re.offset > 0 && typeof v.value === "string" ? posIn(v, re.offset) : v.pos;
    return fail(spec.ctx, "E_REGEX", pos, re.message);
  }
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
  const how = wrapOf(spec.mods);
  const text = (e: EventView, f: string) => cased ? e.text(f) : e.lower(f);
  return (e) => {
    const a = text(e, field);
    const b = text(e, other);
    if (a === undefined || b === undefined) return false;
    return how ? how.test(a, b) : a === b;
  };
}

function compileNumeric(spec: ValueSpec, v: YScalar): Predicate | undefined {
  const n = typeof v.value === "number" ? v.value : undefined;
  if (n === undefined || !Number.isFinite(n)) {
    return fail(spec.ctx, "E_VALUE", v.pos, `Expected a number, got ${JSON.stringify(v.value)}`);
  }
  let cmp: ((x: number, n: number) => boolean) | undefined;
  let part: ((d: Date) => number) | undefined;
  for (const { def } of spec.mods) {
    if (def.cls === "compare") cmp = def.test;
    else if (def.cls === "time") part = def.part;
  }
  const field = spec.field;
  const read = part
    ? (e: EventView) => timePart(e.get(field), part)
    : (e: EventView) => toNumber(e.get(field));
  const test = cmp ?? ((x: number, n: number) => x === n);
  return (e) => {
    const x = read(e);
    return x !== undefined && test(x, n);
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
function timePart(x: unknown, part: (d: Date) => number): number | undefined {
  let ms: number;
  if (typeof x === "number") ms = x < 1e11 ? x * 1000 : x;
  else if (typeof x === "string") ms = Date.parse(x);
  else return undefined;
  if (!Number.isFinite(ms)) return undefined;
  return part(new Date(ms));
}

/** The item's anchoring modifier (`contains`, `startswith`, `endswith`), if any. */
function wrapOf(mods: Mod[]): Extract<Modifier, { cls: "wrap" }> | undefined {
  for (const { def } of mods) if (def.cls === "wrap") return def;
  return undefined;
}
