/**
 * A plain-text table of findings for terminals and logs: severity (with the CVSS score when
 * there is one), advisory id, package, installed version, fixed version, and the origin
 * `file:line`. Sorted by severity (critical first, `unknown` after `low`, `none` last), then
 * package. ANSI colour only when asked, so piped output stays clean.
 */
import { relative, resolve } from "node:path";
import type { Finding, VulnSeverity } from "../finding.ts";
import { originText } from "./component_set.ts";
import { compareSeverity } from "../severity/rating.ts";
import { compareFindings } from "./severity_order.ts";

/** How the table is drawn. */
export interface TableOptions {
  /** Colour the severity column and the header with ANSI escapes. Default false. */
  color?: boolean;
  /** Origins inside this directory are shown relative to it. */
  baseDir?: string;
}

const HEADER = ["SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "ORIGIN"];

const COLOR: Record<VulnSeverity, string> = {
  critical: "\x1b[1;31m",
  high: "\x1b[31m",
  medium: "\x1b[33m",
  low: "\x1b[36m",
  unknown: "\x1b[35m",
  none: "\x1b[2m",
};
const BOLD = "\x1b[1m";
const RESET = "\x1b[0m";

function origin(f: Finding, baseDir: string | undefined): string {
  const o = f.component.origin;
  let file = o.file;
  if (baseDir !== undefined) {
    const rel = relative(resolve(baseDir), resolve(baseDir, file));
    if (rel !== "" && !rel.startsWith("..")) file = rel;
  }
  const where = originText({ file, line: o.line });
  const c = f.component.container;
  return c !== undefined ? `${where} [${c.name}]` : where;
}

function severityCell(f: Finding): string {
  return f.score !== undefined ? `${f.severity} ${f.score.toFixed(1)}` : f.severity;
}

/**
 * The findings as an aligned text table followed by a one-line summary; "No
 * vulnerabilities found." when there are none.
 *
 * @example
 * ```ts
 * import { formatFindingsTable } from "./table.ts";
 * const text = formatFindingsTable([{
 *   id: "RUSTSEC-2021-0001", aliases: [], summary: "", severity: "medium",
 *   component: { name: "smallvec", version: "1.6.0", ecosystem: "crates.io",
 *     origin: { file: "Cargo.lock", line: 88 }, groups: [] },
 *   fixedVersion: "1.6.1",
 * }]);
 * console.assert(text.split("\n")[1].startsWith("medium    RUSTSEC-2021-0001  smallvec"));
 * ```
 */
export function formatFindingsTable(
  findings: readonly Finding[],
  options: TableOptions = {},
): string {
  if (findings.length === 0) return "No vulnerabilities found.";
  const sorted = [...findings].sort(compareFindings);
  const rows = sorted.map((f) => [
    severityCell(f),
    f.id,
    f.component.name,
    f.component.version !== "" ? f.component.version : "-",
    f.fixedVersion ?? "-",
    origin(f, options.baseDir),
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)));
  const pad = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c + " ".repeat(widths[i] - [...c].length));
  const paint = (text: string, code: string) => options.color ? `${code}${text}${RESET}` : text;

  const lines = [paint(pad(HEADER).join("  ").trimEnd(), BOLD)];
  sorted.forEach((f, i) => {
    const cells = pad(rows[i]);
    cells[0] = paint(cells[0], COLOR[f.severity] ?? "");
    lines.push(cells.join("  ").trimEnd());
  });

  const counts = new Map<VulnSeverity, number>();
  for (const f of sorted) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const parts = [...counts.entries()]
    .sort(([a], [b]) => compareSeverity(a, b))
    .map(([s, n]) => `${n} ${s}`);
  const noun = sorted.length === 1 ? "finding" : "findings";
  lines.push("", `${sorted.length} ${noun}: ${parts.join(", ")}`);
  return lines.join("\n");
}
