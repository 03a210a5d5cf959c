import { Composer, isAlias, isMap, isScalar, isSeq, LineCounter, Parser, visit } from "yaml";
import type { Alias as YAlias, Document, Node as YamlNode } from "yaml";
import { RuleError } from "./errors.ts";

/**
 * A YAML value with the position it came from. Rule validation walks these rather than plain
 * JavaScript values so that every error can point at the key or value at fault.
 */
export type YNode = YScalar | YMap | YSeq;

/** 1-based position in a file. */
export interface Pos {
  line: number;
  col: number;
}

export interface YScalar {
  kind: "scalar";
  value: string | number | boolean | null;
  /** The text as written, for plain scalars (`0x10`, `4625`); numbers keep their spelling. */
  source: string;
  pos: Pos;
  /**
   * True when the value sits on one line and each character of `value` is one character in
   * the file, so positions inside it (a modifier in a key, a token in a condition) are exact.
   */
  exact: boolean;
  /** Column of the value's first character (after an opening quote). */
  valueCol: number;
}

export interface YMap {
  kind: "map";
  entries: YEntry[];
  pos: Pos;
}

export interface YEntry {
  key: string;
  keyNode: YScalar;
  value: YNode;
}

export interface YSeq {
  kind: "seq";
  items: YNode[];
  pos: Pos;
}

/** One YAML document of a file; `node` is undefined for an empty document. */
export interface YDocument {
  index: number;
  node?: YNode;
  pos: Pos;
}

/** The position `offset` characters into a scalar, or its start when that is not exact. */
export function posIn(s: YScalar, offset: number): Pos {
  return s.exact ? { line: s.pos.line, col: s.valueCol + offset } : s.pos;
}

/** The entry named `key` in a map. */
export function entry(map: YMap, key: string): YEntry | undefined {
  return map.entries.find((e) => e.key === key);
}

/**
 * Environment variables the `yaml` library reads on every parse (its debug switches). Under a
 * scoped `--allow-env` they must be listed, or parsing throws `NotCapable`.
 */
export const YAML_ENV_VARS: readonly string[] = ["LOG_TOKENS", "LOG_STREAM"];

/**
 * The most nodes one document may expand to, aliases resolved: a real rule has a few hundred;
 * a "billion laughs" document (aliases of aliases) would otherwise take exponential time.
 */
export const MAX_DOCUMENT_NODES = 100_000;

/**
 * Parse every YAML document in `text`. YAML syntax errors become `E_YAML` errors and the
 * document they are in is returned without a node, so one bad document does not hide the
 * others.
 */
export function parseYaml(text: string, file: string, errors: RuleError[]): YDocument[] {
  return [...yamlDocuments(text, file, errors)];
}

/** `parseYaml`, one document at a time, so a caller may yield to the event loop between. */
export function* yamlDocuments(
  text: string,
  file: string,
  errors: RuleError[],
): Generator<YDocument> {
  const denied = YAML_ENV_VARS.filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  );
  if (denied.length > 0) {
    // Report it like any other load problem instead of letting the yaml library throw.
    const msg = `Parsing YAML needs env access to ${denied.join(", ")} (the yaml library reads ` +
      `them); add them to --allow-env`;
    errors.push(new RuleError("E_PERMISSION", file, 0, 0, msg));
    return;
  }
  const lc = new LineCounter();
  const pos = (offset: number): Pos => lc.linePos(offset);
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true });
  const docs = composer.compose(new Parser(lc.addNewLine).parse(text));
  let index = -1;
  for (const doc of docs as Generator<Document.Parsed>) {
    index++;
    // A document's position is its content's, not its "---" marker's.
    const start = pos(doc.contents?.range?.[0] ?? doc.range[0]);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = pos(e.pos[0]);
        errors.push(new RuleError("E_YAML", file, p.line, p.col, sentence(e.message)));
      }
      yield { index, pos: start };
      continue;
    }
    // Each alias's anchor, found in one walk (`Alias.resolve` walks the document per alias):
    // the last node with that anchor before the alias.
    const targets = new Map<YAlias, YamlNode>();
    const anchors = new Map<string, YamlNode>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const target = anchors.get(node.source);
          if (target) targets.set(node, target);
        } else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
    let budget = MAX_DOCUMENT_NODES;
    const convert = (n: YamlNode | null | undefined, at: number, depth: number): YNode => {
      if (depth > 64) throw new Error("YAML nesting is deeper than 64 levels");
      if (--budget < 0) {
        throw new Error(
          `The document expands to more than ${MAX_DOCUMENT_NODES} YAML nodes (aliases included)`,
        );
      }
      if (isAlias(n)) return convert(targets.get(n), n.range?.[0] ?? at, depth + 1);
      if (isMap(n)) {
        const entries: YEntry[] = [];
        for (const pair of n.items) {
          const k = pair.key as YamlNode | null;
          const keyNode = convert(k, n.range?.[0] ?? at, depth + 1);
          if (keyNode.kind !== "scalar" || keyNode.value === null) {
            throw new RuleError(
              "E_YAML",
              file,
              keyNode.pos.line,
              keyNode.pos.col,
              "Map keys must be plain strings",
            );
          }
          const valueAt = k?.range?.[1] ?? at;
          entries.push({
            key: String(keyNode.value),
            keyNode,
            value: convert(pair.value as YamlNode | null, valueAt, depth + 1),
          });
        }
        return { kind: "map", entries, pos: pos(n.range?.[0] ?? at) };
      }
      if (isSeq(n)) {
        const start = n.range?.[0] ?? at;
        return {
          kind: "seq",
          items: n.items.map((i) => convert(i as YamlNode, start, depth + 1)),
          pos: pos(start),
        };
      }
      if (isScalar(n) && n.range) {
        const [s, e] = n.range;
        const raw = text.slice(s, e);
        const value = n.value as YScalar["value"] | Date;
        const v = value instanceof Date ? raw : value;
        const quoted = n.type === "QUOTE_SINGLE" || n.type === "QUOTE_DOUBLE";
        const inner = quoted ? raw.slice(1, -1) : raw;
        const p = pos(s);
        return {
          kind: "scalar",
          value: v === undefined ? null : v,
          source: raw,
          pos: p,
          exact: typeof v === "string" && inner === v && !raw.includes("\n"),
          valueCol: p.col + (quoted ? 1 : 0),
        };
      }
      // An absent value (`key:` with nothing after it) is null at the key's end.
      const p = pos(at);
      return { kind: "scalar", value: null, source: "", pos: p, exact: false, valueCol: p.col };
    };
    if (doc.contents === null) {
      yield { index, pos: start };
      continue;
    }
    let node: YNode;
    try {
      node = convert(doc.contents, doc.range[0], 0);
    } catch (e) {
      if (!(e instanceof RuleError)) {
        const why = e instanceof Error ? e.message : String(e);
        errors.push(new RuleError("E_YAML", file, start.line, start.col, why));
      } else errors.push(e);
      yield { index, pos: start };
      continue;
    }
    yield { index, node, pos: start };
  }
}

function sentence(s: string): string {
  return s.length > 0 ? s[0].toUpperCase() + s.slice(1) : s;
}
