/**
 * pip requirements files (`requirements*.txt`), following `-r` includes. Each component's
 * group is the file that declares it, without its extension (`requirements-dev`), so a report
 * can say which file to edit.
 */
import { errorMessage } from "../../core/errors.ts";
import type { Component } from "../component.ts";
import { Collector } from "./collect.ts";
import { InventoryError, malformed } from "./errors.ts";
import { baseName, type ExtractContext, type Extractor } from "./extractor.ts";
import { splitLines } from "./lines.ts";

/** Includes deeper than this are refused; real projects nest two or three. */
const MAX_INCLUDE_DEPTH = 32;

/** PEP 503 normalisation: `Zope.Interface` and `zope-interface` are one project. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** `dir/a/../b.txt` → `dir/b.txt` (pure string work: the file may not exist yet). */
function resolvePath(fromFile: string, target: string): string {
  const base = target.startsWith("/")
    ? ""
    : fromFile.includes("/")
    ? fromFile.slice(0, fromFile.lastIndexOf("/"))
    : ".";
  const parts: string[] = [];
  const absolute = target.startsWith("/") || base.startsWith("/");
  for (const part of `${base}/${target}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (part !== ".." || !absolute) parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/");
}

/** A logical line: physical lines joined at trailing `\`, with the first one's number. */
interface Logical {
  line: number;
  text: string;
}

/**
 * Physical lines joined as pip joins them: a line ending in `\` continues on the next (all its
 * trailing backslashes dropped), except a comment line; comments (`#` at the start or after
 * whitespace) are stripped after joining.
 */
function logicalLines(text: string): Logical[] {
  const out: Logical[] = [];
  let parts: string[] = [];
  let start = 0;
  splitLines(text).forEach((raw, i) => {
    if (parts.length === 0) start = i + 1;
    const isComment = /^\s*#/.test(raw);
    if (raw.endsWith("\\") && !isComment) {
      // All trailing backslashes dropped, by a loop: `/\\+$/` retried from every backslash of
      // a run not at the end (a line of 200,000 backslashes, an "x" and one more took 15 s).
      let end = raw.length;
      while (end > 0 && raw[end - 1] === "\\") end--;
      parts.push(raw.slice(0, end));
      return;
    }
    parts.push(isComment && parts.length > 0 ? ` ${raw}` : raw);
    out.push({ line: start, text: parts.join("") });
    parts = [];
  });
  if (parts.length > 0) out.push({ line: start, text: parts.join("") });
  // `s`: `.` must reach the end of the line past a \r or \u2028, or `$` fails and the
  // pattern is retried from every " #" of the line (" #" 100,000 times and a \u2028: 11 s).
  return out.map((l) => ({ line: l.line, text: l.text.replace(/(^|\s)#.*$/s, "").trim() }));
}

/** A requirement's name, extras and what follows (`Twisted[http2] >= 20; python_version…`). */
const REQUIREMENT = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/s;
/** One version clause of a specifier list. */
const CLAUSE = /^(~=|===|==|!=|<=|>=|<|>)\s*([^\s,;]+)$/;

/** What the argument of an option is: `-r x`, `-rx`, `--requirement x`, `--requirement=x`. */
function optionArgument(text: string, short: string, long: string): string | undefined {
  for (const flag of [long, short]) {
    if (!text.startsWith(flag)) continue;
    const rest = text.slice(flag.length);
    if (flag === long && !/^[\s=]/.test(rest)) continue;
    return rest.replace(/^[\s=]+/, "").trim();
  }
  return undefined;
}

/** Lines pip installs from a path or URL instead of a name: nothing to name a component by. */
function isPathOrUrl(text: string): boolean {
  return text.includes("/") || text.includes("\\") || text.startsWith(".") ||
    /\.(whl|zip|tar\.gz|tar\.bz2|tgz)$/.test(text);
}

class Reader {
  readonly #ctx: ExtractContext;
  readonly #seen = new Set<string>();
  // One file's copies merge; the same pin in two files stays two components (two groups).
  readonly out = new Collector((c) => `${c.origin.file}\0${c.name}\0${c.version}`);

  constructor(ctx: ExtractContext) {
    this.#ctx = ctx;
  }

  read(file: string, text: string, depth: number): void {
    this.#seen.add(resolvePath("", file));
    const group = baseName(file).replace(/\.[^.]*$/, "");
    for (const { line, text: l } of logicalLines(text)) {
      if (l === "") continue;
      if (l.startsWith("-")) {
        const include = optionArgument(l, "-r", "--requirement");
        if (include !== undefined) this.#include(file, line, include, depth);
        // Other options (-c constraints, -e editables, --index-url, …) declare no package.
        continue;
      }
      this.#requirement(file, line, group, l);
    }
  }

  #include(file: string, line: number, target: string, depth: number): void {
    if (target === "") throw malformed(file, line, "-r needs a file name");
    const path = resolvePath(file, target);
    if (this.#seen.has(path)) return; // a cycle, or a file already read through another -r
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw new InventoryError("E_INCLUDE", file, line, `Includes nest deeper than ${depth}`);
    }
    let text: string;
    try {
      text = this.#ctx.readText(path);
    } catch (e) {
      const code = e instanceof InventoryError
        ? e.code
        : e instanceof Deno.errors.NotFound
        ? "E_NOT_FOUND"
        : "E_READ";
      const why = errorMessage(e);
      throw new InventoryError(code, file, line, `Cannot read included ${target}: ${why}`, {
        cause: e,
      });
    }
    this.read(path, text, depth + 1);
  }

  #requirement(file: string, line: number, group: string, text: string): void {
    // Per-requirement options (--hash=…, --global-option) and environment markers follow.
    // `s` as for comments: without it, " -a" or ";" many times and a \u2028 were quadratic.
    const cleaned = text.replace(/\s--?[A-Za-z].*$/s, "").replace(/;.*$/s, "").trim();
    const m = REQUIREMENT.exec(cleaned);
    const rest = m?.[3].trim() ?? "";
    if (m === null || (rest !== "" && !rest.startsWith("@") && !/^[~=!<>]/.test(rest))) {
      if (isPathOrUrl(text)) return;
      throw malformed(file, line, `Not a requirement: "${text}"`);
    }
    const name = normalizeName(m[1]);
    const base: Component = {
      name,
      version: "",
      ecosystem: "PyPI",
      origin: { file, line },
      groups: [group],
    };
    if (rest.startsWith("@")) {
      this.out.add({ ...base, note: `unpinned: direct reference ${rest.slice(1).trim()}` });
      return;
    }
    const clauses = rest === "" ? [] : rest.split(",").map((c) => c.trim());
    const parsed = clauses.map((c) => CLAUSE.exec(c));
    if (parsed.some((p) => p === null)) {
      throw malformed(file, line, `Bad version specifier "${rest}"`);
    }
    const pin = parsed.length === 1 ? parsed[0] : null;
    if (pin && (pin[1] === "==" || pin[1] === "===") && !pin[2].includes("*")) {
      this.out.add({ ...base, version: pin[2] });
      return;
    }
    // Not one exact version: which gets installed is pip's choice at install time.
    const spec = parsed.map((p) => `${p?.[1]}${p?.[2]}`).join(",");
    const note = spec === "" ? "unpinned: any version" : `unpinned: ${spec}`;
    this.out.add({ ...base, note });
  }
}

/** Reads includes from disk when the caller gives no context. */
const DISK: ExtractContext = { readText: (path) => Deno.readTextFileSync(path) };

/**
 * requirements files. A requirement pinned to one version (`==`, `===`, no wildcard) gets it;
 * any other gets version "" and a `note` saying why (`unpinned: >=4.1.1`). Paths and URLs
 * are skipped; a line pip would reject is `E_MALFORMED`; a missing `-r` file is `E_NOT_FOUND`
 * against the line that includes it.
 *
 * @example
 * ```ts
 * import { requirementsTxt } from "./requirements_txt.ts";
 * const [a, b] = requirementsTxt.extract("app/requirements.txt", "Django==2.2.24\nflask>=2\n");
 * console.assert(a.name === "django" && a.version === "2.2.24" && a.groups[0] === "requirements");
 * console.assert(b.version === "" && b.note === "unpinned: >=2" && b.origin.line === 2);
 * ```
 */
export const requirementsTxt: Extractor = {
  name: "pypi/requirements",
  ecosystem: "PyPI",
  fileRequired(path: string): boolean {
    return /^requirements.*\.txt$/.test(baseName(path));
  },
  extract(path: string, text: string, ctx?: ExtractContext): Component[] {
    const reader = new Reader(ctx ?? DISK);
    reader.read(path, text, 0);
    return reader.out.list();
  },
};
