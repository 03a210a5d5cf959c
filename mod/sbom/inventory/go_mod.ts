/** `go.mod`: a Go module's requirements, with `replace` applied and the Go toolchain as `stdlib`. */
import { malformed } from "./errors.ts";
import { lockfile } from "./extractor.ts";
import { splitLines } from "./lines.ts";

/** Every directive go.mod allows (go.dev/ref/mod#go-mod-file-grammar); others are errors. */
const VERBS = new Set([
  "module",
  "go",
  "toolchain",
  "godebug",
  "require",
  "exclude",
  "replace",
  "retract",
  "tool",
  "ignore",
]);

/** A line's tokens: words, quoted strings (unquoted), `(`, `)`, `=>`; `//` starts a comment. */
function tokenize(file: string, lineNo: number, line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === " " || ch === "\t") {
      i++;
    } else if (line.startsWith("//", i)) {
      break;
    } else if (ch === "(" || ch === ")") {
      tokens.push(ch);
      i++;
    } else if (line.startsWith("=>", i)) {
      tokens.push("=>");
      i += 2;
    } else if (ch === '"' || ch === "`") {
      let j = i + 1;
      while (j < line.length && line[j] !== ch) j += ch === '"' && line[j] === "\\" ? 2 : 1;
      if (j >= line.length) throw malformed(file, lineNo, "Unterminated quoted string");
      const quoted = line.slice(i, j + 1);
      let value: unknown = quoted.slice(1, -1);
      if (ch === '"') {
        try {
          value = JSON.parse(quoted);
        } catch {
          throw malformed(file, lineNo, `Invalid quoted string ${quoted}`);
        }
      }
      tokens.push(String(value));
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && !' \t()"`'.includes(line[j]) && !line.startsWith("//", j)) j++;
      tokens.push(line.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

interface Require {
  path: string;
  version: string;
  line: number;
}

interface Replace {
  oldPath: string;
  oldVersion?: string;
  newPath: string;
  newVersion?: string;
}

/** Module versions are reported without their `v`, as OSV's Go records write them. */
function bare(version: string): string {
  return version.startsWith("v") ? version.slice(1) : version;
}

/** A replacement that is a directory rather than a module (`./fork`, `../x`, `/abs`). */
function isLocalPath(path: string): boolean {
  return path.startsWith("./") || path.startsWith("../") || path.startsWith("/") ||
    path === "." || path === "..";
}

/**
 * go.mod files. Requirements (direct and `// indirect`) become components; a `replace`
 * swaps in its target (a version-specific replace beats a path-wide one; a local directory has
 * no version); the `go` directive, or `toolchain` when set (the compiler that builds the module
 * and so the standard library shipped), becomes the `stdlib` component. Any line that is not a
 * go.mod directive is `E_MALFORMED`.
 *
 * @example
 * ```ts
 * import { goMod } from "./go_mod.ts";
 * const text = "module m\n\ngo 1.22.1\n\nrequire golang.org/x/net v0.23.0\n";
 * const names = goMod.extract("go.mod", text).map((c) => `${c.name}@${c.version}`);
 * console.assert(names.join(" ") === "golang.org/x/net@0.23.0 stdlib@1.22.1");
 * ```
 */
export const goMod = lockfile({
  name: "go/go-mod",
  ecosystem: "Go",
  files: ["go.mod"],
  sniff: (t) =>
    (/^module\s+\S+/m.test(t) && (/^go\s+\d/m.test(t) || /^require\b/m.test(t))) ||
    /^require\s*\(\s*\n\s+\S+\s+v\d/m.test(t) || /^require\s+\S+\s+v\d/m.test(t),
  parse(path, text, add) {
    const requires: Require[] = [];
    const replaces: Replace[] = [];
    let goVersion: { version: string; line: number } | undefined;
    let toolchain = "";
    let block = "";
    const directive = (verb: string, args: string[], line: number): void => {
      const bad = (what: string) => malformed(path, line, `Invalid ${verb} directive: ${what}`);
      if (verb === "require") {
        if (args.length !== 2) throw bad("expected a module path and a version");
        requires.push({ path: args[0], version: args[1], line });
      } else if (verb === "replace") {
        const arrow = args.indexOf("=>");
        const left = args.slice(0, arrow);
        const right = args.slice(arrow + 1);
        if (
          arrow < 0 || left.length < 1 || left.length > 2 || right.length < 1 || right.length > 2
        ) {
          throw bad("expected 'path [version] => path [version]'");
        }
        replaces.push({
          oldPath: left[0],
          oldVersion: left[1],
          newPath: right[0],
          newVersion: right[1],
        });
      } else if (verb === "go") {
        if (args.length !== 1) throw bad("expected one version");
        goVersion = { version: args[0], line };
      } else if (verb === "toolchain") {
        if (args.length !== 1) throw bad("expected one toolchain name");
        if (args[0].startsWith("go")) toolchain = args[0].slice(2);
      }
    };
    splitLines(text).forEach((raw, i) => {
      const line = i + 1;
      const tokens = tokenize(path, line, raw);
      if (tokens.length === 0) return;
      if (block !== "") {
        if (tokens.length === 1 && tokens[0] === ")") block = "";
        else directive(block, tokens, line);
        return;
      }
      const verb = tokens[0];
      if (!VERBS.has(verb)) throw malformed(path, line, `Unknown directive "${verb}"`);
      const args = tokens.slice(1);
      if (args.length === 1 && args[0] === "(") block = verb;
      else if (!(args.length === 2 && args[0] === "(" && args[1] === ")")) {
        directive(verb, args, line);
      }
    });
    if (block !== "") throw malformed(path, 0, `Unclosed ${block} block`);

    // The first replace of each path and version, and of each path alone, looked up by key:
    // a `find` over the replaces for every requirement was quadratic (10,000 of each: 0.8 s).
    const exact = new Map<string, Replace>();
    const pathWide = new Map<string, Replace>();
    for (const r of replaces) {
      const table = r.oldVersion === undefined ? pathWide : exact;
      const key = r.oldVersion === undefined
        ? r.oldPath
        : JSON.stringify([r.oldPath, r.oldVersion]);
      if (!table.has(key)) table.set(key, r);
    }
    for (const req of requires) {
      const replace = exact.get(JSON.stringify([req.path, req.version])) ??
        pathWide.get(req.path);
      let name = req.path;
      let version = req.version;
      if (replace !== undefined) {
        name = replace.newPath;
        version = isLocalPath(replace.newPath) ? "" : replace.newVersion ?? "";
      }
      add({ name, version: bare(version), line: req.line });
    }
    if (goVersion !== undefined) {
      add({ name: "stdlib", version: toolchain || goVersion.version, line: goVersion.line });
    }
  },
});
