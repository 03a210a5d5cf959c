/**
 * Where each key of a TOML document is written, so diagnostics can name `file:line:col`.
 *
 * smol-toml reports positions for syntax errors only; its parsed values carry none. This
 * scanner runs after a successful parse, so it may assume the text is valid TOML and only
 * needs to track table headers, key/value lines, strings and multi-line values.
 */

/** 1-based line and column of a key and of its value. */
export interface KeyPosition {
  line: number;
  col: number;
  valueLine: number;
  valueCol: number;
}

/**
 * Map every dotted key path (`general.log_level`, and table headers such as `general`) to
 * its position. The first definition wins.
 *
 * @example
 * ```ts
 * import { locateKeys } from "./toml_positions.ts";
 * const pos = locateKeys("[general]\nlog_level = \"info\"\n");
 * console.assert(pos.get("general.log_level")?.line === 2);
 * ```
 */
export function locateKeys(text: string): Map<string, KeyPosition> {
  const out = new Map<string, KeyPosition>();
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let depth = 0; // open [ or { of a value spanning lines
  let multiline: '"""' | "'''" | null = null;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let pos = 0;
    if (multiline) {
      const end = line.indexOf(multiline);
      if (end < 0) continue;
      multiline = null;
      pos = end + 3;
      const scan = scanValue(line, pos, depth);
      depth = scan.depth;
      multiline = scan.multiline;
      continue;
    }
    if (depth > 0) {
      const scan = scanValue(line, 0, depth);
      depth = scan.depth;
      multiline = scan.multiline;
      continue;
    }
    while (pos < line.length && (line[pos] === " " || line[pos] === "\t")) pos++;
    if (pos >= line.length || line[pos] === "#") continue;
    const lineNo = i + 1;
    if (line[pos] === "[") {
      const arrayTable = line[pos + 1] === "[";
      const start = pos + (arrayTable ? 2 : 1);
      const { parts, end } = readKeyPath(line, start, "]");
      table = parts;
      const name = parts.join(".");
      if (!out.has(name)) {
        out.set(name, { line: lineNo, col: pos + 1, valueLine: lineNo, valueCol: start + 1 });
      }
      void end;
      continue;
    }
    const { parts, end } = readKeyPath(line, pos, "=");
    let v = end + 1;
    while (v < line.length && (line[v] === " " || line[v] === "\t")) v++;
    // Every prefix of a dotted key (`a.b.c = 1` defines table `a.b`) gets this position.
    for (let k = 1; k <= parts.length; k++) {
      const name = [...table, ...parts.slice(0, k)].join(".");
      if (!out.has(name)) {
        out.set(name, { line: lineNo, col: pos + 1, valueLine: lineNo, valueCol: v + 1 });
      }
    }
    const scan = scanValue(line, v, 0);
    depth = scan.depth;
    multiline = scan.multiline;
  }
  return out;
}

/** Read a dotted key (bare or quoted parts) up to `stop`; returns the parts and stop index. */
function readKeyPath(line: string, start: number, stop: string): { parts: string[]; end: number } {
  const parts: string[] = [];
  let cur = "";
  let i = start;
  while (i < line.length && line[i] !== stop) {
    const c = line[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < line.length && line[j] !== c) {
        if (c === '"' && line[j] === "\\") j++;
        cur += line[j];
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === ".") {
      parts.push(cur.trim());
      cur = "";
    } else cur += c;
    i++;
  }
  parts.push(cur.trim());
  return { parts, end: i };
}

/** Follow a value to the end of the line, tracking brackets and multi-line strings. */
function scanValue(
  line: string,
  start: number,
  depth: number,
): { depth: number; multiline: '"""' | "'''" | null } {
  let i = start;
  while (i < line.length) {
    const c = line[i];
    if (c === "#") break;
    if (c === '"' || c === "'") {
      const triple = line.startsWith(c.repeat(3), i);
      if (triple) {
        const delim = c.repeat(3) as '"""' | "'''";
        const end = line.indexOf(delim, i + 3);
        if (end < 0) return { depth, multiline: delim };
        i = end + 3;
        continue;
      }
      let j = i + 1;
      while (j < line.length && line[j] !== c) {
        if (c === '"' && line[j] === "\\") j++;
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
    i++;
  }
  return { depth: Math.max(0, depth), multiline: null };
}
