import { type AlertEvent, IronpostError, SEVERITIES, type Severity } from "../core/mod.ts";
import { SqliteStore } from "../store/mod.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { out, table } from "./output.ts";
import { parseTtl } from "../ebpf/mod.ts";

async function openStore(values: Values): Promise<SqliteStore> {
  return await SqliteStore.open((await loadOrFail(values)).config.storage.sqlite_path);
}

/**
 * `ironpost alerts [--since 1h] [--severity high] [--limit N] [--json]` and
 * `ironpost alerts show ID`: read the audit store (works while the agent runs: WAL).
 */
export async function alertsCommand(positionals: string[], values: Values): Promise<number> {
  if (positionals[0] === "show") return await showAlert(positionals[1], values);
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"; expected show ID`, "alerts");
  }
  const severity = values.severity;
  if (severity !== undefined && !SEVERITIES.includes(severity as Severity)) {
    throw new UsageError(`--severity must be one of ${SEVERITIES.join(", ")}`, "alerts");
  }
  const limit = Number(values.limit ?? 100);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError("--limit must be a positive integer", "alerts");
  }
  const since = typeof values.since === "string"
    ? new Date(Date.now() - parseTtl(values.since) * 1000).toISOString()
    : undefined;
  const store = await openStore(values);
  try {
    const alerts = await store.listAlerts({
      since,
      minSeverity: severity as Severity | undefined,
      limit,
    });
    if (values.json) {
      out(JSON.stringify(alerts, null, 2));
      return 0;
    }
    out(table(
      ["ID", "TIME", "SEVERITY", "RULE", "SOURCE IP", "TITLE"],
      alerts.map((
        a,
      ) => [
        a.id,
        a.ts.replace("T", " ").slice(0, 19),
        a.severity,
        a.ruleId,
        a.srcIp ?? "",
        a.title,
      ]),
    ));
    return 0;
  } finally {
    await store.close();
  }
}

async function showAlert(id: string | undefined, values: Values): Promise<number> {
  if (!id) throw new UsageError("alerts show needs an alert ID (see `ironpost alerts`)", "alerts");
  const store = await openStore(values);
  try {
    const a: AlertEvent | undefined = await store.getAlert(id);
    if (!a) throw new IronpostError("E_NOT_FOUND", `no alert with id ${id}`, { id });
    out(JSON.stringify(a, null, 2));
    return 0;
  } finally {
    await store.close();
  }
}
