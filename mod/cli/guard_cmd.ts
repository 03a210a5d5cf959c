import { type ActionEvent, type AlertEvent, formatDiagnostic, IronpostError } from "../core/mod.ts";
import { controlRequest } from "../daemon/mod.ts";
import { parseTtl } from "../ebpf/mod.ts";
import { SqliteStore } from "../store/mod.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { err, out, table } from "./output.ts";

/**
 * `ironpost guard actions [--since 1h] [--json]`, `ironpost guard release <container|ip>`,
 * `ironpost guard test --alert FILE`.
 */
export async function guardCommand(positionals: string[], values: Values): Promise<number> {
  const [sub, target] = positionals;
  switch (sub) {
    case "actions":
      return await listActions(values);
    case "release":
      return await release(target, values);
    case "test":
      return await testAlert(values);
    default:
      throw new UsageError(
        sub ? `unknown guard subcommand "${sub}"; expected actions, release or test` : "guard " +
          "needs a subcommand: actions, release or test",
        "guard",
      );
  }
}

async function listActions(values: Values): Promise<number> {
  const since = typeof values.since === "string"
    ? new Date(Date.now() - parseTtl(values.since) * 1000).toISOString()
    : "";
  const limit = Number(values.limit ?? 1000);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError("--limit must be a positive integer", "guard");
  }
  const store = await SqliteStore.open((await loadOrFail(values)).config.storage.sqlite_path);
  let actions: ActionEvent[];
  try {
    actions = (await store.listActions(limit)).filter((a) => a.ts >= since);
  } finally {
    await store.close();
  }
  if (values.json) {
    out(JSON.stringify(actions, null, 2));
    return 0;
  }
  out(table(
    ["TIME", "ACTION", "TARGET", "OUTCOME", "POLICY", "DETAIL"],
    actions.map((a) => [
      a.ts.replace("T", " ").slice(0, 19),
      a.action,
      a.target,
      a.outcome,
      a.policyId ?? "",
      [a.detail, a.error].filter(Boolean).join("; ") || a.reason,
    ]),
  ));
  return 0;
}

async function release(target: string | undefined, values: Values): Promise<number> {
  if (!target) {
    throw new UsageError("guard release needs a container name or id, or an address", "guard");
  }
  const socket = (await loadOrFail(values)).config.general.control_socket;
  const r = await controlRequest(
    socket,
    "POST",
    `/guard/release?${new URLSearchParams({ target })}`,
    60_000,
  );
  const body = JSON.parse(r.body || "{}");
  if (r.status === 404 && body.endpoints) {
    throw new IronpostError(
      "E_NO_GUARD",
      "the running agent has no container guard ([container] enabled = false)",
    );
  }
  if (r.status !== 200) {
    throw new IronpostError("E_RELEASE", `release ${target}: ${body.error ?? `HTTP ${r.status}`}`);
  }
  const events = body.actions as ActionEvent[];
  for (const e of events) {
    const line = `${e.action} ${e.target}: ${e.outcome}` +
      (e.detail ? ` (${e.detail})` : "") + (e.error ? `: ${e.error}` : "");
    if (e.outcome === "done" || e.outcome === "planned") out(line);
    else err(line);
  }
  if (events.length === 0) out(`${target}: nothing to restore`);
  return events.every((e) => e.outcome === "done" || e.outcome === "planned") ? 0 : 1;
}

/** Which policies and actions an alert (a JSON file) would trigger; nothing is done. */
async function testAlert(values: Values): Promise<number> {
  const file = values.alert;
  if (typeof file !== "string") {
    throw new UsageError("guard test needs --alert FILE (an AlertEvent as JSON)", "guard");
  }
  const loaded = await loadOrFail(values);
  const { loadPolicies, planFor, describePlan } = await import("../guard/mod.ts");
  const { policies, diagnostics } = await loadPolicies(loaded.config.container.policy_dir);
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (diagnostics.some((d) => d.severity === "error")) return 1;
  let alert: AlertEvent;
  try {
    alert = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new IronpostError("E_ALERT_FILE", `${file}: not an alert as JSON (${String(e)})`);
  }
  const plans = planFor(alert, policies);
  if (values.json) {
    out(JSON.stringify(plans.map((p) => ({ policy: p.policy.id, actions: p.actions })), null, 2));
  } else {
    const dryRun = loaded.config.container.dry_run;
    for (const line of describePlan(alert, plans, { policies, dryRun })) out(line);
  }
  return 0;
}
