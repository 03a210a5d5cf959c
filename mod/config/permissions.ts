import { dirname } from "node:path";
import { allEnvNames, trustedPaths } from "./schema.ts";
import type { IronpostConfig } from "./types.ts";
import type { Grants } from "../core/mod.ts";

export type { Grants };

export interface PermissionOptions {
  /** Absolute path of the config the agent will read. */
  configPath: string;
  /**
   * The executable `ironpost start` re-runs to put the daemon in the background:
   * `Deno.execPath()` under `deno run`, the installed binary for `deno compile`.
   */
  selfExec: string;
  /** Grants of the enabled modules (see the module registry). */
  grants?: Grants[];
  /**
   * `NOTIFY_SOCKET` where the flags are derived (a path; abstract `@names` are not
   * reachable through Deno's API). `/run/systemd/notify` is allowed whatever this is.
   */
  notifySocket?: string;
}

/** The system manager's sd_notify socket (mod/daemon/sd_notify.ts). */
const SYSTEM_NOTIFY_SOCKET = "/run/systemd/notify";

/**
 * The Deno permission flags an agent running this config needs, and nothing more. The
 * `start` task, `ironpost start`, the compile task and every test that runs the agent use
 * this one function, so there is one source of truth for what the agent may touch.
 *
 * @example
 * ```ts ignore
 * import { derivePermissions } from "./permissions.ts";
 * const flags = derivePermissions(config, { configPath: "/etc/ironpost/ironpost.toml",
 *   selfExec: "/usr/local/bin/ironpost" });
 * // ["--no-prompt", "--allow-read=/etc/ironpost/ironpost.toml,/var/lib/ironpost,…", …]
 * ```
 */
export function derivePermissions(config: IronpostConfig, opts: PermissionOptions): string[] {
  const g = config.general;
  const s = config.storage;
  const read = new Set<string>();
  const write = new Set<string>();
  const both = (p: string) => {
    read.add(p);
    write.add(p);
  };

  read.add(opts.configPath);
  both(g.state_dir);
  // The PID file and socket directories are created at start (mkdir needs write on them).
  both(dirname(g.pid_file));
  both(dirname(g.control_socket));
  if (g.log_file) both(dirname(g.log_file));
  // SQLite writes -wal and -shm beside the database.
  both(dirname(s.sqlite_path));
  both(s.spool_dir);
  // Validation checks the owner and mode of rule and policy dirs, even before their module runs.
  for (const [, dirs] of trustedPaths(config)) for (const dir of dirs) read.add(dir);

  // The control API binds a staging name, then renames it into place (see control_api.ts).
  const net = new Set([`unix:${g.control_socket}`, `unix:${g.control_socket}.new`]);
  // sd_notify: the end the agent binds beside its control socket (its directory is already
  // writable), and the systemd sockets it sends to. A compiled binary's flags are fixed at
  // build time, so the system manager's socket is always allowed; the one in the
  // environment now (a user manager's) only when the flags are derived under it.
  net.add(`unix:${g.control_socket}.notify`);
  for (const sock of new Set([SYSTEM_NOTIFY_SOCKET, opts.notifySocket ?? ""])) {
    if (!sock.startsWith("/")) continue;
    write.add(sock);
    net.add(`unix:${sock}`);
  }

  // osUptime: MONOTONIC_USEC for sd_notify's RELOADING=1, without FFI.
  const sys = new Set(["hostname", "uid", "gid", "osUptime"]);
  const run = new Set([opts.selfExec]);
  let ffi = false;
  let allEnv = false;
  const env = new Set(["HOME", "XDG_STATE_HOME", "LOG_TOKENS", "LOG_STREAM", ...allEnvNames()]);
  for (const e of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) env.add(e);
  for (const gr of opts.grants ?? []) {
    for (const e of gr.env ?? []) env.add(e);
    allEnv ||= gr.allEnv === true;
    for (const p of gr.read ?? []) read.add(p);
    for (const p of gr.write ?? []) write.add(p);
    ffi ||= gr.ffi === true;
    for (const a of gr.net ?? []) net.add(a);
    for (const c of gr.run ?? []) run.add(c);
    for (const s of gr.sys ?? []) sys.add(s);
  }

  const flags = ["--no-prompt"];
  flags.push(`--allow-read=${minimal(read).join(",")}`);
  flags.push(`--allow-write=${minimal(write).join(",")}`);
  flags.push(`--allow-net=${[...net].join(",")}`);
  // npm:yaml (Sigma rules) reads LOG_TOKENS and LOG_STREAM on every parse.
  flags.push(
    allEnv ? "--allow-env" : `--allow-env=${[...env].join(",")}`,
  );
  flags.push(`--allow-sys=${[...sys].join(",")}`);
  flags.push(`--allow-run=${[...run].join(",")}`);
  if (ffi) flags.push("--allow-ffi");
  // Deno.listenDatagram on a unix socket, which sd_notify sends with.
  flags.push("--unstable-net");
  // Not a permission but part of the same set: a rule's regex can never stall the pipeline,
  // V8 switches to its linear-time engine on excessive backtracking.
  flags.push(
    "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks,--max-semi-space-size=8,--heap-growing-percent=100",
  );
  return flags;
}

/** Drop paths already covered by a parent in the set, and sort, so flags stay short and stable. */
function minimal(paths: Set<string>): string[] {
  const sorted = [...paths].filter((p) => p !== "").sort();
  return sorted.filter((p) =>
    !sorted.some((q) => q !== p && (p.startsWith(q.endsWith("/") ? q : q + "/")))
  );
}
