import { derivePermissions, formatDiagnostic } from "../config/mod.ts";
import { ConfigError, loadFor, type Values } from "./args.ts";
import { err, out } from "./output.ts";

/** `ironpost permissions`: the Deno flags an agent with this config needs. */
export async function permissionsCommand(values: Values): Promise<number> {
  try {
    const loaded = await loadFor(values);
    const flags = derivePermissions(loaded.config, {
      configPath: loaded.path,
      selfExec: typeof values.exec === "string" ? values.exec : Deno.execPath(),
    });
    out(values.json ? JSON.stringify(flags) : flags.join(" "));
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const d of e.diagnostics) err(formatDiagnostic(d));
    return 1;
  }
}
