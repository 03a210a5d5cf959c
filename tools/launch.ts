/**
 * `deno task start`: run the agent under `deno run` with exactly the permission flags its
 * config needs (`agentPermissions`, the function `ironpost permissions`, `ironpost start`,
 * the compile task and the tests use), never `-A`.
 *
 * Usage: deno task start [ironpost arguments…]   (default: run)
 *
 * With `--config PATH` the arguments go to `ironpost` as they are. Without, the agent runs
 * its main job on the built-in `server` profile (config/profiles/server.toml, an embedded
 * asset): as root the host sensors, the log pipeline on the auth log and the journal with the
 * shipped rules, the container guard with the shipped policies and the SQLite store; without
 * root what works unprivileged (the log files this user can read, an SBOM scan of the
 * directory `deno task start` was run from). It prints what runs, what it left off and how to
 * turn that on. Other commands get the same default, so `deno task start trace` and
 * `deno task start alerts` talk to that agent. IRONPOST_* variables still override it.
 *
 * Signals: Ctrl-C and `timeout` signal the whole process group, and `deno task` forwards its
 * copy to this launcher too, so the launcher sees one signal two or three times. The agent
 * treats a second SIGINT/SIGTERM as "exit now". So the agent runs in a process group of its
 * own (the group's signals never reach it) and the launcher forwards it one copy: the first
 * of a burst; a repeat within {@link REPEAT_MS} is the same signal delivered twice and is
 * dropped, a later one (the user pressing Ctrl-C again) is forwarded.
 */
import { fileURLToPath } from "node:url";
import { ConfigError, formatDiagnostic, loadConfig, type LoadedConfig } from "../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../mod/daemon/mod.ts";
import { assetPath } from "../mod/core/assets.ts";

/** Copies of one signal closer together than this are one delivery seen several times. */
export const REPEAT_MS = 500;

/** Options that stand for a command of their own rather than `run`. */
const OPTION_COMMANDS = new Set(["--validate", "--version", "--help", "-h"]);

const given = [...Deno.args];
const hasConfig = given.some((a) => a === "--config" || a === "-c" || a.startsWith("--config="));
const args = given.length > 0 ? given : ["run"];
const env: Record<string, string> = {};
/** Auth logs of the profile this user cannot read (not there, or no permission). */
const unreadable: string[] = [];
let configPath: string;
if (hasConfig) {
  const ci = args.findIndex((a) => a === "--config" || a === "-c");
  configPath = ci >= 0
    ? args[ci + 1]
    : args.find((a) => a.startsWith("--config="))!.slice("--config=".length);
} else {
  configPath = assetPath("config/profiles/server.toml");
  args.push("--config", configPath);
  if (Deno.uid() !== 0) Object.assign(env, await unprivilegedOverrides());
}
const readEnv = (name: string) => name in env ? env[name] : Deno.env.get(name);

let loaded: LoadedConfig;
let flags: string[];
try {
  loaded = await loadConfig({ path: configPath, builtModules: builtSections(), env: readEnv });
  // The agent is spawned by name, so the permission names the same `deno` on PATH.
  flags = agentPermissions(loaded, Deno.execPath());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  for (const d of err.diagnostics) console.error(formatDiagnostic(d));
  Deno.exit(1);
}
// `run` is the default command, also when the arguments start with options.
const runsAgent = args[0] === "run" ||
  (args[0].startsWith("-") && !args.some((a) => OPTION_COMMANDS.has(a)));
if (!hasConfig && runsAgent) console.error(defaultSummary(loaded, env));

const main = fileURLToPath(new URL("../main.ts", import.meta.url));
const child = new Deno.Command("deno", {
  args: ["run", ...flags, main, ...args],
  env,
  // The agent reads no input; in a group of its own it must not touch the terminal's input.
  stdin: runsAgent ? "null" : "inherit",
  stdout: "inherit",
  stderr: "inherit",
  // Its own process group: signals sent to ours reach it only through the launcher.
  detached: runsAgent,
}).spawn();

