/**
 * The `correlation` section of a Sigma correlation rule (Sigma correlation rules
 * specification v2), validated with positions. References to other rules are resolved later,
 * once every file is loaded (`load.ts`), because a correlation may name rules in other files.
 */
import { didYouMean, RuleError } from "./errors.ts";
import { entry, type Pos, type YMap, type YNode } from "./nodes.ts";
import type { CorrelationCondition, CorrelationType } from "./types.ts";

const TYPES: readonly CorrelationType[] = [
  "event_count",
  "value_count",
  "temporal",
  "temporal_ordered",
  "value_sum",
  "value_avg",
];
const VALUE_TYPES = new Set<CorrelationType>(["value_count", "value_sum", "value_avg"]);
const TEMPORAL = new Set<CorrelationType>(["temporal", "temporal_ordered"]);
const OPS = ["gt", "gte", "lt", "lte", "eq"] as const;
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A rule reference as written, kept with its position for "unknown rule" errors. */
export interface RuleRef {
  ref: string;
  pos: Pos;
}

/** A correlation section before its references are resolved. */
export interface ParsedCorrelation {
  type: CorrelationType;
  refs: RuleRef[];
  groupBy: string[];
  timespan: string;
  timespanMs: number;
  condition: CorrelationCondition;
  /** Alias → (reference as written → field). */
  aliases: { alias: string; ref: RuleRef; field: string }[];
  generate: boolean;
}

/**
 * Validate `doc.correlation` (and a top-level `generate`, where the JSON schema puts it; pySigma
 * reads it inside `correlation`, so both are accepted). `parsed` is absent when there are errors.
 */
