/**
 * `yarn.lock`, both generations: v1 (yarn classic's own indented format) and berry (yarn 2+,
 * YAML with a `__metadata` entry).
 */
import { malformed } from "./errors.ts";
import { type LockEntry, lockfile } from "./extractor.ts";
import { gitCommitOf } from "./git_commit.ts";
import { splitLines } from "./lines.ts";
import { parseYamlMapping } from "./parse_text.ts";
import { isDict, str } from "./values.ts";

/** The package a descriptor (`name@range`, `@scope/name@range`) names; npm aliases resolve. */
function nameOfDescriptor(descriptor: string): string {
  const at = descriptor.indexOf("@", 1);
  if (at < 0) return descriptor;
  const name = descriptor.slice(0, at);
  const range = descriptor.slice(at + 1);
  // "alias@npm:real-name@^1.0.0" installs real-name; "name@npm:^1.0.0" is berry's plain range.
  if (range.startsWith("npm:")) {
    const target = range.slice(4);
    const targetAt = target.indexOf("@", 1);
    if (targetAt > 0) return target.slice(0, targetAt);
  }
  return name;
}

/** One token: a double-quoted JSON string, or everything up to `stop` (or the end). */
function readToken(s: string, from: number, stop: RegExp): { value: string; end: number } | null {
  if (s[from] === '"') {
    for (let i = from + 1; i < s.length; i++) {
      if (s[i] === "\\") {
        i++;
        continue;
      }
      if (s[i] === '"') {
        try {
          const value: unknown = JSON.parse(s.slice(from, i + 1));
          return typeof value === "string" ? { value, end: i + 1 } : null;
        } catch {
          return null;
        }
      }
    }
    return null;
  }
  const rest = s.slice(from);
  const m = stop.exec(rest);
  const len = m ? m.index : rest.length;
  return { value: rest.slice(0, len), end: from + len };
}

/** The descriptors of a v1 entry header (`a@^1, "b@git+ssh://x#y":`), unquoted. */
function headerDescriptors(file: string, line: number, header: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < header.length) {
    const tok = readToken(header, i, /,/);
    if (tok === null) throw malformed(file, line, "Unterminated quoted string in entry header");
    out.push(tok.value.trim());
    i = tok.end;
    while (header[i] === " ") i++;
    if (i < header.length) {
      if (header[i] !== ",") throw malformed(file, line, "Expected ',' between descriptors");
      i++;
      while (header[i] === " ") i++;
    }
  }
  return out;
}

interface V1Entry {
  line: number;
  descriptors: string[];
  fields: Map<string, string>;
}

/**
 * Reads a yarn v1 lockfile. Written by hand: the format is yarn's own (not YAML: unquoted keys
 * with spaces, `key "value"` pairs, comma-joined headers) and no maintained npm package parses
 * it apart from yarn itself. Only what inventory needs is kept: each entry's descriptors, its
 * line, and its top-level string fields (`version`, `resolved`); nested maps are skipped.
 */
function parseV1(file: string, text: string): V1Entry[] {
  const entries: V1Entry[] = [];
  let current: V1Entry | undefined;
  splitLines(text).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const indent = raw.length - raw.trimStart().length;
    if (raw.slice(0, indent).includes("\t")) throw malformed(file, line, "Tab in indentation");
    if (indent % 2 !== 0) throw malformed(file, line, `Odd indentation (${indent} spaces)`);
    if (indent === 0) {
      if (!trimmed.endsWith(":")) {
        throw malformed(file, line, "Expected an entry header ending in ':'");
      }
      current = {
        line,
        descriptors: headerDescriptors(file, line, trimmed.slice(0, -1)),
        fields: new Map(),
      };
      entries.push(current);
      return;
    }
    if (current === undefined) throw malformed(file, line, "Indented line outside an entry");
    // Deeper lines belong to a nested map (dependencies, …), which inventory does not need.
    if (indent > 2) return;
    const key = readToken(trimmed, 0, /[\s:]/);
    if (key === null) throw malformed(file, line, "Unterminated quoted key");
    const rest = trimmed.slice(key.end);
    // "dependencies:" opens a nested map.
    if (rest === ":") return;
    const value = readToken(rest.trimStart(), 0, /$/);
    if (value === null || !/^\s/.test(rest)) {
      throw malformed(file, line, `Expected 'key value' or 'key:', got "${trimmed}"`);
    }
    current.fields.set(key.value, value.value);
  });
  return entries;
}

type Add = (entry: LockEntry) => void;

function fromV1(path: string, text: string, add: Add): void {
  for (const entry of parseV1(path, text)) {
    const version = entry.fields.get("version");
    if (version === undefined) throw malformed(path, entry.line, "Entry has no version");
    const commit = gitCommitOf(entry.fields.get("resolved") ?? "");
    add({ name: nameOfDescriptor(entry.descriptors[0] ?? ""), version, line: entry.line, commit });
  }
}

/**
 * Berry: every entry but `__metadata`. Workspace entries (`name@workspace:…`, version
 * `0.0.0-use.local`) are kept: osv-scanner reports them too, and they name the project.
 */
function fromBerry(path: string, text: string, add: Add): void {
  const doc = parseYamlMapping(path, text);
  const lines = doc.keyLines([]);
  for (const [key, raw] of Object.entries(doc.data)) {
    if (key === "__metadata" || !isDict(raw)) continue;
    const line = lines.get(key);
    const version = str(raw.version);
    if (version === undefined) throw malformed(path, line ?? 0, `Entry "${key}" has no version`);
    const resolution = str(raw.resolution) ?? "";
    const name = nameOfDescriptor(resolution || key.split(",")[0].trim());
    // The resolution is "name@protocol:…"; the commit is in the part after the name.
    const commit = gitCommitOf(resolution.slice(name.length + 1));
    add({ name, version, line, commit });
  }
}

/**
 * yarn lockfiles. Berry files are told apart by their top-level `__metadata` entry; anything
 * else is read as v1 (whose `# yarn lockfile v1` header is only a comment).
 *
 * @example
 * ```ts
 * import { yarnLock } from "./yarn_lock.ts";
 * const text = '# yarn lockfile v1\n\n"@babel/core@^7.0.0":\n  version "7.1.0"\n';
 * const [c] = yarnLock.extract("yarn.lock", text);
 * console.assert(c.name === "@babel/core" && c.version === "7.1.0" && c.origin.line === 3);
 * ```
 */
export const yarnLock = lockfile({
  name: "npm/yarn-lock",
  ecosystem: "npm",
  files: ["yarn.lock"],
  sniff: (t) =>
    /^# yarn lockfile v1/m.test(t) || /^__metadata:/m.test(t) ||
    (/^ {2}version "?\d/m.test(t) && /^ {2}resolved /m.test(t)),
  parse(path, text, add) {
    if (/^"?__metadata"?:/m.test(text)) fromBerry(path, text, add);
    else fromV1(path, text, add);
  },
});
