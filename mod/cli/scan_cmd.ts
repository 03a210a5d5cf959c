/**
 * `ironpost scan`: inventory directories and running containers, match them against the
 * local OSV database, and print a report. Exit 0 when no finding is at or above `--fail-on`,
 * 1 when one is, 2 when the scan could not run (a usage mistake, a missing database, a
 * directory or container that cannot be read).
 */
import { errorMessage, IronpostError } from "../core/mod.ts";
import { ConfigError, formatDiagnostic, type IronpostConfig } from "../config/mod.ts";
import type { TargetResult } from "../sbom/scanner.ts";
import type { ScanResult } from "../sbom/report/json.ts";
import { VERSION } from "../version.ts";
import { loadFor, UsageError, type Values } from "./args.ts";
import { err } from "./output.ts";

export const SCAN_FORMATS = ["table", "json", "cyclonedx", "cyclonedx-xml", "sarif"] as const;
export type ScanFormat = typeof SCAN_FORMATS[number];

/** `--fail-on` values: a severity, `none` (any finding fails), `never` (findings never fail). */
export const FAIL_ON = ["critical", "high", "medium", "low", "none", "never"] as const;
export type FailOn = typeof FAIL_ON[number];

/** What the command line asked for. */
export interface ScanRequest {
  dirs: string[];
  containers: string[];
  format: ScanFormat;
  output?: string;
  failOn?: FailOn;
  db?: string;
}

