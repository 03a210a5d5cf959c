/**
 * The globs of policy matches (`containers = ["web-*"]`): `*` is any run of characters
 * (`/` and `:` included, so `nginx*` matches `nginx:1.27`), `?` exactly one; everything else
 * is literal. Anchored at both ends and case-sensitive, as Docker names and images are.
 */

// A policy set has a few dozen globs and they are tried on every alert: compile each once.
const compiled = new Map<string, RegExp>();

/** The anchored RegExp for a glob. */
export function globToRegExp(glob: string): RegExp {
  let re = compiled.get(glob);
  if (!re) {
    let src = "^";
    for (const c of glob) {
      if (c === "*") src += "[^]*";
      else if (c === "?") src += "[^]";
      else src += c.replace(/[.+^${}()|[\]\\\/]/g, "\\$&");
    }
    re = new RegExp(src + "$", "u");
    if (compiled.size > 10_000) compiled.clear(); // reloads may bring new globs forever
    compiled.set(glob, re);
  }
  return re;
}

/**
 * True when `text` matches `glob` as a whole.
 *
 * @example
 * ```ts
 * import { globMatch } from "./glob.ts";
 * console.assert(globMatch("web-*", "web-1"));
 * console.assert(!globMatch("web-*", "my-web-1"));
 * console.assert(globMatch("nginx*", "nginx:1.27"));
 * console.assert(!globMatch("Web-?", "web-1"));
 * ```
 */
export function globMatch(glob: string, text: string): boolean {
  return globToRegExp(glob).test(text);
}
