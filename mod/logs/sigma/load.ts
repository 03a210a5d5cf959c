/**
 * Reading SigmaHQ rule files: YAML documents to compiled detection rules and correlation
 * rules, every problem collected as a positioned `RuleError` (a broken rule is left out, the
 * others still load).
 */
import type { Severity } from "../../core/mod.ts";
import { errorMessage, SEVERITIES } from "../../core/mod.ts";
import { compileDetection } from "./compile.ts";
import { parseCorrelation, type ParsedCorrelation, type RuleRef } from "./correlation_rule.ts";
import { didYouMean, RuleError } from "./errors.ts";
import { entry, type Pos, yamlDocuments, type YEntry, type YMap, type YNode } from "./nodes.ts";
import {
  type CompiledRule,
  type CorrelationRule,
  LEVEL_SEVERITY,
  type RuleMeta,
  type SigmaLevel,
} from "./types.ts";

/** What loading produced: usable rules, and every error found on the way. */
export interface LoadResult {
  rules: CompiledRule[];
  correlations: CorrelationRule[];
  errors: RuleError[];
}

const LEVELS = Object.keys(LEVEL_SEVERITY) as SigmaLevel[];
const STATUSES = ["stable", "test", "experimental", "deprecated", "unsupported"];
const LOGSOURCE_KEYS = ["product", "service", "category"] as const;

/** The largest rule file read: SigmaHQ's largest is ~20 KiB. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;
/** The most rules and correlations loaded, and rule files read, from all paths together. */
export const MAX_RULES = 10_000;

/** Limits and checks of `loadRules`. */
export interface LoadOptions {
  /** A rule file larger than this is refused (`E_LIMIT`) without being parsed. */
  maxFileBytes?: number;
  /** Loading stops with an `E_LIMIT` error past this many rules (and this many files). */
  maxRules?: number;
  /**
   * Why a rule file or directory must not be trusted (its mode or owner), or undefined; what
   * it refuses is an `E_UNSAFE` error and is not read. The agent's config check refuses the
   * same paths before rules load; this is for paths given on the command line.
   */
  unsafe?: (path: string, st: Deno.FileInfo) => string | undefined;
}

