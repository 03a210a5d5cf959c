/**
 * Sigma `re` values, run on a linear-time engine.
 *
 * A rule's regex meets attacker-controlled text (a user name in an sshd line), so its match
 * time must not depend on how the text was crafted. Every Sigma regex is compiled with
 * `re2js` (Google's RE2, ported to JavaScript): RE2 runs in time linear in the text, for
 * every pattern it accepts, whoever calls it. The alternatives were weighed and refused:
 *
 * - V8 `RegExp` under `--enable-experimental-regexp-engine-on-excessive-backtracks` (what
 *   this file used to rely on) protects only a process started with that flag (the agent,
 *   not `deno run -A main.ts rules test`, nor a library user), and its fallback does not
 *   cover lookarounds and backreferences: `^(a+)+(?=!)\1$` still backtracks exponentially.
 * - A pre-check that refuses non-regular constructs, then V8 `RegExp`: `(a+)+$` is regular
 *   and still exponential on a backtracking engine without the flag.
 *
 * What RE2 cannot run (lookarounds, backreferences, atomic groups, possessive quantifiers,
 * conditionals, recursion) is refused when the rule loads, with the construct's position and
 * why, instead of being matched slowly.
 *
 * Cost, measured with `deno task bench:logs --only throughput,sigma` (200,000 sshd lines;
 * 3 runs each, V8 RegExp and RE2 interleaved on a shared 2-CPU host): shipped rules
 * 139–155k → 138–160k lines/s, 248 SigmaHQ + shipped rules 55–58k → 56–59k lines/s, i.e. no
 * change beyond noise; loading the 258 rules 0.2 → 0.3 s. One RE2 test costs 0.1–1 µs on a
 * 70-byte line (5–40× V8 on a benign line), paid only by rules whose logsource matches the
 * event, and never more than linear time on a hostile one.
 *
 * Sigma's flavour is PCRE. Rules often start with inline flags such as `(?i)`: leading flag
 * groups become engine flags, and only `i`, `m` and `s` are accepted there (the `re`
 * sub-modifiers). Differences from PCRE/JavaScript that matter for rules: `.` excludes only
 * `\n`, `\s` `\d` `\w` `\b` are ASCII, and `$` without `m` matches only at the very end.
 */

import { RE2JS } from "re2js";

/** The `re` sub-modifiers, which are also the inline flags a pattern may lead with. */
export interface RegexFlags {
  i?: boolean;
  m?: boolean;
  s?: boolean;
}

/** A compiled Sigma regex: `test` finds a match anywhere in the text, in linear time. */
export interface SigmaRegex {
  readonly source: string;
  test(text: string): boolean;
}

/** Why a pattern cannot be compiled, and where in the pattern (a 0-based offset). */
export interface RegexProblem {
  message: string;
  offset: number;
}

const LEADING_FLAGS = /^\(\?([a-zA-Z]+)\)/;

/**
 * Compile a Sigma regular expression, or say why it cannot be compiled and where.
 *
 * @example
 * ```ts
 * import { compileRegex } from "./regex.ts";
 * const re = compileRegex("(?i)/tmp/[a-z]+\\.sh$", {});
 * console.assert("test" in re && re.test("/TMP/x.SH"));
 * const bad = compileRegex("^(a+)+(?=!)\\1$", {});
 * console.assert("offset" in bad && bad.offset === 6);
 * ```
 */
