import { formatDiagnostic } from "../config/mod.ts";
import { agentPermissions } from "../daemon/mod.ts";
import { ConfigError, loadFor, type Values } from "./args.ts";
import { err, out } from "./output.ts";

/** `ironpost permissions`: the Deno flags an agent with this config needs. */
export async function permissionsCommand(values: Values): Promise<number> {
  try {
    const loaded = await loadFor(values);
    const flags = agentPermissions(
      loaded,
      typeof values.exec === "string" ? values.exec : Deno.execPath(),
    );
    out(values.json ? JSON.stringify(flags) : flags.join(" "));
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const d of e.diagnostics) err(formatDiagnostic(d));
    return 1;
  }
}
