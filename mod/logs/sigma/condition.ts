/**
 * Sigma detection conditions: a small recursive-descent parser and a compiler to closures.
 *
 * Grammar (operators bind from loosest to tightest: `or`, `and`, `not`, `x of`, brackets):
 *
 * ```
 * expr    = and ("or" and)*
 * and     = unary ("and" unary)*
 * unary   = "not" unary | primary
 * primary = "(" expr ")" | ("1" | "any" | "all") "of" (pattern | "them") | identifier
 * ```
 *
 * Keywords are matched case-insensitively. `them` and patterns skip identifiers that start
 * with `_`, as the specification says. The obsolete aggregation syntax (`| count() > 5`) is
 * refused with a pointer to correlation rules.
 */
import { didYouMean, RuleError } from "./errors.ts";
import type { EventView } from "./fields.ts";
import { type Pos, posIn, type YScalar } from "./nodes.ts";

/** A parsed condition. */
export type ConditionNode =
  | { op: "or" | "and"; args: ConditionNode[] }
  | { op: "not"; arg: ConditionNode }
  | { op: "id"; name: string }
  | { op: "of"; quantifier: "1" | "all"; names: string[] };

interface Tok {
  text: string;
  offset: number;
}

const KEYWORDS = new Set(["and", "or", "not", "of", "them", "all", "any", "1"]);

/**
 * How deep brackets and `not`s may nest. Parsing and matching recurse once a level, so an
 * unbounded depth would overflow the stack (a RangeError, not a rule error) at load or, worse,
 * on every event; real rules nest a handful of levels.
 */
export const MAX_CONDITION_DEPTH = 64;

class ParseFailure extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\s*(?:([()])|([A-Za-z0-9_.*\-]+)|(\S))/gy;
  for (let m = re.exec(src); m && m[0] !== ""; m = re.exec(src)) {
    const text = m[1] ?? m[2] ?? m[3];
    const offset = m.index + m[0].length - text.length;
    if (m[3] !== undefined) {
      const why = text === "|"
        ? 'The aggregation syntax ("| count() ...") is obsolete; write a correlation rule'
        : `Unexpected character "${text}"`;
      throw new ParseFailure(offset, why);
    }
    toks.push({ text, offset });
  }
  return toks;
}

