/**
 * The contract every inventory format implements: a cheap name test, then a parse of the text.
 * Extractors are plain objects listed in `extractors.ts`; none registers itself on import.
 */
import type { Component, Ecosystem } from "../component.ts";

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
