/**
 * `deno task compile`: build the one `ironpost` executable with the permission and V8 flags
 * the deployment's config needs (the same `agentPermissions` the agent, `deno task start` and
 * the tests use), embedding the files it reads at run time.
 *
 * Usage: deno task compile [--profile server|ci|minimal | --config PATH]
 *          [--target x86_64-unknown-linux-gnu|aarch64-unknown-linux-gnu] [--output dist/ironpost]
 *          [--installed-config /etc/ironpost/ironpost.toml] [--exec /usr/local/bin/ironpost]
 *          [--print]
 *
 * `--profile NAME` derives the flags from `config/profiles/NAME.toml` (a deployment profile,
 * loaded as root, with no IRONPOST_* override from the build machine's environment);
 * `--config PATH` from any config, loaded as today (default `config/ironpost.toml`).
 * `--installed-config` and `--exec` are where the config and the binary will live on the
 * target host. The BPF objects, `rules/`, `config/policies/`, `config/profiles/` and
 * `config/ironpost.toml` are embedded with `--include` (the list is `EMBEDDED_ASSETS` in
 * mod/core/assets.ts, which the binary reads them through).
 *
 * `deno compile` downloads its runtime (denort) for the target unless DENORT_BIN names a local
 * copy (of the same Deno version and target); the environment is passed through, so
 * `DENORT_BIN=/path/to/denort deno task compile` works offline. `--print` shows the exact
 * command (with DENORT_BIN when set) without running it.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { ConfigError, formatDiagnostic, loadConfig } from "../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../mod/daemon/mod.ts";
import { EMBEDDED_ASSETS } from "../mod/core/assets.ts";

export const PROFILES = ["server", "ci", "minimal"] as const;
export const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function usage(message: string): never {
  console.error(`compile: ${message}`);
  console.error(
    "usage: deno task compile [--profile server|ci|minimal | --config PATH] " +
      `[--target ${TARGETS.join("|")}] [--output PATH] [--installed-config PATH] ` +
      "[--exec PATH] [--print]",
  );
  Deno.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    options: {
      profile: { type: "string" },
      config: { type: "string" },
      output: { type: "string", default: "dist/ironpost" },
      exec: { type: "string", default: "/usr/local/bin/ironpost" },
      "installed-config": { type: "string", default: "/etc/ironpost/ironpost.toml" },
      target: { type: "string" },
      print: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  usage((err as Error).message);
}

const profile = values.profile;
if (profile !== undefined && !(PROFILES as readonly string[]).includes(profile)) {
  usage(`unknown profile "${profile}"; expected ${PROFILES.join(", ")}`);
}
if (profile !== undefined && values.config !== undefined) {
  usage("--profile and --config both name the config; give one");
}
if (values.target !== undefined && !(TARGETS as readonly string[]).includes(values.target)) {
  usage(`unsupported target "${values.target}"; expected ${TARGETS.join(" or ")}`);
}
const configPath = profile !== undefined
  ? `${ROOT}config/profiles/${profile}.toml`
  : values.config ?? "config/ironpost.toml";

let flags: string[];
try {
  const loaded = await loadConfig({
    path: configPath,
    builtModules: builtSections(),
    // A profile is a deployment: the installed agent runs as root (systemd), and the build
    // machine's IRONPOST_* variables are not part of it.
    ...(profile !== undefined ? { uid: 0, home: "/root", env: () => undefined } : {}),
  });
  // NOTIFY_SOCKET of the build machine is not the target's: only the system manager's socket.
  flags = agentPermissions(
    loaded,
    values.exec!,
    values["installed-config"]!,
    undefined,
    profile !== undefined ? "" : undefined,
  );
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  for (const d of err.diagnostics) console.error(formatDiagnostic(d));
  Deno.exit(1);
}

const main = fileURLToPath(new URL("../main.ts", import.meta.url));
const args = [
  "compile",
  ...flags,
  // Files read at run time, found through mod/core/assets.ts in the binary's virtual fs.
  ...EMBEDDED_ASSETS.flatMap((a) => ["--include", `${ROOT}${a}`]),
  ...(values.target ? ["--target", values.target] : []),
  "--output",
  values.output!,
  main,
];
const denort = Deno.env.get("DENORT_BIN");
if (values.print) {
  const quoted = args.map((a) =>
    /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`
  );
  console.log([...(denort ? [`DENORT_BIN=${denort}`] : []), "deno", ...quoted].join(" "));
  Deno.exit(0);
}
if (denort) {
  try {
    await Deno.stat(denort);
  } catch {
    console.error(`compile: DENORT_BIN=${denort} does not exist`);
    Deno.exit(1);
  }
}
const status = await new Deno.Command("deno", { args, stdin: "null" }).spawn().status;
if (!status.success) {
  console.error(
    "deno compile failed. Without internet it cannot download its runtime: set DENORT_BIN " +
      `to a denort binary of Deno ${Deno.version.deno} for ` +
      `${values.target ?? Deno.build.target}.`,
  );
}
Deno.exit(status.code);
