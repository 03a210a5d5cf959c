/**
 * Sigma `re` values as JavaScript RegExps.
 *
 * Sigma's flavour is PCRE. Rules often start with inline flags such as `(?i)`, which
 * JavaScript rejects, so leading flag groups become RegExp flags. Everything else is left to
 * the RegExp parser; what it refuses becomes an `E_REGEX` rule error.
 *
 * Catastrophic backtracking is handled by V8, not here: the agent runs with
 * `--enable-experimental-regexp-engine-on-excessive-backtracks`, which switches a match that
 * backtracks too much to V8's linear-time engine.
 */

import { errorMessage } from "../../core/mod.ts";

/** The `re` sub-modifiers, which are also the inline flags a pattern may lead with. */
export interface RegexFlags {
  i?: boolean;
  m?: boolean;
  s?: boolean;
}

const LEADING_FLAGS = /^\(\?([a-zA-Z]+)\)/;

/**
 * Compile a Sigma regular expression, or return why it cannot be compiled.
 *
 * @example
 * ```ts
 * import { compileRegex } from "./regex.ts";
 * const re = compileRegex("(?i)/tmp/[a-z]+\\.sh$", {});
 * console.assert(re instanceof RegExp && re.test("/TMP/x.SH"));
 * ```
 */
export function compileRegex(pattern: string, flags: RegexFlags): RegExp | string {
  const f = { ...flags };
  let body = pattern;
  for (let m = LEADING_FLAGS.exec(body); m; m = LEADING_FLAGS.exec(body)) {
    for (const c of m[1]) {
      if (c !== "i" && c !== "m" && c !== "s") {
        return `Inline flag "${c}" in "(?${m[1]})" is not supported (only i, m and s are)`;
      }
      f[c] = true;
    }
    body = body.slice(m[0].length);
  }
  const jsFlags = (f.i ? "i" : "") + (f.m ? "m" : "") + (f.s ? "s" : "");
  try {
    return new RegExp(body, jsFlags);
  } catch (e) {
    const why = errorMessage(e);
    return `Invalid regular expression "${pattern}": ${
      why.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "")
    }`;
  }
}