export function parseCorrelation(
  doc: YMap,
  file: string,
  errors: RuleError[],
): { parsed?: ParsedCorrelation; refs: RuleRef[] } {
  let ok = true;
  const fail = (n: { pos: Pos }, code: string, msg: string) => {
    errors.push(new RuleError(code, file, n.pos.line, n.pos.col, msg));
    ok = false;
  };
  const section = entry(doc, "correlation")!;
  const c = section.value;
  if (c.kind !== "map") {
    fail(c, "E_CORRELATION", '"correlation" must be a map');
    return { refs: [] };
  }
  const known = new Set([
    "type",
    "rules",
    "group-by",
    "timespan",
    "condition",
    "aliases",
    "generate",
  ]);
  for (const e of c.entries) {
    if (!known.has(e.key)) {
      fail(
        e.keyNode,
        "E_CORRELATION",
        `Unknown correlation key "${e.key}"${didYouMean(e.key, known)}`,
      );
    }
  }

  // type
  let type: CorrelationType | undefined;
  const t = entry(c, "type");
  if (!t) fail(section.keyNode, "E_CORRELATION", 'The correlation has no "type"');
  else if (t.value.kind !== "scalar" || typeof t.value.value !== "string") {
    fail(t.value, "E_CORRELATION", '"type" must be text');
  } else if ((TYPES as readonly string[]).includes(t.value.value)) {
    type = t.value.value as CorrelationType;
  } else if (t.value.value === "value_percentile" || t.value.value === "value_median") {
    fail(t.value, "E_UNSUPPORTED", `Correlation type "${t.value.value}" is not supported`);
  } else {
    fail(
      t.value,
      "E_CORRELATION",
      `Unknown correlation type "${t.value.value}"${didYouMean(t.value.value, TYPES)}`,
    );
  }

  // rules
  const refs: RuleRef[] = [];
  const r = entry(c, "rules");
  if (!r) fail(section.keyNode, "E_CORRELATION", 'The correlation has no "rules"');
  else {
    const items = r.value.kind === "seq" ? r.value.items : [r.value];
    for (const i of items) {
      if (i.kind !== "scalar" || i.value === null || typeof i.value === "boolean") {
        fail(i, "E_CORRELATION", "A rule reference must be a rule id or name");
      } else if (refs.some((x) => x.ref === String(i.value))) {
        fail(i, "E_CORRELATION", `Rule "${i.value}" is listed twice`);
      } else refs.push({ ref: String(i.value), pos: i.pos });
    }
    if (items.length === 0) fail(r.value, "E_CORRELATION", '"rules" is empty');
  }

  // group-by
  const groupBy = stringList(entry(c, "group-by")?.value, "group-by", fail) ?? [];

  // timespan
  let timespan = "";
  let timespanMs = 0;
  const ts = entry(c, "timespan");
  if (!ts) fail(section.keyNode, "E_CORRELATION", 'The correlation has no "timespan"');
  else {
    const m = ts.value.kind === "scalar" && typeof ts.value.value === "string"
      ? /^(\d+)([smhdw])$/.exec(ts.value.value)
      : null;
    if (!m || Number(m[1]) === 0) {
      fail(
        ts.value,
        "E_CORRELATION",
        `Invalid timespan ${ts.value.kind === "scalar" ? JSON.stringify(ts.value.value) : ""}; ` +
          "expected a positive number and a unit s, m, h, d or w (30s, 5m, 1h, 1d)",
      );
    } else {
      timespan = m[0];
      timespanMs = Number(m[1]) * UNIT_MS[m[2]];
    }
  }

  // condition
  const condition: CorrelationCondition = {};
  const cond = entry(c, "condition");
  if (cond) {
    const v = cond.value;
    if (v.kind === "scalar" && typeof v.value === "string") {
      fail(
        v,
        "E_UNSUPPORTED",
        "Extended (boolean expression) correlation conditions are not supported",
      );
    } else if (v.kind !== "map") {
      fail(v, "E_CORRELATION", '"condition" must be a map such as "gte: 10"');
    } else {
      for (const e of v.entries) {
        if (e.key === "field") {
          condition.field = stringList(e.value, "field", fail);
          if (type && !VALUE_TYPES.has(type)) {
            fail(e.keyNode, "E_CORRELATION", `"field" is for value_* correlations, not ${type}`);
          }
        } else if ((OPS as readonly string[]).includes(e.key)) {
          if (e.value.kind !== "scalar" || typeof e.value.value !== "number") {
            fail(e.value, "E_CORRELATION", `"${e.key}" must be a number`);
          } else condition[e.key as typeof OPS[number]] = e.value.value;
        } else {
          fail(
            e.keyNode,
            "E_CORRELATION",
            `Unknown condition "${e.key}"${
              didYouMean(e.key, [...OPS, "field"])
            }; expected gt, gte, lt, lte, eq or field`,
          );
        }
      }
      if (!v.entries.some((e) => (OPS as readonly string[]).includes(e.key))) {
        fail(v, "E_CORRELATION", "The condition needs one of gt, gte, lt, lte or eq");
      }
    }
  } else if (type && TEMPORAL.has(type)) {
    // Temporal correlations default to "every referred rule has matched".
    condition.gte = refs.length;
  } else if (type) {
    fail(section.keyNode, "E_CORRELATION", `A ${type} correlation needs a "condition"`);
  }
  if (type && VALUE_TYPES.has(type) && cond?.value.kind === "map" && !condition.field) {
    fail(cond.value, "E_CORRELATION", `A ${type} correlation needs "field" in its condition`);
  }

  // aliases
  const aliases: ParsedCorrelation["aliases"] = [];
  const al = entry(c, "aliases");
  if (al) {
    if (al.value.kind !== "map") fail(al.value, "E_CORRELATION", '"aliases" must be a map');
    else {
      for (const a of al.value.entries) {
        if (a.value.kind !== "map") {
          fail(a.value, "E_CORRELATION", `Alias "${a.key}" must map rule names to field names`);
          continue;
        }
        for (const m of a.value.entries) {
          if (m.value.kind !== "scalar" || typeof m.value.value !== "string") {
            fail(
              m.value,
              "E_CORRELATION",
              `Alias "${a.key}" must give a field name for "${m.key}"`,
            );
          } else {
            aliases.push({
              alias: a.key,
              ref: { ref: m.key, pos: m.keyNode.pos },
              field: m.value.value,
            });
          }
        }
      }
    }
  }

  // generate
  let generate = false;
  for (const g of [entry(c, "generate"), entry(doc, "generate")]) {
    if (!g) continue;
    if (g.value.kind !== "scalar" || typeof g.value.value !== "boolean") {
      fail(g.value, "E_CORRELATION", '"generate" must be true or false');
    } else generate ||= g.value.value;
  }

  // The references are returned even when the rule is broken, so that unknown ones are
  // reported in the same pass.
  if (!ok || !type) return { refs };
  return {
    parsed: { type, refs, groupBy, timespan, timespanMs, condition, aliases, generate },
    refs,
  };
}

function stringList(
  n: YNode | undefined,
  what: string,
  fail: (n: { pos: Pos }, code: string, msg: string) => void,
): string[] | undefined {
  if (!n) return undefined;
  const items = n.kind === "seq" ? n.items : [n];
  const out: string[] = [];
  for (const i of items) {
    if (i.kind !== "scalar" || typeof i.value !== "string" || i.value === "") {
      fail(i, "E_CORRELATION", `"${what}" must be a field name or a list of field names`);
    } else out.push(i.value);
  }
  return out;
}
