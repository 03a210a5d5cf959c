/**
 * A rule's `detection` compiled once to closures: search identifiers (maps AND, lists OR,
 * plain values are keywords) and the condition over them. No `eval`: every test is a closure
 * built here, `modifiers.ts` or `condition.ts`.
 */
import { compileCondition, parseCondition } from "./condition.ts";
import { RuleError } from "./errors.ts";
import type { EventView } from "./fields.ts";
import { compileItem, type Predicate } from "./modifiers.ts";
import type { YMap, YNode, YScalar } from "./nodes.ts";

/**
 * Compile a `detection` section; undefined when it has errors, all of which are pushed to
 * `errors` (a bad search does not stop the condition from being checked).
 */
export function compileDetection(
  detection: YNode,
  file: string,
  errors: RuleError[],
): Predicate | undefined {
  let ok = true;
  const err = (n: { pos: { line: number; col: number } }, code: string, msg: string) => {
    errors.push(new RuleError(code, file, n.pos.line, n.pos.col, msg));
    ok = false;
    return undefined;
  };
  if (detection.kind !== "map") return err(detection, "E_DETECTION", '"detection" must be a map');
  const searches = new Map<string, Predicate>();
  const identifiers: string[] = [];
  let condition: YNode | undefined;
  for (const e of detection.entries) {
    if (e.key === "condition") {
      condition = e.value;
      continue;
    }
    if (e.key === "timeframe") {
      err(
        e.keyNode,
        "E_UNSUPPORTED",
        '"timeframe" belongs to the obsolete aggregation syntax; write a correlation rule',
      );
      continue;
    }
    identifiers.push(e.key);
    const p = compileSearch(e.key, e.keyNode, e.value, file, errors);
    if (p) searches.set(e.key, p);
    else ok = false;
  }
  if (!condition) return err(detection, "E_DETECTION", 'The detection has no "condition"');

  const conditions: YScalar[] = [];
  if (condition.kind === "scalar" && typeof condition.value === "string") {
    conditions.push(condition);
  } else if (condition.kind === "seq" && condition.items.length > 0) {
    for (const c of condition.items) {
      if (c.kind === "scalar" && typeof c.value === "string") conditions.push(c);
      else err(c, "E_CONDITION", "A condition must be text");
    }
  } else return err(condition, "E_CONDITION", '"condition" must be text or a list of texts');

  const trees = [];
  for (const c of conditions) {
    try {
      trees.push(parseCondition(c, identifiers, file));
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      errors.push(e);
      ok = false;
    }
  }
  if (!ok) return undefined;
  // A list of conditions is their OR (Sigma specification, "Condition").
  const compiled = trees.map((t) => compileCondition(t, searches));
  return compiled.length === 1 ? compiled[0] : (v: EventView) => compiled.some((c) => c(v));
}

function compileSearch(
  name: string,
  keyNode: YScalar,
  value: YNode,
  file: string,
  errors: RuleError[],
): Predicate | undefined {
  const fail = (n: YNode | YScalar, msg: string) => {
    errors.push(new RuleError("E_DETECTION", file, n.pos.line, n.pos.col, msg));
    return undefined;
  };
  if (value.kind === "map") return compileMap(value, file, errors) ?? undefined;
  if (value.kind === "scalar") {
    if (value.value === null) return fail(keyNode, `Search identifier "${name}" is empty`);
    return compileItem({ keyNode: keywordKey(value), value }, file, errors);
  }
  if (value.items.length === 0) return fail(value, `Search identifier "${name}" is an empty list`);
  // A list is an OR of its elements: maps are AND-ed items, plain values are keywords.
  const alts: Predicate[] = [];
  let ok = true;
  for (const item of value.items) {
    let p: Predicate | undefined;
    if (item.kind === "map") p = compileMap(item, file, errors);
    else if (item.kind === "scalar") {
      p = item.value === null
        ? fail(item, "A keyword cannot be null")
        : compileItem({ keyNode: keywordKey(item), value: item }, file, errors);
    } else p = fail(item, "A list inside a search list is not Sigma; use a map or plain values");
    if (p) alts.push(p);
    else ok = false;
  }
  if (!ok) return undefined;
  return alts.length === 1 ? alts[0] : (v) => alts.some((a) => a(v));
}

function compileMap(map: YMap, file: string, errors: RuleError[]): Predicate | undefined {
  if (map.entries.length === 0) {
    errors.push(new RuleError("E_DETECTION", file, map.pos.line, map.pos.col, "Empty map"));
    return undefined;
  }
  const items: Predicate[] = [];
  let ok = true;
  for (const e of map.entries) {
    const p = compileItem({ keyNode: e.keyNode, value: e.value }, file, errors);
    if (p) items.push(p);
    else ok = false;
  }
  if (!ok) return undefined;
  return items.length === 1 ? items[0] : (v) => items.every((i) => i(v));
}

/** The key of a bare keyword: no field, no modifiers, at the value's position. */
function keywordKey(at: YScalar): YScalar {
  return {
    kind: "scalar",
    value: "",
    source: "",
    pos: at.pos,
    exact: false,
    valueCol: at.valueCol,
  };
}