export function compileRegex(pattern: string, flags: RegexFlags): SigmaRegex | RegexProblem {
  const f = { ...flags };
  let body = pattern;
  let skipped = 0;
  for (let m = LEADING_FLAGS.exec(body); m; m = LEADING_FLAGS.exec(body)) {
    for (const c of m[1]) {
      if (c !== "i" && c !== "m" && c !== "s") {
        return {
          message: `Inline flag "${c}" in "(?${m[1]})" is not supported (only i, m and s are)`,
          offset: skipped,
        };
      }
      f[c] = true;
    }
    body = body.slice(m[0].length);
    skipped += m[0].length;
  }
  const construct = nonRegular(body);
  if (construct) {
    return {
      message: `${construct.what} "${construct.text}" is not supported in "${pattern}": Sigma ` +
        "regexes run on a linear-time engine (RE2), which has no lookarounds, backreferences, " +
        "atomic groups or possessive quantifiers",
      offset: skipped + construct.offset,
    };
  }
  const engineFlags = (f.i ? RE2JS.CASE_INSENSITIVE : 0) | (f.m ? RE2JS.MULTILINE : 0) |
    (f.s ? RE2JS.DOTALL : 0);
  let re: RE2JS;
  try {
    re = RE2JS.compile(body, engineFlags);
  } catch (e) {
    const { message, fragment } = syntaxError(e);
    const at = fragment ? body.indexOf(fragment) : -1;
    return {
      message: `Invalid regular expression "${pattern}": ${message}`,
      offset: skipped + Math.max(at, 0),
    };
  }
  return { source: pattern, test: (text) => re.test(text) };
}

/** RE2's error, in the words V8 uses where they differ only in wording. */
function syntaxError(e: unknown): { message: string; fragment?: string } {
  const x = e as { error?: unknown; input?: unknown; message?: unknown };
  const fragment = typeof x.input === "string" && x.input !== "" ? x.input : undefined;
  const code = typeof x.error === "string" ? x.error : String(x.message ?? e);
  const words: Record<string, string> = {
    "missing closing )": "Unterminated group",
    "unexpected )": "Unmatched ')'",
    "missing closing ]": "Unterminated character class",
    "trailing backslash at end of expression": "\\ at end of pattern",
    "missing argument to repetition operator": "Nothing to repeat",
  };
  const message = words[code] ??
    code.charAt(0).toUpperCase() + code.slice(1) + (fragment ? `: \`${fragment}\`` : "");
  return { message, fragment };
}

/**
 * The first construct of `body` that no linear-time engine runs, or undefined. Escapes and
 * character classes are skipped, so `\(?=` and `[(?=]` are plain text.
 */
function nonRegular(
  body: string,
): { what: string; text: string; offset: number } | undefined {
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") {
      const next = body[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(next)) {
        const m = /^\\[1-9][0-9]*/.exec(body.slice(i))!;
        return { what: "The backreference", text: m[0], offset: i };
      }
      if (!inClass && next === "k" && /^[<{']/.test(body[i + 2] ?? "")) {
        return { what: "The named backreference", text: body.slice(i, i + 3), offset: i };
      }
      if (!inClass && next === "g" && /^[0-9{<'-]/.test(body[i + 2] ?? "")) {
        return { what: "The backreference", text: body.slice(i, i + 3), offset: i };
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      // A "]" first in the class (after an optional "^") is a literal.
      if (body[i + 1] === "^") i++;
      if (body[i + 1] === "]") i++;
      continue;
    }
    if (c === "(" && body[i + 1] === "?") {
      const rest = body.slice(i + 2);
      const kinds: [RegExp, string][] = [
        [/^=/, "The lookahead"],
        [/^!/, "The negative lookahead"],
        [/^<=/, "The lookbehind"],
        [/^<!/, "The negative lookbehind"],
        [/^>/, "The atomic group"],
        [/^\(/, "The conditional group"],
        [/^(R|[0-9]+|[+-][0-9]+|&|P>)/, "The recursion"],
        [/^\|/, "The branch reset group"],
      ];
      for (const [re, what] of kinds) {
        const m = re.exec(rest);
        if (m) return { what, text: `(?${m[0]}`, offset: i };
      }
      continue;
    }
    if ((c === "*" || c === "+" || c === "?" || c === "}") && body[i + 1] === "+") {
      // `a++`, `a*+`, `a?+`, `a{2}+`: possessive (RE2 would call it nested repetition).
      const quantified = c !== "}" || /\{[0-9]+(,[0-9]*)?\}$/.test(body.slice(0, i + 1));
      if (quantified && i > 0) {
        return { what: "The possessive quantifier", text: `${c}+`, offset: i };
      }
    }
  }
  return undefined;
}
