import { runDaemon } from "../daemon/mod.ts";
import { cliOverrides, loadOrReport, type Values } from "./args.ts";

/** `ironpost run`: the daemon in the foreground. */
export async function runCommand(values: Values): Promise<number> {
  const loaded = await loadOrReport(values, "ironpost: the config is invalid; nothing was started");
  if (!loaded) return 1;
  return await runDaemon({ loaded, cli: cliOverrides(values) });
}
