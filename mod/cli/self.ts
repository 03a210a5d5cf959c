import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadedConfig } from "../config/mod.ts";
import { agentPermissions } from "../daemon/mod.ts";

/** True when running as a `deno compile`d binary rather than under `deno run`. */
export function isCompiled(): boolean {
  return !/^deno(\.exe)?$/.test(basename(Deno.execPath()));
}

/**
 * The argv that runs this same agent again with the permissions its config needs: under
 * `deno run` that is deno, the derived flags and this entry point; compiled, the binary
 * (whose permissions were fixed at compile time).
 */
export function selfArgv(loaded: LoadedConfig, args: string[]): string[] {
  if (isCompiled()) return [Deno.execPath(), ...args];
  const flags = agentPermissions(loaded, Deno.execPath());
  return [Deno.execPath(), "run", ...flags, fileURLToPath(Deno.mainModule), ...args];
}