/**
 * Load rule files and directories (searched recursively for `*.yml` and `*.yaml`, in sorted
 * order). Correlations may refer to rules in any of the loaded files. Never throws for a bad
 * rule: problems are returned in `errors`. Each file is read with a size cap and parsed in
 * its own turn of the event loop, so a reload does not stall the agent.
 *
 * @example
 * ```ts ignore
 * import { loadRules } from "./load.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/r.yml`, [
 *   "title: Shadow read", "logsource: {product: linux}",
 *   "detection: {sel: {CommandLine|contains: /etc/shadow}, condition: sel}",
 * ].join("\n"));
 * const { rules, errors } = await loadRules([dir]);
 * console.assert(rules.length === 1 && errors.length === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadRules(paths: string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const maxBytes = opts.maxFileBytes ?? MAX_RULE_FILE_BYTES;
  const maxRules = opts.maxRules ?? MAX_RULES;
  const acc = new Accumulator();
  const whole = (code: string, file: string, message: string) =>
    acc.errors.push(new RuleError(code, file, 0, 0, message));
  let read = 0;
  for (const path of paths) {
    let files: string[];
    try {
      const st = await Deno.stat(path);
      const why = opts.unsafe?.(path, st);
      if (why) {
        whole("E_UNSAFE", path, `Not loaded: ${why}`);
        continue;
      }
      if (st.isDirectory) files = await ruleFiles(path, maxRules + 1, opts.unsafe, acc.errors);
      else if (st.isFile) files = [path];
      else {
        whole("E_READ", path, "Cannot read: not a regular file or a directory");
        continue;
      }
    } catch (e) {
      whole("E_READ", path, `Cannot read: ${errorMessage(e)}`);
      continue;
    }
    for (const file of files) {
      if (++read > maxRules || acc.count() > maxRules) {
        whole(
          "E_LIMIT",
          file,
          `Not loaded: more than ${maxRules} rule files or rules; this file and those after it ` +
            "were left out",
        );
        return acc.finish();
      }
      let text: string;
      try {
        text = await readRuleFile(file, maxBytes, opts.unsafe);
      } catch (e) {
        if (e instanceof RuleError) acc.errors.push(e);
        else whole("E_READ", file, `Cannot read: ${errorMessage(e)}`);
        continue;
      }
      await acc.addTextYielding(text, file);
    }
  }
  if (acc.count() > maxRules) {
    whole("E_LIMIT", paths.join(", "), `More than ${maxRules} rules`);
  }
  return acc.finish();
}

/** A rule file's text, read no further than `maxBytes` (a device or a huge file is refused). */
async function readRuleFile(
  file: string,
  maxBytes: number,
  unsafe: LoadOptions["unsafe"],
): Promise<string> {
  using f = await Deno.open(file);
  const st = await f.stat();
  const why = unsafe?.(file, st);
  if (why) throw new RuleError("E_UNSAFE", file, 0, 0, `Not loaded: ${why}`);
  const tooBig = () =>
    new RuleError(
      "E_LIMIT",
      file,
      0,
      0,
      `Not loaded: larger than ${maxBytes} bytes, the most a rule file may be`,
    );
  if (!st.isFile) throw new RuleError("E_READ", file, 0, 0, "Cannot read: not a regular file");
  if (st.size > maxBytes) throw tooBig();
  const buf = new Uint8Array(maxBytes + 1);
  let n = 0;
  while (n < buf.length) {
    const got = await f.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  if (n > maxBytes) throw tooBig();
  return new TextDecoder().decode(buf.subarray(0, n));
}

/**
 * Parse rules from YAML text (one or more documents), as `loadRules` does for a file.
 *
 * @example
 * ```ts ignore
 * import { parseRules } from "./load.ts";
 * const { errors } = parseRules("title: t\nlogsource: {}\ndetection: {condition: nope}\n", "x.yml");
 * console.assert(errors[0].format().startsWith("x.yml:3:24: E_CONDITION"));
 * ```
 */
export function parseRules(text: string, file = "<inline>"): LoadResult {
  const acc = new Accumulator();
  acc.addText(text, file);
  return acc.finish();
}

/**
 * The rule files under `dir`, sorted, at most `max` of them (the caller reports the excess).
 * A subdirectory `unsafe` refuses is reported and not searched.
 */
async function ruleFiles(
  dir: string,
  max: number,
  unsafe: LoadOptions["unsafe"],
  errors: RuleError[],
  out: string[] = [],
): Promise<string[]> {
  const entries = [];
  for await (const e of Deno.readDir(dir)) {
    if (entries.length >= 4 * max) {
      const msg = `Not searched: more than ${4 * max} entries in one directory`;
      errors.push(new RuleError("E_LIMIT", dir, 0, 0, msg));
      return out;
    }
    entries.push(e);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (out.length >= max) break;
    const p = `${dir.replace(/\/+$/, "")}/${e.name}`;
    if (e.isDirectory) {
      const why = unsafe?.(p, await Deno.stat(p));
      if (why) errors.push(new RuleError("E_UNSAFE", p, 0, 0, `Not loaded: ${why}`));
      else await ruleFiles(p, max, unsafe, errors, out);
    } else if (e.isFile && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
  return out;
}

interface PendingCorrelation {
  meta: Omit<RuleMeta, "severity" | "standalone">;
  parsed: ParsedCorrelation;
  idPos?: Pos;
  namePos?: Pos;
  level?: SigmaLevel;
}

interface Named {
  key: string;
  id?: string;
  name?: string;
  idPos?: Pos;
  namePos?: Pos;
  file: string;
}

class Accumulator {
  errors: RuleError[] = [];
  rules: { rule: CompiledRule; idPos?: Pos; namePos?: Pos }[] = [];
  correlations: PendingCorrelation[] = [];
  /** References of correlations that failed to load, still checked so all errors show. */
  brokenRefs: { file: string; refs: RuleRef[] }[] = [];

  /** Rules and correlations so far. */
  count(): number {
    return this.rules.length + this.correlations.length;
  }

  addText(text: string, file: string): void {
    for (const _ of this.steps(text, file));
  }

  /** `addText`, handing control back to the event loop every 10 ms or so. */
  async addTextYielding(text: string, file: string): Promise<void> {
    let since = performance.now();
    for (const _ of this.steps(text, file)) {
      if (performance.now() - since < 10) continue;
      await new Promise((r) => setTimeout(r, 0));
      since = performance.now();
    }
  }

  /** Add the rules of `text`, one YAML document a step. */
  *steps(text: string, file: string): Generator<void> {
    const docs = yamlDocuments(text, file, this.errors);
    // Rule collections (Sigma 1.x): `action: global` documents are merged into the ones after
    // them, `reset` forgets that, `repeat` reuses the previous document with changes.
    let global: YMap | undefined;
    let previous: YMap | undefined;
    for (const d of docs) {
      yield;
      if (!d.node) continue;
      if (d.node.kind !== "map") {
        this.fail(file, d.node.pos, "E_RULE", "A rule document must be a map");
        continue;
      }
      let node: YMap = d.node;
      const action = entry(node, "action");
      if (action) {
        const a = action.value.kind === "scalar" ? action.value.value : undefined;
        node = { ...node, entries: node.entries.filter((e) => e.key !== "action") };
        if (a === "global") {
          global = global ? merge(global, node) : node;
          continue;
        }
        if (a === "reset") {
          global = undefined;
          continue;
        }
        if (a === "repeat") {
          if (!previous) {
            this.fail(file, action.value.pos, "E_RULE", '"action: repeat" has no previous rule');
            continue;
          }
          node = merge(previous, node);
        } else {
          this.fail(
            file,
            action.value.pos,
            "E_RULE",
            `Unknown action ${JSON.stringify(a)}; expected global, reset or repeat`,
          );
          continue;
        }
      }
      const full = global ? merge(global, node) : node;
      previous = full;
      this.addDocument(full, file, d.index, d.pos);
    }
  }

  fail(file: string, pos: Pos, code: string, message: string): void {
    this.errors.push(new RuleError(code, file, pos.line, pos.col, message));
  }

  addDocument(doc: YMap, file: string, index: number, pos: Pos): void {
    const before = this.errors.length;
    const meta = readMeta(doc, file, index, pos, this.errors);
    const corr = entry(doc, "correlation");
    if (corr) {
      for (const k of ["detection", "logsource"]) {
        const e = entry(doc, k);
        if (e) {
          this.fail(file, e.keyNode.pos, "E_RULE", `A correlation rule cannot have "${k}"`);
        }
      }
      const { parsed, refs } = parseCorrelation(doc, file, this.errors);
      if (!meta || !parsed || this.errors.length > before) {
        this.brokenRefs.push({ file, refs });
        return;
      }
      this.correlations.push({ ...meta, parsed });
      return;
    }
    const ls = entry(doc, "logsource");
    const det = entry(doc, "detection");
    if (!ls) this.fail(file, pos, "E_RULE", 'The rule has no "logsource"');
    if (!det) this.fail(file, pos, "E_RULE", 'The rule has no "detection"');
    const logsource = ls ? readLogsource(ls, file, this.errors) : undefined;
    const test = det ? compileDetection(det.value, file, this.errors) : undefined;
    if (!meta || !logsource || !test || this.errors.length > before) return;
    const { level, ...rest } = meta;
    this.rules.push({
      rule: {
        ...rest.meta,
        level,
        kind: "rule",
        severity: level ? LEVEL_SEVERITY[level] : "medium",
        standalone: true,
        logsource,
        test,
      },
      idPos: rest.idPos,
      namePos: rest.namePos,
    });
  }

  finish(): LoadResult {
    const all: Named[] = [
      ...this.rules.map((r) => ({ ...r.rule, idPos: r.idPos, namePos: r.namePos })),
      ...this.correlations.map((c) => ({ ...c.meta, idPos: c.idPos, namePos: c.namePos })),
    ];
    // Ids and names are how correlations refer to rules, so together they must be unique; the
    // later duplicate is the one reported and left out.
    const byRef = new Map<string, Named>();
    const dropped = new Set<number>();
    all.forEach((n, i) => {
      for (const what of ["id", "name"] as const) {
        const value = n[what];
        if (value === undefined || (what === "name" && value === n.id)) continue;
        const first = byRef.get(value);
        if (!first) {
          byRef.set(value, n);
          continue;
        }
        const pos = (what === "id" ? n.idPos : n.namePos) ?? { line: 0, col: 0 };
        this.fail(
          n.file,
          pos,
          "E_DUPLICATE",
          `Duplicate ${what} "${value}" (first in ${first.file})`,
        );
        dropped.add(i);
      }
    });
    const rules = this.rules.filter((_, i) => !dropped.has(i)).map((r) => r.rule);
    const pending = this.correlations.filter((_, i) => !dropped.has(this.rules.length + i));

    const keyOf = new Map<string, string>(); // id or name → key
    for (const n of [...rules, ...pending.map((p) => p.meta)]) {
      if (n.id !== undefined) keyOf.set(n.id, n.key);
      if (n.name !== undefined) keyOf.set(n.name, n.key);
    }
    const resolve = (r: RuleRef, file: string): string | undefined => {
      const k = keyOf.get(r.ref);
      if (k === undefined) {
        const known = [...keyOf.keys()];
        this.fail(file, r.pos, "E_REFERENCE", `Unknown rule "${r.ref}"${didYouMean(r.ref, known)}`);
      }
      return k;
    };

    for (const b of this.brokenRefs) for (const r of b.refs) resolve(r, b.file);

    let correlations: CorrelationRule[] = [];
    for (const p of pending) {
      const before = this.errors.length;
      const refs = p.parsed.refs.map((r) => resolve(r, p.meta.file));
      const aliases: Record<string, Record<string, string>> = {};
      for (const a of p.parsed.aliases) {
        const k = resolve(a.ref, p.meta.file);
        if (k === undefined) continue;
        if (!refs.includes(k)) {
          this.fail(
            p.meta.file,
            a.ref.pos,
            "E_REFERENCE",
            `Alias "${a.alias}" names rule "${a.ref.ref}", which is not in this correlation's rules`,
          );
        }
        (aliases[a.alias] ??= {})[k] = a.field;
      }
      if (this.errors.length > before) continue;
      const { parsed } = p;
      correlations.push({
        ...p.meta,
        level: p.level,
        kind: "correlation",
        severity: p.level ? LEVEL_SEVERITY[p.level] : "medium",
        standalone: true,
        type: parsed.type,
        rules: refs as string[],
        groupBy: parsed.groupBy,
        timespan: parsed.timespan,
        timespanMs: parsed.timespanMs,
        condition: parsed.condition,
        aliases,
        generate: parsed.generate,
      });
    }

    // Correlations that refer to each other in a loop could never fire; report and drop them.
    const corrByKey = new Map(correlations.map((c) => [c.key, c]));
    const cyclic = new Set<string>();
    const visit = (c: CorrelationRule, path: string[]) => {
      if (path.includes(c.key)) {
        for (const k of path.slice(path.indexOf(c.key))) cyclic.add(k);
        return;
      }
      for (const r of c.rules) {
        const next = corrByKey.get(r);
        if (next) visit(next, [...path, c.key]);
      }
    };
    for (const c of correlations) visit(c, []);
    for (const k of cyclic) {
      const c = corrByKey.get(k)!;
      this.fail(
        c.file,
        { line: c.line, col: 1 },
        "E_REFERENCE",
        `Correlation "${c.title}" refers to itself through ${c.rules.join(", ")}`,
      );
    }
    correlations = correlations.filter((c) => !cyclic.has(c.key));

    // Referred rules stay quiet unless a correlation over them says `generate: true`.
    const generates = new Map<string, boolean>();
    for (const c of correlations) {
      for (const r of c.rules) generates.set(r, (generates.get(r) ?? false) || c.generate);
    }
    for (const r of [...rules, ...correlations]) r.standalone = generates.get(r.key) ?? true;

    // A correlation without a level is as severe as the most severe rule it refers to.
    const sev = new Map<string, Severity>(rules.map((r) => [r.key, r.severity]));
    const severityOf = (c: CorrelationRule, depth = 0): Severity => {
      if (c.level || depth > corrByKey.size) return c.severity;
      let best = 0;
      for (const r of c.rules) {
        const inner = corrByKey.get(r);
        const s = inner ? severityOf(inner, depth + 1) : sev.get(r);
        if (s) best = Math.max(best, SEVERITIES.indexOf(s));
      }
      return SEVERITIES[best];
    };
    for (const c of correlations) c.severity = severityOf(c);

    return { rules, correlations, errors: this.errors };
  }
}

/** Deep merge for rule collections: maps merge key by key, anything else is replaced. */
function merge(base: YMap, over: YMap): YMap {
  const entries: YEntry[] = base.entries.map((e) => ({ ...e }));
  for (const o of over.entries) {
    const i = entries.findIndex((e) => e.key === o.key);
    if (i < 0) entries.push(o);
    else if (entries[i].value.kind === "map" && o.value.kind === "map") {
      entries[i] = { ...o, value: merge(entries[i].value as YMap, o.value) };
    } else entries[i] = o;
  }
  return { kind: "map", entries, pos: over.pos };
}

function readMeta(
  doc: YMap,
  file: string,
  index: number,
  pos: Pos,
  errors: RuleError[],
):
  | {
    meta: Omit<RuleMeta, "severity" | "standalone" | "level">;
    level?: SigmaLevel;
    idPos?: Pos;
    namePos?: Pos;
  }
  | undefined {
  let ok = true;
  const fail = (n: { pos: Pos }, code: string, msg: string) => {
    errors.push(new RuleError(code, file, n.pos.line, n.pos.col, msg));
    ok = false;
  };
  const text = (key: string): string | undefined => {
    const e = entry(doc, key);
    if (!e) return undefined;
    if (e.value.kind !== "scalar" || e.value.value === null || typeof e.value.value === "boolean") {
      fail(e.value, "E_RULE", `"${key}" must be text`);
      return undefined;
    }
    return String(e.value.value);
  };
  const list = (key: string, allowOne: boolean): string[] => {
    const e = entry(doc, key);
    if (!e) return [];
    if (e.value.kind === "scalar" && allowOne && typeof e.value.value === "string") {
      return [e.value.value];
    }
    if (e.value.kind !== "seq") {
      fail(e.value, "E_RULE", `"${key}" must be a list of texts`);
      return [];
    }
    const out: string[] = [];
    for (const i of e.value.items) {
      if (i.kind !== "scalar" || i.value === null || typeof i.value === "boolean") {
        fail(i, "E_RULE", `"${key}" must be a list of texts`);
      } else out.push(String(i.value));
    }
    return out;
  };

  const title = text("title");
  const titleEntry = entry(doc, "title");
  if (!titleEntry) fail({ pos }, "E_RULE", 'The rule has no "title"');
  else if (title !== undefined && (title.trim() === "" || title.length > 256)) {
    fail(titleEntry.value, "E_RULE", '"title" must be 1 to 256 characters');
  }
  const id = text("id");
  const name = text("name");
  const status = text("status");
  if (status !== undefined && !STATUSES.includes(status)) {
    fail(
      entry(doc, "status")!.value,
      "E_RULE",
      `Unknown status "${status}"${didYouMean(status, STATUSES)}; expected ${STATUSES.join(", ")}`,
    );
  }
  const levelText = text("level");
  let level: SigmaLevel | undefined;
  if (levelText !== undefined) {
    if ((LEVELS as string[]).includes(levelText)) level = levelText as SigmaLevel;
    else {
      fail(
        entry(doc, "level")!.value,
        "E_RULE",
        `Unknown level "${levelText}"${didYouMean(levelText, LEVELS)}; expected ${
          LEVELS.join(", ")
        }`,
      );
    }
  }
  const tags = list("tags", false);
  const tagEntry = entry(doc, "tags");
  if (tagEntry?.value.kind === "seq") {
    tagEntry.value.items.forEach((n, i) => {
      if (
        n.kind === "scalar" && typeof n.value === "string" &&
        !/^[a-z0-9_-]+\.[a-z0-9_.-]+$/.test(n.value)
      ) {
        fail(n, "E_RULE", `Tag "${tags[i]}" must be namespace.value in lower case (attack.t1059)`);
      }
    });
  }
  const meta = {
    key: id ?? name ?? `${file}#${index + 1}`,
    id,
    name,
    title: title ?? "",
    status,
    description: text("description"),
    author: text("author"),
    tags,
    references: list("references", false),
    falsepositives: list("falsepositives", true),
    fields: list("fields", false),
    file,
    line: pos.line,
  };
  if (!ok) return undefined;
  return {
    meta,
    level,
    idPos: entry(doc, "id")?.value.pos,
    namePos: entry(doc, "name")?.value.pos,
  };
}

function readLogsource(
  e: YEntry,
  file: string,
  errors: RuleError[],
): CompiledRule["logsource"] | undefined {
  const v: YNode = e.value;
  if (v.kind !== "map") {
    errors.push(new RuleError("E_RULE", file, v.pos.line, v.pos.col, '"logsource" must be a map'));
    return undefined;
  }
  const out: CompiledRule["logsource"] = {};
  let ok = true;
  for (const k of LOGSOURCE_KEYS) {
    const x = entry(v, k);
    if (!x) continue;
    if (x.value.kind !== "scalar" || typeof x.value.value !== "string" || x.value.value === "") {
      errors.push(
        new RuleError(
          "E_RULE",
          file,
          x.value.pos.line,
          x.value.pos.col,
          `"logsource.${k}" must be text`,
        ),
      );
      ok = false;
    } else out[k] = x.value.value.toLowerCase();
  }
  return ok ? out : undefined;
}
