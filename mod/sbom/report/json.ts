/**
 * The JSON shape of one scan result, for `--format json` and for machines that diff scans:
 * `{ subject, components, findings, errors }`.
 *
 * Stable means: every key is always present (absent values are `null`, lists are `[]`), keys
 * come in a fixed order, and lists are sorted (components by key and origin, findings as the
 * table sorts them, aliases and groups alphabetically, errors by file, line and code), so two
 * scans of the same thing give the same bytes. Each finding repeats the identifying part of
 * its component (key, purl, origin) so it reads on its own.
 */
import { type Component, componentKey, type Origin } from "../component.ts";
import { errorMessage, IronpostError } from "../../core/errors.ts";
import type { Finding } from "../finding.ts";
import { toPurl } from "./purl.ts";
import { compareFindings, compareText } from "./severity_order.ts";
import type { ScanSubject } from "./subject.ts";

/** A problem met during a scan (an unreadable or malformed file), kept in the result. */
export interface ScanError {
  code: string;
  message: string;
  file?: string;
  line?: number;
}

/** Everything one scan produced. */
export interface ScanResult {
  subject: ScanSubject;
  components: Component[];
  findings: Finding[];
  errors: ScanError[];
}

/** `ScanResult` as written: see the module note. */
export interface ScanResultJson {
  subject: { type: ScanSubject["type"]; name: string; image: string | null; id: string | null };
  components: ComponentJson[];
  findings: FindingJson[];
  errors: { code: string; message: string; file: string | null; line: number | null }[];
}

/** A component as written. */
export interface ComponentJson {
  key: string;
  ecosystem: string;
  name: string;
  version: string;
  purl: string | null;
  origin: { file: string; line: number | null };
  groups: string[];
  commit: string | null;
  binaryName: string | null;
  binaryVersion: string | null;
  dependsOn: string[] | null;
  container: { id: string; name: string; image: string } | null;
  note: string | null;
}

/** A finding as written. */
export interface FindingJson {
  id: string;
  aliases: string[];
  summary: string;
  severity: Finding["severity"];
  score: number | null;
  vector: string | null;
  fixedVersion: string | null;
  url: string | null;
  component: {
    key: string;
    ecosystem: string;
    name: string;
    version: string;
    purl: string | null;
    origin: { file: string; line: number | null };
  };
}

const sortStrings = (xs: readonly string[]) => [...xs].sort(compareText);

function originJson(o: Origin): { file: string; line: number | null } {
  return { file: o.file, line: o.line ?? null };
}

function componentJson(c: Component): ComponentJson {
  return {
    key: componentKey(c),
    ecosystem: c.ecosystem,
    name: c.name,
    version: c.version,
    purl: toPurl(c) ?? null,
    origin: originJson(c.origin),
    groups: sortStrings(c.groups),
    commit: c.commit ?? null,
    binaryName: c.binaryName ?? null,
    binaryVersion: c.binaryVersion ?? null,
    dependsOn: c.dependsOn !== undefined ? sortStrings(c.dependsOn) : null,
    container: c.container !== undefined
      ? { id: c.container.id, name: c.container.name, image: c.container.image }
      : null,
    note: c.note ?? null,
  };
}

function findingJson(f: Finding): FindingJson {
  const c = f.component;
  return {
    id: f.id,
    aliases: sortStrings(f.aliases),
    summary: f.summary,
    severity: f.severity,
    score: f.score ?? null,
    vector: f.vector ?? null,
    fixedVersion: f.fixedVersion ?? null,
    url: f.url ?? null,
    component: {
      key: componentKey(c),
      ecosystem: c.ecosystem,
      name: c.name,
      version: c.version,
      purl: toPurl(c) ?? null,
      origin: originJson(c.origin),
    },
  };
}

function compareComponents(a: ComponentJson, b: ComponentJson): number {
  return compareText(a.key, b.key) || compareText(a.origin.file, b.origin.file) ||
    (a.origin.line ?? 0) - (b.origin.line ?? 0) ||
    compareText(a.container?.id ?? "", b.container?.id ?? "");
}

/**
 * A `ScanError` from anything thrown while scanning: an `IronpostError` keeps its code and
 * the `file`/`line` (or `path`) of its context; anything else becomes `E_UNEXPECTED`.
 *
 * @example
 * ```ts
 * import { IronpostError } from "../../core/errors.ts";
 * import { toScanError } from "./json.ts";
 * const e = toScanError(new IronpostError("E_PARSE", "Bad lockfile", { file: "go.sum", line: 3 }));
 * console.assert(e.code === "E_PARSE" && e.file === "go.sum" && e.line === 3);
 * ```
 */
export function toScanError(err: unknown): ScanError {
  if (err instanceof IronpostError) {
    const ctx = err.context;
    const file = typeof ctx.file === "string"
      ? ctx.file
      : typeof ctx.path === "string"
      ? ctx.path
      : undefined;
    const line = typeof ctx.line === "number" ? ctx.line : undefined;
    return { code: err.code, message: err.message, file, line };
  }
  return { code: "E_UNEXPECTED", message: errorMessage(err) };
}

/** The scan result as a plain object of the stable shape (see the module note). */
export function toScanResultJson(result: ScanResult): ScanResultJson {
  return {
    subject: {
      type: result.subject.type,
      name: result.subject.name,
      image: result.subject.image ?? null,
      id: result.subject.id ?? null,
    },
    components: result.components.map(componentJson).sort(compareComponents),
    findings: [...result.findings].sort(compareFindings).map(findingJson),
    errors: result.errors
      .map((e) => ({
        code: e.code,
        message: e.message,
        file: e.file ?? null,
        line: e.line ?? null,
      }))
      .sort((a, b) =>
        compareText(a.file ?? "", b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) ||
        compareText(a.code, b.code) || compareText(a.message, b.message)
      ),
  };
}

/**
 * The scan result as JSON text (two-space indent) of the stable shape.
 *
 * @example
 * ```ts
 * import { toScanJson } from "./json.ts";
 * const text = toScanJson({
 *   subject: { type: "directory", name: "/srv/app" },
 *   components: [], findings: [],
 *   errors: [{ code: "E_PARSE", message: "Bad lockfile", file: "yarn.lock" }],
 * });
 * console.assert(JSON.parse(text).errors[0].line === null);
 * ```
 */
export function toScanJson(result: ScanResult): string {
  return JSON.stringify(toScanResultJson(result), null, 2);
}
