import { agentPermissions } from "../daemon/mod.ts";
import { loadOrReport, type Values } from "./args.ts";
import { out } from "./output.ts";

/** `ironpost permissions`: the Deno flags an agent with this config needs. */
export async function permissionsCommand(values: Values): Promise<number> {
  const loaded = await loadOrReport(values);
  if (!loaded) return 1;
  const flags = agentPermissions(
    loaded,
    typeof values.exec === "string" ? values.exec : Deno.execPath(),
  );
  out(values.json ? JSON.stringify(flags) : flags.join(" "));
  return 0;
}
