/**
 * File name patterns for `file_paths`: `*` (any run of characters but `/`), `?` (one
 * character) and `[abc]`/`[a-z]`/`[!abc]` classes, matched one path component at a time
 * against directory listings. `**` is not supported: log directories are shallow, and a
 * recursive walk every poll would cost more than it is worth.
 */

/** True when `segment` holds a wildcard. */
export function hasGlob(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/**
 * The directory a tailed path needs read access to: up to the first wildcard segment of a
 * glob, and a plain file's own directory (rotation replaces the file by a new one there).
 *
 * @example
 * ```ts
 * import { globRoot } from "./glob.ts";
 * console.assert(globRoot("/var/log/nginx/*.log") === "/var/log/nginx");
 * console.assert(globRoot("/var/log/auth.log") === "/var/log" && globRoot("/x") === "/");
 * ```
 */
export function globRoot(pattern: string): string {
  const parts = pattern.split("/");
  const i = parts.findIndex(hasGlob);
  return (i < 0 ? parts.slice(0, -1) : parts.slice(0, i)).join("/") || "/";
}

/**
 * A RegExp matching one path component against `pattern`. Like the shell, a wildcard does
 * not match a leading dot unless the pattern starts with one.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./glob.ts";
 * const re = globToRegExp("auth.log*");
 * console.assert(re.test("auth.log.1") && !re.test("xauth.log"));
 * console.assert(!globToRegExp("*.log").test(".hidden.log"));
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let re = pattern.startsWith(".") ? "" : "(?!\\.)";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      // A `]` right after `[` or `[!` is a member, not the end of the class.
      const first = pattern[i + 1] === "!" || pattern[i + 1] === "^" ? i + 2 : i + 1;
      const close = pattern.indexOf("]", first + 1);
      if (close === -1) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      // Inside a class only `\`, `]` and `^` are special to RegExp; `-` keeps its range role.
      re += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\/\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * Paths matching `pattern` now, sorted. A pattern without wildcards is returned as is,
 * existing or not (the tailer waits for it); a missing or unreadable directory matches
 * nothing.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split("/");
  if (!parts.some(hasGlob)) return [pattern];
  let bases = [parts[0]];
  for (let k = 1; k < parts.length; k++) {
    const seg = parts[k];
    const last = k === parts.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      const dir = base === "" ? "/" : base;
      if (!hasGlob(seg)) {
        next.push(`${base}/${seg}`);
        continue;
      }
      const re = globToRegExp(seg);
      try {
        for await (const e of Deno.readDir(dir)) {
          if (!re.test(e.name)) continue;
          // Intermediate components must lead somewhere (a symlink may point at a dir).
          if (!last && !(e.isDirectory || e.isSymlink)) continue;
          next.push(`${base}/${e.name}`);
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
          throw err;
        }
      }
    }
    bases = next;
  }
  return bases.sort();
}