function strings(v: Values[string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
}

/** The request from parsed options; a bad `--format` or `--fail-on` is a usage error. */
export function scanRequest(values: Values): ScanRequest {
  const format = typeof values.format === "string" ? values.format : "table";
  if (!(SCAN_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `--format must be one of ${SCAN_FORMATS.join(", ")}, got "${format}"`,
      "scan",
    );
  }
  const req: ScanRequest = {
    dirs: strings(values.dir),
    containers: strings(values.container),
    format: format as ScanFormat,
  };
  const failOn = values["fail-on"];
  if (typeof failOn === "string") {
    if (!(FAIL_ON as readonly string[]).includes(failOn)) {
      throw new UsageError(
        `--fail-on must be one of ${FAIL_ON.join(", ")}, got "${failOn}"`,
        "scan",
      );
    }
    req.failOn = failOn as FailOn;
  }
  if (typeof values.output === "string") req.output = values.output;
  if (typeof values.db === "string") req.db = values.db;
  return req;
}

/**
 * The config, or undefined when there is none and the command can do without it (`--db`
 * given, and what to scan): the CLI then runs on its own flags.
 */
export async function configOrNone(
  values: Values,
  canDoWithout: boolean,
): Promise<IronpostConfig | undefined> {
  try {
    return (await loadFor(values)).config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (canDoWithout && e.diagnostics.every((d) => d.code === "E_CONFIG_NOT_FOUND")) {
      return undefined;
    }
    throw new IronpostError(
      "E_CONFIG_INVALID",
      "the config is invalid\n" + e.diagnostics.map(formatDiagnostic).join("\n"),
    );
  }
}

/** Docker's socket when no config names one (`[container] docker_socket`'s default). */
const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/** How to get a database, said wherever one is missing. */
export const BUILD_DB_HINT = "build it with: ironpost vulndb update --source DIR|ZIP|URL " +
  "(a directory of OSV JSON files, an OSV all.zip, or on a machine with internet " +
  "https://osv-vulnerabilities.storage.googleapis.com/)";

/** Opens the index, with messages that say what to do. */
export async function openDb(path: string) {
  const { openVulnDb } = await import("../sbom/osv/mod.ts");
  try {
    return openVulnDb(path);
  } catch (e) {
    const cause = e instanceof Error ? e.cause : undefined;
    if (cause instanceof Deno.errors.NotFound) {
      throw new IronpostError(
        "E_VULNDB_MISSING",
        `no vulnerability database at ${path}; ${BUILD_DB_HINT}`,
        {
          path,
        },
      );
    }
    if (cause instanceof Deno.errors.NotCapable) {
      throw new IronpostError(
        "E_SCAN_PERMISSION",
        `reading the vulnerability database ${path} is outside this agent's Deno read ` +
          `permissions (--db); use [sbom] vuln_db_path, or run with --allow-read=${path}`,
        { path },
      );
    }
    throw e;
  }
}

/** `ironpost scan`; see the module note for exit codes. */
export async function scanCommand(values: Values): Promise<number> {
  const req = scanRequest(values);
  try {
    return await runScan(req, values);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    err(`ironpost: scan: ${errorMessage(e)}`);
    return 2;
  }
}

async function runScan(req: ScanRequest, values: Values): Promise<number> {
  const explicit = req.dirs.length + req.containers.length > 0;
  const config = await configOrNone(values, explicit && req.db !== undefined);
  const dirs = explicit ? req.dirs : config?.sbom.scan_dirs ?? [];
  if (dirs.length === 0 && req.containers.length === 0) {
    throw new UsageError(
      "nothing to scan: give --dir PATH or --container NAME, or set [sbom] scan_dirs",
      "scan",
    );
  }
  const dbPath = req.db ?? config?.sbom.vuln_db_path ?? "";
  const failOn: FailOn = req.failOn ?? config?.sbom.min_severity ?? "medium";

  const sbom = await import("../sbom/mod.ts");
  const db = await openDb(dbPath);
  const results: TargetResult[] = [];
  // No agent runs here: the command asks Docker itself, through its own container inventory
  // (not started: a scan only inspects and exports the containers it names).
  const containers = req.containers.length === 0
    ? undefined
    : new (await import("../containers/inventory.ts")).ContainerInventory({
      socketPath: config?.container.docker_socket ?? DEFAULT_DOCKER_SOCKET,
    });
  try {
    const container = config !== undefined
      ? { tempDir: `${config.general.state_dir}/sbom-export` }
      : {};
    for (const dir of dirs) {
      try {
        // An explicitly named directory: lockfiles under other names count too.
        results.push(
          await sbom.scanDirectory(dir, { db, container, inventory: { sniff: true } }),
        );
      } catch (e) {
        if (e instanceof sbom.SbomScanError && e.code === "E_SCAN_PERMISSION") {
          throw new IronpostError(
            "E_SCAN_PERMISSION",
            `cannot scan --dir ${dir}: Deno refuses to read ${e.context.path} (NotCapable). ` +
              "This command runs with the read permissions its config derives: add the " +
              "directory to [sbom] scan_dirs (with enabled = true), or run it with " +
              `${e.context.flag}`,
            { ...e.context },
          );
        }
        throw e;
      }
    }
    for (const ref of req.containers) {
      try {
        results.push(await sbom.scanContainer(ref, { db, container, containers }));
      } catch (e) {
        if (e instanceof sbom.SbomScanError) {
          throw new IronpostError(e.code, `cannot scan --container ${ref}: ${e.message}`, {
            ...e.context,
          });
        }
        throw e;
      }
    }
  } finally {
    db.close();
    await containers?.stop();
  }

  const combined = sbom.combineResults(results);
  const baseDir = dirs.length === 1 && req.containers.length === 0
    ? results[0].subject.type === "host" ? "/" : results[0].subject.name
    : undefined;
  const text = await render(req.format, combined, baseDir);
  if (req.output !== undefined) {
    try {
      await Deno.writeTextFile(req.output, text.endsWith("\n") ? text : `${text}\n`);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) {
        throw new IronpostError(
          "E_SCAN_PERMISSION",
          `cannot write --output ${req.output}: it is outside this agent's Deno write ` +
            "permissions; write to stdout and redirect it, or into general.state_dir",
        );
      }
      throw new IronpostError(
        "E_SCAN_OUTPUT",
        `cannot write --output ${req.output}: ${errorMessage(e)}`,
      );
    }
  } else {
    writeAll(text.endsWith("\n") ? text : `${text}\n`);
  }

  for (const e of combined.errors.slice(0, 20)) {
    const at = e.file !== undefined ? `${e.file}${e.line ? `:${e.line}` : ""}: ` : "";
    err(`warning: ${at}${e.code}: ${e.message}`);
  }
  if (combined.errors.length > 20) {
    err(`warning: ${combined.errors.length - 20} more file(s) could not be read or parsed`);
  }
  const files = results.reduce((n, r) => n + r.files.length, 0);
  if (files === 0) {
    err(
      "warning: no inventory file found. Files are recognised by their standard names " +
        "(package-lock.json, yarn.lock, pnpm-lock.yaml, Cargo.lock, go.mod, requirements*.txt, " +
        "poetry.lock, Pipfile.lock, uv.lock, composer.lock, Gemfile.lock, var/lib/dpkg/status, " +
        "node_modules/*/package.json, *.dist-info/METADATA)",
    );
  }
  const { meetsThreshold } = await import("../sbom/severity/mod.ts");
  const failing = failOn === "never"
    ? []
    : combined.findings.filter((f) => meetsThreshold(f.severity, failOn));
  if (req.format === "table" || req.output !== undefined) {
    err(
      `${combined.components.length} component(s) in ${files} file(s), ` +
        `${combined.findings.length} finding(s); ${failing.length} at or above --fail-on ${failOn}`,
    );
  }
  return failing.length > 0 ? 1 : 0;
}

async function render(
  format: ScanFormat,
  result: ScanResult,
  baseDir: string | undefined,
): Promise<string> {
  // Each format's own file: the report folder's mod.ts also loads the CycloneDX validator
  // (ajv and the schemas), which a scan does not need.
  const tool = { name: "ironpost" as const, version: VERSION };
  switch (format) {
    case "table": {
      const { formatFindingsTable } = await import("../sbom/report/table.ts");
      const color = Deno.stdout.isTerminal() && !Deno.noColor;
      return formatFindingsTable(result.findings, { color, baseDir });
    }
    case "json":
      return (await import("../sbom/report/json.ts")).toScanJson(result);
    case "sarif":
      return (await import("../sbom/report/sarif.ts")).toSarif(result.findings, { tool, baseDir });
    case "cyclonedx":
    case "cyclonedx-xml":
      return (await import("../sbom/report/cyclonedx.ts")).toCycloneDx(
        {
          components: result.components,
          findings: result.findings,
          subject: result.subject,
          tool,
          timestamp: new Date(),
        },
        format === "cyclonedx" ? "json" : "xml",
      );
  }
}

/** All of `text` to stdout (a large SBOM may not go in one write to a pipe). */
function writeAll(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
}
