/**
 * `ironpost vulndb update|status`: build or refresh the local OSV index that scans read, and
 * show what it holds. Exit 0 on success, 1 when the update was refused or there is no index,
 * 2 on a usage mistake.
 */
import { errorMessage, IronpostError } from "../core/mod.ts";
import { UsageError, type Values } from "./args.ts";
import { err, out, table } from "./output.ts";
import type { BuildReport, VulnDb } from "../sbom/osv/mod.ts";
import { BUILD_DB_HINT, configOrNone, openDb } from "./scan_cmd.ts";

/** `ironpost vulndb update|status`. */
export async function vulndbCommand(positionals: string[], values: Values): Promise<number> {
  const [sub, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, "vulndb");
  if (sub !== "update" && sub !== "status") {
    throw new UsageError(
      sub
        ? `unknown vulndb subcommand "${sub}"; expected update or status`
        : "vulndb needs a subcommand: update or status",
      "vulndb",
    );
  }
  const dbFlag = typeof values.db === "string" ? values.db : undefined;
  try {
    const config = await configOrNone(values, dbFlag !== undefined);
    const dbPath = dbFlag ?? config?.sbom.vuln_db_path ?? "";
    return sub === "update" ? await update(dbPath, values) : await status(dbPath, values);
  } catch (e) {
    err(`ironpost: vulndb ${sub}: ${errorMessage(e)}`);
    return 1;
  }
}

async function update(dbPath: string, values: Values): Promise<number> {
  const { OSV_BUCKET, updateVulnDb } = await import("../sbom/osv/mod.ts");
  const source = typeof values.source === "string" ? values.source : OSV_BUCKET;
  let report: BuildReport;
  try {
    report = await updateVulnDb({ source, dbPath, force: values.force === true });
  } catch (e) {
    const cause = (e as Error).cause;
    if (cause instanceof Deno.errors.NotCapable) {
      const what = /^https?:\/\//i.test(source)
        ? `--allow-net=${new URL(source).host}`
        : `--allow-read=${source}`;
      throw new IronpostError(
        "E_VULNDB_PERMISSION",
        `${errorMessage(e)}\nThis command runs with the permissions its config derives; ` +
          `the source needs ${what} (and --allow-write for ${dbPath}'s directory)`,
      );
    }
    throw e;
  }
  out(
    `vulnerability database ${report.replaced ? "replaced" : "built"}: ${report.dbPath}\n` +
      `  source   ${report.source}\n` +
      `  records  ${report.records} (${report.withdrawn} withdrawn, ${report.duplicates} duplicate ids)\n` +
      `  packages ${report.packages}, aliases ${report.aliases}\n` +
      `  size     ${formatBytes(report.sizeBytes)}, built in ${
        (report.durationMs / 1000).toFixed(1)
      } s`,
  );
  const rows = Object.entries(report.counts).sort(([a], [b]) => a.localeCompare(b))
    .map(([eco, n]) => [eco, String(n)]);
  if (rows.length > 0) out(table(["ECOSYSTEM", "RECORDS"], rows));
  if (report.rejected.length > 0) {
    err(`warning: ${report.rejected.length} entr(ies) were not OSV records and were left out:`);
    for (const r of report.rejected.slice(0, 10)) err(`  ${r.entry}: ${r.reason}`);
  }
  return 0;
}

async function status(dbPath: string, values: Values): Promise<number> {
  let db: VulnDb;
  try {
    db = await openDb(dbPath);
  } catch (e) {
    if (e instanceof IronpostError && e.code === "E_VULNDB_MISSING") {
      if (values.json) out(JSON.stringify({ path: dbPath, present: false }));
      err(`ironpost: vulndb status: no vulnerability database at ${dbPath}; ${BUILD_DB_HINT}`);
      return 1;
    }
    throw e;
  }
  try {
    const s = db.status();
    if (values.json) {
      out(JSON.stringify({ present: true, ...s }, null, 2));
      return 0;
    }
    out(
      `path      ${s.path}\n` +
        `source    ${s.source}\n` +
        `built     ${s.builtAt} (${formatAge(s.ageMs)} ago)\n` +
        `records   ${s.records} (${s.withdrawn} withdrawn)\n` +
        `size      ${formatBytes(s.sizeBytes)}, schema ${s.schemaVersion}`,
    );
    out(table(
      ["ECOSYSTEM", "RECORDS", "PACKAGES"],
      s.ecosystems.map((e) => [e.ecosystem, String(e.records), String(e.packages)]),
    ));
    return 0;
  } finally {
    db.close();
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