if (runsAgent) {
  const last = new Map<Deno.Signal, number>();
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(sig, () => {
      const now = performance.now();
      const before = last.get(sig);
      last.set(sig, now);
      if (before !== undefined && now - before < REPEAT_MS) return;
      try {
        child.kill(sig);
      } catch {
        // already exited
      }
    });
  }
} else {
  // A client command (status, trace, alerts…) shares our group and gets the terminal's
  // signals itself; the launcher only waits for it.
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(sig, () => {});
  }
}
const status = await child.status;
Deno.exit(status.signal ? 128 + signalNumber(status.signal) : status.code);

function signalNumber(sig: Deno.Signal): number {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[sig as string] ?? 1;
}

/**
 * Without root: no host sensors and no container guard (kernel programs and Docker need
 * root), the auth logs this user can read, state in the user's state dir, and an SBOM scan
 * of the directory `deno task start` was started from. Variables the user set win.
 */
async function unprivilegedOverrides(): Promise<Record<string, string>> {
  const profile = await loadConfig({
    path: assetPath("config/profiles/server.toml"),
    builtModules: builtSections(),
    env: () => undefined,
  });
  const readable: string[] = [];
  for (const p of profile.config.log_pipeline.file_paths) {
    try {
      (await Deno.open(p, { read: true })).close();
      readable.push(p);
    } catch {
      unreadable.push(p);
    }
  }
  const wanted: Record<string, string> = {
    IRONPOST_SENSORS_ENABLED: "false",
    IRONPOST_CONTAINER_ENABLED: "false",
    IRONPOST_LOG_PIPELINE_FILE_PATHS: readable.join(","),
    IRONPOST_SBOM_ENABLED: "true",
    IRONPOST_SBOM_SCAN_DIRS: Deno.env.get("INIT_CWD") ?? Deno.cwd(),
    IRONPOST_SBOM_SCAN_CONTAINERS: "false",
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) if (Deno.env.get(k) === undefined) out[k] = v;
  return out;
}

/** What the default runs, what it left off and how to turn that on, for the terminal. */
function defaultSummary(loaded: LoadedConfig, overrides: Record<string, string>): string {
  const c = loaded.config;
  const root = Deno.uid() === 0;
  const on: string[] = [];
  const off: string[] = [];
  if (c.sensors.enabled) on.push("host sensors (process, file, network events)");
  else off.push("host sensors: need root (sudo deno task start)");
  if (c.log_pipeline.enabled) {
    const sources = [
      ...c.log_pipeline.file_paths,
      ...(c.log_pipeline.journald ? ["journald"] : []),
    ];
    on.push(
      `log pipeline on ${sources.join(", ") || "no source"} with the rules in ` +
        c.log_pipeline.rules_dir,
    );
  }
  if ("IRONPOST_LOG_PIPELINE_FILE_PATHS" in overrides) {
    for (const p of unreadable) {
      off.push(`${p}: missing or not readable by you (run as root, or join its group)`);
    }
  }
  if (c.container.enabled) {
    on.push(`container guard with the policies in ${c.container.policy_dir}`);
  } else off.push("container guard: needs root and Docker (sudo deno task start)");
  if (c.sbom.enabled) {
    on.push(`SBOM scan of ${c.sbom.scan_dirs.join(", ")}`);
    off.push(
      `vulnerability matching until there is a database at ${c.sbom.vuln_db_path}: ` +
        "deno task start vulndb update",
    );
  }
  on.push(`SQLite store ${c.storage.sqlite_path}`);
  if (!c.ebpf.enabled) {
    off.push(
      "packet filter: name an interface: " +
        "IRONPOST_EBPF_ENABLED=true IRONPOST_EBPF_INTERFACE=eth0 deno task start" +
        (root ? "" : " (as root)"),
    );
  }
  return [
    `ironpost: no --config given: running the built-in server profile${
      root ? "" : " without root"
    } (${loaded.path})`,
    ...on.map((s) => `  on:   ${s}`),
    ...off.map((s) => `  off:  ${s}`),
    "  see:  deno task start trace | deno task start alerts | deno task start status",
  ].join("\n");
}
