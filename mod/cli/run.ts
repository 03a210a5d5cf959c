import { formatDiagnostic } from "../config/mod.ts";
import { runDaemon } from "../daemon/mod.ts";
import { cliOverrides, ConfigError, loadFor, type Values } from "./args.ts";
import { err } from "./output.ts";

/** `ironpost run`: the daemon in the foreground. */
export async function runCommand(values: Values): Promise<number> {
  let loaded;
  try {
    loaded = await loadFor(values);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const d of e.diagnostics) err(formatDiagnostic(d));
    err("ironpost: the config is invalid; nothing was started");
    return 1;
  }
  return await runDaemon({ loaded, cli: cliOverrides(values) });
}
