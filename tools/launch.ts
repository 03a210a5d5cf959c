/**
 * `deno task start`: run the agent under `deno run` with exactly the permission flags its
 * config needs (derived by `derivePermissions`, the same function `ironpost permissions`,
 * `ironpost start` and the compile task use), never `-A`.
 *
 * Usage: deno task start [ironpost arguments…]   (default: run --config config/ironpost.toml)
 */
import { fileURLToPath } from "node:url";
import { ConfigError, formatDiagnostic, loadConfig } from "../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../mod/daemon/mod.ts";

const args = Deno.args.length > 0 ? Deno.args : ["run", "--config", "config/ironpost.toml"];
const ci = args.findIndex((a) => a === "--config" || a === "-c");
const configPath = ci >= 0 ? args[ci + 1] : "/etc/ironpost/ironpost.toml";

let flags: string[];
try {
  const loaded = await loadConfig({ path: configPath, builtModules: builtSections() });
  // The agent is spawned by name, so the permission names the same `deno` on PATH.
  flags = agentPermissions(loaded, Deno.execPath());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  for (const d of err.diagnostics) console.error(formatDiagnostic(d));
  Deno.exit(1);
}

const main = fileURLToPath(new URL("../main.ts", import.meta.url));
const child = new Deno.Command("deno", {
  args: ["run", ...flags, main, ...args],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

// Forward signals so SIGTERM/SIGINT stop the agent gracefully and SIGHUP reloads it.
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  Deno.addSignalListener(sig, () => {
    try {
      child.kill(sig);
    } catch {
      // already exited
    }
  });
}
const status = await child.status;
Deno.exit(status.signal ? 128 + signalNumber(status.signal) : status.code);

function signalNumber(sig: Deno.Signal): number {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[sig as string] ?? 1;
}