/** Wildcard pattern over identifiers: `*` is any run of characters, the rest is literal. */
function identifierPattern(p: string): RegExp {
  const body = p.split("*").map((s) => s.replace(/[.\-]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`);
}

/**
 * Parse a condition against the rule's search identifiers. Errors (syntax, an undefined
 * identifier, a pattern that matches nothing) are thrown as `RuleError`s positioned inside
 * the condition when its text maps one-to-one onto the file.
 */
export function parseCondition(
  scalar: YScalar,
  identifiers: readonly string[],
  file: string,
): ConditionNode {
  const src = typeof scalar.value === "string" ? scalar.value : String(scalar.value);
  const at = (offset: number): Pos => posIn(scalar, offset);
  try {
    const toks = tokenize(src);
    let i = 0;
    const peek = () => toks[i]?.text.toLowerCase();
    const end = () => (toks.length > 0
      ? toks[toks.length - 1].offset + toks[toks.length - 1].text.length
      : 0);
    const expect = (what: string): Tok => {
      const t = toks[i];
      if (!t) {
        throw new ParseFailure(end(), `Expected ${what} but the condition ended`);
      }
      return t;
    };

    /** Operands of `op` (`or` binds looser than `and`), each parsed by `operand`. */
    const chain = (op: "or" | "and", operand: () => ConditionNode): ConditionNode => {
      const args = [operand()];
      while (peek() === op) {
        i++;
        args.push(operand());
      }
      return args.length === 1 ? args[0] : { op, args };
    };
    const expr = (): ConditionNode =>
      chain("or", and);
    const and = (): ConditionNode => chain("and", unary);
    let depth = 0;
    const deeper = (t: Tok) => {
      if (++depth > MAX_CONDITION_DEPTH) {
        throw new ParseFailure(
          t.offset,
          `The condition nests deeper than ${MAX_CONDITION_DEPTH} levels of "(" and "not"`,
        );
      }
    };
    const unary = (): ConditionNode => {
      if (peek() === "not") {
        deeper(toks[i]);
        i++;
        const arg = unary();
        depth--;
        return { op: "not", arg };
      }
      return primary();
    };
    const primary = (): ConditionNode => {
      const t = expect('an identifier, "not", "1 of", "all of" or "("');
      const word = t.text.toLowerCase();
      if (t.text === "(") {
        deeper(t);
        i++;
        const inner = expr();
        depth--;
        const close = toks[i];
        if (close?.text !== ")") {
          throw new ParseFailure(
            close?.offset ?? end(),
            `Expected ")" to close the "(" at column ${at(t.offset).col}`,
          );
        }
        i++;
        return inner;
      }
      if (
        (word === "1" || word === "any" || word === "all") &&
        toks[i + 1]?.text.toLowerCase() === "of"
      ) {
        i += 2;
        const target = expect('an identifier pattern or "them" after "of"');
        i++;
        const visible = identifiers.filter((n) => !n.startsWith("_"));
        let names: string[];
        if (target.text.toLowerCase() === "them") names = visible;
        else {
          if (
            KEYWORDS.has(target.text.toLowerCase()) || target.text === "(" || target.text === ")"
          ) {
            throw new ParseFailure(
              target.offset,
              `Expected an identifier pattern after "of", got "${target.text}"`,
            );
          }
          const re = identifierPattern(target.text);
          names = visible.filter((n) => re.test(n));
        }
        if (names.length === 0) {
          throw new ParseFailure(
            target.offset,
            `"${t.text} of ${target.text}" matches no search identifier (defined: ${
              identifiers.join(", ")
            })`,
          );
        }
        return { op: "of", quantifier: word === "all" ? "all" : "1", names };
      }
      if (KEYWORDS.has(word) || t.text === ")") {
        throw new ParseFailure(t.offset, `Unexpected "${t.text}"`);
      }
      if (/^\d+$/.test(word) && toks[i + 1]?.text.toLowerCase() === "of") {
        throw new ParseFailure(t.offset, `"${t.text} of" is not Sigma; use "1 of" or "all of"`);
      }
      if (t.text.includes("*")) {
        throw new ParseFailure(
          t.offset,
          `Wildcard "${t.text}" is only allowed after "1 of" or "all of"`,
        );
      }
      if (!identifiers.includes(t.text)) {
        const hint = didYouMean(t.text, identifiers) ||
          ` (defined: ${identifiers.join(", ") || "none"})`;
        throw new ParseFailure(t.offset, `Undefined search identifier "${t.text}"${hint}`);
      }
      i++;
      return { op: "id", name: t.text };
    };

    if (toks.length === 0) throw new ParseFailure(0, "The condition is empty");
    const tree = expr();
    if (i < toks.length) {
      throw new ParseFailure(
        toks[i].offset,
        `Unexpected "${toks[i].text}" after a complete condition`,
      );
    }
    return tree;
  } catch (e) {
    if (e instanceof ParseFailure) {
      const p = at(e.offset);
      throw new RuleError("E_CONDITION", file, p.line, p.col, e.message);
    }
    throw e;
  }
}

/** Compile a parsed condition over compiled search identifiers. */
export function compileCondition(
  node: ConditionNode,
  searches: ReadonlyMap<string, (v: EventView) => boolean>,
): (v: EventView) => boolean {
  switch (node.op) {
    case "id":
      return searches.get(node.name)!;
    case "not": {
      const a = compileCondition(node.arg, searches);
      return (v) => !a(v);
    }
    case "and":
    case "or": {
      const args = node.args.map((n) => compileCondition(n, searches));
      return node.op === "and" ? (v) => args.every((a) => a(v)) : (v) => args.some((a) => a(v));
    }
    case "of": {
      const args = node.names.map((n) => searches.get(n)!);
      if (args.length === 1) return args[0];
      return node.quantifier === "all"
        ? (v) => args.every((a) => a(v))
        : (v) => args.some((a) => a(v));
    }
  }
}
