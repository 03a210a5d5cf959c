/**
 * The contract every inventory format implements: a cheap name test, then a parse of the text.
 * Extractors are plain objects listed in `extractors.ts`; none registers itself on import.
 * A new format is its own file (usually one `lockfile({...})` call), its entry in
 * `EXTRACTORS`, and its test.
 */
import type { Component, Ecosystem } from "../component.ts";
import { Collector } from "./collect.ts";

/** What an extractor may ask of its caller besides the file's own text. */
export interface ExtractContext {
  /**
   * The text of another file the one being parsed refers to (a requirements `-r` include).
   * Throws when the file is missing, unreadable, too large or outside the scanned tree.
   */
  readText(path: string): string;
}

/** One inventory format. */
export interface Extractor {
  /** Stable name for reports and errors, e.g. `npm/package-lock`. */
  readonly name: string;
  /** The ecosystem its components belong to. */
  readonly ecosystem: Ecosystem;
  /**
   * Whether `path` is this format's file, from its name alone (no I/O): the walker calls it for
   * every file it meets.
   */
  fileRequired(path: string): boolean;
  /**
   * The components `text` (the content of `path`) declares. Throws only `InventoryError`.
   * `ctx` serves formats that include other files; without it they are read from disk.
   */
  extract(path: string, text: string, ctx?: ExtractContext): Component[];
  /**
   * Whether a file's first 64 KiB (`head`) is this format's, for a file under another name
   * (`ironpost scan --dir` opts in). Absent: the format is recognised by name only.
   */
  sniff?(head: string): boolean;
}

/** One package a lockfile lists, as `lockfile` extractors report it. */
export interface LockEntry {
  name: string;
  version: string;
  /** 1-based line of the entry, when the format lets it be found. */
  line: number | undefined;
  /** Dependency groups (`dev`, `optional`…); none means production. */
  groups?: string[];
  /** The VCS commit the entry pins, when it pins one (`""` for none). */
  commit?: string;
}

/** What a `lockfile` format declares: its identity, its file names, and a parse of its text. */
export interface LockfileFormat {
  name: string;
  ecosystem: Ecosystem;
  /** File base names (`Cargo.lock`); `fileRequired` overrides this test. */
  files?: readonly string[];
  fileRequired?(path: string): boolean;
  sniff?(head: string): boolean;
  /** Calls `add` for each entry of `text` (the content of `path`); throws `InventoryError`. */
  parse(path: string, text: string, add: (entry: LockEntry) => void): void;
}

/**
 * An extractor for a lockfile format: the components are the entries `parse` adds, of the
 * format's ecosystem, with `path` and the entry's line as origin, deduplicated by `Collector`.
 *
 * @example
 * ```ts
 * import { lockfile } from "./extractor.ts";
 * const x = lockfile({ name: "x/lines", ecosystem: "npm", files: ["x.lock"], parse(_p, text, add) {
 *   text.split("\n").forEach((l, i) => l && add({ name: l, version: "1.0.0", line: i + 1 }));
 * } });
 * console.assert(x.fileRequired("/a/x.lock") && x.extract("x.lock", "a\nb\na")[1].name === "b");
 * ```
 */
export function lockfile(format: LockfileFormat): Extractor {
  const { name, ecosystem, files = [], sniff, parse } = format;
  return {
    name,
    ecosystem,
    fileRequired: format.fileRequired ?? ((path) => files.includes(baseName(path))),
    extract(path: string, text: string): Component[] {
      const out = new Collector();
      parse(path, text, (e) =>
        out.add({
          name: e.name,
          version: e.version,
          ecosystem,
          origin: { file: path, line: e.line },
          groups: e.groups ?? [],
          ...(e.commit ? { commit: e.commit } : {}),
        }));
      return out.list();
    },
    ...(sniff ? { sniff } : {}),
  };
}

/** The last path segment (`/a/b/c.txt` → `c.txt`). */
export function baseName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? path : path.slice(slash + 1);
}

/** Whether `path` is `name` or ends with `/name`. */
export function pathEndsWith(path: string, name: string): boolean {
  return path === name || path.endsWith(`/${name}`);
}
