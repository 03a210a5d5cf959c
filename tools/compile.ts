/**
 * `deno task compile`: build the one `ironpost` executable with the permission flags the
 * deployment's config needs (the same `agentPermissions` the agent and tests use).
 *
 * Usage: deno task compile [--config config/ironpost.toml] [--output dist/ironpost]
 *          [--installed-config /etc/ironpost/ironpost.toml] [--exec /usr/local/bin/ironpost]
 *          [--target x86_64-unknown-linux-gnu] [--print]
 *
 * `--config` is the deployment's config read here to derive the flags; `--installed-config`
 * and `--exec` are where the config and the binary will live on the target host.
 *
 * `deno compile` downloads its runtime (denort) unless DENORT_BIN names a local copy; the
 * environment is passed through, so `DENORT_BIN=/path/to/denort deno task compile` works
 * offline. `--print` shows the command without running it.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { ConfigError, formatDiagnostic, loadConfig } from "../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../mod/daemon/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string", default: "config/ironpost.toml" },
    output: { type: "string", default: "dist/ironpost" },
    exec: { type: "string", default: "/usr/local/bin/ironpost" },
    "installed-config": { type: "string", default: "/etc/ironpost/ironpost.toml" },
    target: { type: "string" },
    print: { type: "boolean", default: false },
  },
});

let flags: string[];
try {
  const loaded = await loadConfig({ path: values.config!, builtModules: builtSections() });
  flags = agentPermissions(loaded, values.exec!, values["installed-config"]!);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  for (const d of err.diagnostics) console.error(formatDiagnostic(d));
  Deno.exit(1);
}

const main = fileURLToPath(new URL("../main.ts", import.meta.url));
const args = [
  "compile",
  ...flags,
  // The BPF objects are read at run time; embed them in the executable.
  "--include",
  "bpf/",
  ...(values.target ? ["--target", values.target] : []),
  "--output",
  values.output!,
  main,
];
if (values.print) {
  console.log(["deno", ...args].join(" "));
  Deno.exit(0);
}
const status = await new Deno.Command("deno", { args, stdin: "null" }).spawn().status;
if (!status.success) {
  console.error(
    "deno compile failed. Without internet it cannot download its runtime: set DENORT_BIN " +
      "to a denort binary of the same Deno version (" + Deno.version.deno + ").",
  );
}
Deno.exit(status.code);
