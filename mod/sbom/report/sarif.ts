/**
 * SARIF 2.1.0 logs of vulnerability findings, for code-scanning dashboards (GitHub, GitLab,
 * Azure DevOps) and SARIF viewers.
 *
 * - One rule per advisory id: `shortDescription` is the summary, `helpUri` the advisory page
 *   (the finding's URL, else the publishing database's page), `properties.security-severity`
 *   the highest CVSS score as a string (`"7.5"`). A finding rated only by a label gets a
 *   representative score so dashboards can still rank it: critical 9.5, high 8.0, medium 5.5,
 *   low 2.0, none 0.0; `unknown` gets none.
 * - One result per finding (one component): `level` is `error` for critical and high,
 *   `warning` for medium, `note` for low, none and unknown (an unrated finding is not
 *   promoted: its rule's tags still say `security`).
 * - The location is the file that declared the package, relative to `baseDir` (and then
 *   under the `%SRCROOT%` base id) when it lies inside it, else an absolute `file://` URI;
 *   `region.startLine` when the origin has a line.
 * - `partialFingerprints["packageVulnerability/v1"]` hashes advisory id, ecosystem, package
 *   name and file, and not version or line: the alert stays the same one when a lockfile is
 *   edited or the package is bumped to a version that is still affected.
 */
import { createHash } from "node:crypto";
import { isAbsolute, relative, resolve } from "node:path";
import type { Finding, VulnSeverity } from "../finding.ts";
import { advisorySource } from "./advisory_source.ts";
import { baseEcosystem, toPurl } from "./purl.ts";
import { compareSeverity } from "../severity/rating.ts";
import { compareFindings, compareText } from "./severity_order.ts";
import type { ToolInfo } from "./subject.ts";

/** The OASIS errata 01 schema that SARIF 2.1.0 logs name. */
export const SARIF_SCHEMA =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/** The base id that relative result locations are resolved against. */
export const SARIF_SRCROOT = "%SRCROOT%";

/** SARIF result levels used here. */
export type SarifLevel = "error" | "warning" | "note";

/** How a SARIF log is written. */
export interface SarifOptions {
  tool: ToolInfo;
  /** Locations inside this directory are written relative to it. */
  baseDir?: string;
}

const LEVEL: Record<VulnSeverity, SarifLevel> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  none: "note",
  unknown: "note",
};

const LABEL_SCORE: Partial<Record<VulnSeverity, number>> = {
  critical: 9.5,
  high: 8.0,
  medium: 5.5,
  low: 2.0,
  none: 0.0,
};

/** The SARIF level of a severity (see the module note). */
export function sarifLevel(s: VulnSeverity): SarifLevel {
  return LEVEL[s] ?? "note";
}

// SARIF URIs are RFC 3986 references: encodeURI leaves `?` and `#`, which would start a query
// or fragment inside a file name.
function encodePath(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

function withSlash(dir: string): string {
  return dir.endsWith("/") ? dir : `${dir}/`;
}

interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

function artifactLocation(file: string, baseDir: string | undefined): ArtifactLocation {
  if (baseDir !== undefined) {
    const abs = resolve(baseDir, file);
    const rel = relative(resolve(baseDir), abs);
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) {
      return { uri: encodePath(rel), uriBaseId: SARIF_SRCROOT };
    }
    return { uri: `file://${encodePath(abs)}` };
  }
  return isAbsolute(file) ? { uri: `file://${encodePath(file)}` } : { uri: encodePath(file) };
}

function fingerprint(f: Finding, location: ArtifactLocation): string {
  const c = f.component;
  return createHash("sha256")
    .update([f.id, c.ecosystem, c.name, location.uri].join("\0"))
    .digest("hex")
    .slice(0, 32);
}

function ruleScore(findings: readonly Finding[]): number | undefined {
  const scores = findings.map((f) => f.score ?? LABEL_SCORE[f.severity])
    .filter((s): s is number => s !== undefined);
  return scores.length > 0 ? Math.max(...scores) : undefined;
}

function message(f: Finding): string {
  const c = f.component;
  const what = c.version !== ""
    ? `${c.name} ${c.version} (${c.ecosystem})`
    : `${c.name} (${c.ecosystem}, version unknown)`;
  const summary = f.summary ? `: ${f.summary.replace(/\.$/, "")}` : "";
  const fix = f.fixedVersion ? `Fixed in ${f.fixedVersion}.` : "No fixed version is known.";
  return `${what} is affected by ${f.id}${summary}. ${fix}`;
}

