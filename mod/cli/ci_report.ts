/**
 * Diagnostics in the forms CI systems read: GitHub Actions workflow commands and SARIF
 * 2.1.0 for code scanning, with paths relative to the repository.
 * @module
 */
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { Diagnostic } from "../config/mod.ts";
import { formatDiagnostic } from "../config/mod.ts";
import { VERSION } from "../version.ts";

/** GitHub's escaping of a workflow command's message: `%`, CR, LF. */
export function escapeData(s: string): string {
  return s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** GitHub's escaping of a workflow command's property value: the data's, plus `:` and `,`. */
export function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** A diagnostic's file: a path (not `env:NAME` or `--flag`). */
function isFile(d: Diagnostic): boolean {
  return d.line !== undefined || isAbsolute(d.file) || d.file.includes("/");
}

/** The diagnostic's text without its location: `key: what; expected what`. */
function text(d: Diagnostic): string {
  return `${d.key}: ${d.message}; expected ${d.expected}`;
}

/** `path` relative to `root` when inside it, else undefined. */
export function relativeTo(root: string, path: string): string | undefined {
  const rel = relative(root, resolve(path));
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? undefined : rel;
}

/**
 * One `::error file=…,line=…,col=…,title=…::message` line per diagnostic (`::warning` for
 * warnings); files relative to `root` when inside it.
 */
export function githubCommands(diagnostics: readonly Diagnostic[], root: string): string[] {
  return diagnostics.map((d) => {
    const props: string[] = [];
    if (isFile(d)) {
      props.push(`file=${escapeProperty(relativeTo(root, d.file) ?? d.file)}`);
      if (d.line !== undefined) props.push(`line=${d.line}`, `col=${d.col ?? 1}`);
    }
    props.push(`title=${escapeProperty(d.key)}`);
    const message = isFile(d) ? text(d) : formatDiagnostic(d);
    return `::${d.severity} ${props.join(",")}::${escapeData(message)}`;
  });
}

/** A relative path as a URI reference: each segment percent-encoded (`:` and `,` too). */
function uriReference(rel: string): string {
  return rel.split("/").map(encodeURIComponent).join("/");
}

function fileUri(path: string): string {
  return "file://" + uriReference(resolve(path));
}

/**
 * A SARIF 2.1.0 log: one run of the ironpost driver, one rule per diagnostic code, locations
 * relative to `%SRCROOT%` (= `root`) for files inside it.
 */
export function sarifLog(diagnostics: readonly Diagnostic[], root: string): unknown {
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort();
  const results = diagnostics.map((d) => {
    const result: Record<string, unknown> = {
      ruleId: d.code,
      ruleIndex: codes.indexOf(d.code),
      level: d.severity === "error" ? "error" : "warning",
      message: { text: isFile(d) ? text(d) : formatDiagnostic(d) },
    };
    if (isFile(d)) {
      const rel = relativeTo(root, d.file);
      result.locations = [{
        physicalLocation: {
          artifactLocation: rel === undefined
            ? { uri: fileUri(d.file) }
            : { uri: uriReference(rel), uriBaseId: "%SRCROOT%" },
          ...(d.line !== undefined
            ? { region: { startLine: d.line, startColumn: d.col ?? 1 } }
            : {}),
        },
      }];
    }
    return result;
  });
  return {
    $schema:
      "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: "ironpost",
          version: VERSION,
          informationUri: "https://github.com/ironpost/ironpost",
          rules: codes.map((id) => ({ id, shortDescription: { text: id } })),
        },
      },
      originalUriBaseIds: { "%SRCROOT%": { uri: fileUri(root).replace(/\/?$/, "/") } },
      results,
    }],
  };
}

/**
 * The repository `path` is in: `git rev-parse --show-toplevel` when git may run, else the
 * nearest parent holding `.git` that may be looked at, else the current directory. Never
 * touches the network.
 */
export async function repositoryRoot(path: string): Promise<string> {
  const dir = dirname(resolve(path));
  if ((await Deno.permissions.query({ name: "run", command: "git" })).state === "granted") {
    try {
      const r = await new Deno.Command("git", {
        args: ["-C", dir, "rev-parse", "--show-toplevel"],
        stdout: "piped",
        stderr: "null",
        stdin: "null",
      }).output();
      const top = new TextDecoder().decode(r.stdout).trim();
      if (r.success && top) return top;
    } catch {
      // no git: look for .git below
    }
  }
  for (let d = dir;; d = dirname(d)) {
    try {
      await Deno.lstat(`${d}/.git`);
      return d;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) break;
    }
    if (dirname(d) === d) break;
  }
  try {
    return Deno.cwd();
  } catch {
    return dir;
  }
}