/**
 * A SARIF 2.1.0 log (JSON text) of `findings`. See the module note for rules, levels,
 * locations and fingerprints.
 *
 * @example
 * ```ts
 * import { toSarif } from "./sarif.ts";
 * const log = JSON.parse(toSarif([{
 *   id: "GHSA-35jh-r3h4-6jhm", aliases: ["CVE-2021-23337"], summary: "Command injection",
 *   severity: "high", score: 7.2, fixedVersion: "4.17.21",
 *   component: { name: "lodash", version: "4.17.20", ecosystem: "npm",
 *     origin: { file: "/srv/app/package-lock.json", line: 40 }, groups: [] },
 * }], { tool: { name: "ironpost", version: "0.1.0" }, baseDir: "/srv/app" }));
 * const result = log.runs[0].results[0];
 * console.assert(result.level === "error");
 * console.assert(result.locations[0].physicalLocation.artifactLocation.uri === "package-lock.json");
 * ```
 */
export function toSarif(findings: readonly Finding[], options: SarifOptions): string {
  const sorted = [...findings].sort(compareFindings);
  const byRule = new Map<string, Finding[]>();
  for (const f of sorted) {
    const list = byRule.get(f.id) ?? [];
    list.push(f);
    byRule.set(f.id, list);
  }
  const ruleIds = [...byRule.keys()].sort(compareText);
  const ruleIndex = new Map(ruleIds.map((id, i) => [id, i]));

  const rules = ruleIds.map((id) => {
    const list = byRule.get(id)!;
    const worst = list.reduce((a, b) => compareSeverity(b.severity, a.severity) < 0 ? b : a);
    const summary = list.find((f) => f.summary)?.summary ?? id;
    const aliases = [...new Set(list.flatMap((f) => f.aliases))].filter((a) => a !== id)
      .sort(compareText);
    const helpUri = list.find((f) => f.url)?.url ?? advisorySource(id).url;
    const score = ruleScore(list);
    const ecosystems = [...new Set(list.map((f) => baseEcosystem(f.component.ecosystem)))]
      .sort(compareText);
    const fixes = [
      ...new Set(
        list.filter((f) => f.fixedVersion).map((f) => `${f.component.name} ${f.fixedVersion}`),
      ),
    ].sort(compareText);
    const help = [
      summary,
      aliases.length > 0 ? `Aliases: ${aliases.join(", ")}.` : "",
      fixes.length > 0 ? `Fixed in: ${fixes.join(", ")}.` : "No fixed version is known.",
      `See ${helpUri}`,
    ].filter((s) => s !== "").join("\n");
    return {
      id,
      shortDescription: { text: summary },
      fullDescription: {
        text: aliases.length > 0 ? `${summary} (${aliases.join(", ")})` : summary,
      },
      helpUri,
      help: { text: help },
      defaultConfiguration: { level: sarifLevel(worst.severity) },
      properties: {
        ...(score !== undefined ? { "security-severity": score.toFixed(1) } : {}),
        tags: ["security", "vulnerability", worst.severity, ...ecosystems],
      },
    };
  });

  const seen = new Set<string>();
  const results = [];
  for (const f of sorted) {
    const location = artifactLocation(f.component.origin.file, options.baseDir);
    const line = f.component.origin.line;
    const dedupe = [
      f.id,
      f.component.ecosystem,
      f.component.name,
      f.component.version,
      location.uri,
      line,
    ]
      .join("\0");
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    const c = f.component;
    results.push({
      ruleId: f.id,
      ruleIndex: ruleIndex.get(f.id)!,
      level: sarifLevel(f.severity),
      message: { text: message(f) },
      locations: [{
        physicalLocation: {
          artifactLocation: location,
          ...(line !== undefined && line >= 1 ? { region: { startLine: line } } : {}),
        },
      }],
      partialFingerprints: { "packageVulnerability/v1": fingerprint(f, location) },
      properties: {
        ecosystem: c.ecosystem,
        package: c.name,
        installedVersion: c.version,
        fixedVersion: f.fixedVersion,
        purl: toPurl(c),
        severity: f.severity,
        score: f.score,
        vector: f.vector,
        aliases: [...f.aliases].sort(compareText),
        container: c.container,
      },
    });
  }

  const run = {
    tool: {
      driver: {
        name: options.tool.name,
        version: options.tool.version,
        rules,
      },
    },
    ...(options.baseDir !== undefined
      ? {
        originalUriBaseIds: {
          [SARIF_SRCROOT]: { uri: `file://${encodePath(withSlash(resolve(options.baseDir)))}` },
        },
      }
      : {}),
    results,
  };
  return JSON.stringify({ $schema: SARIF_SCHEMA, version: "2.1.0", runs: [run] }, null, 2);
}
