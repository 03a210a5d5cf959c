/**
 * Every config key: its type, default and one-line doc. The core's own sections are here;
 * each capability's section comes from its spec (`mod/<capability>/spec.ts`), in registry
 * order. The loader, the env layer, the permission derivation and `config/ironpost.toml`
 * (checked by a test) all read the assembled table.
 */
import {
  type DefaultContext,
  field,
  type FieldType,
  type SectionConfig,
  type SectionSpec,
} from "../core/mod.ts";
import { CAPABILITIES } from "../daemon/registry.ts";

export type { DefaultContext, FieldType, SectionSpec };

export const GENERAL_SECTION = {
  doc: "Agent-wide settings.",
  keys: {
    log_level: field.oneOf(
      ["trace", "debug", "info", "warn", "error"],
      "info",
      "least severe level logged: trace, debug, info, warn, error (SIGHUP applies it)",
    ),
    log_format: field.oneOf(["json", "pretty"], "json", "json (one object a line) or pretty"),
    log_file: field.path("", "write logs to this file instead of stderr (empty: stderr)"),
    pid_file: field.path(
      (c) => c.root ? "/run/ironpost/ironpost.pid" : `${c.stateDir}/ironpost.pid`,
      "PID file, created exclusively; refuses a second agent",
    ),
    state_dir: field.path(
      (c) =>
        c.root ? "/var/lib/ironpost" : `${c.xdgStateHome || `${c.home}/.local/state`}/ironpost`,
      "where the SQLite store, checkpoints and spools live (created 0700)",
    ),
    control_socket: field.path(
      (c) => c.root ? "/run/ironpost/ironpost.sock" : `${c.stateDir}/ironpost.sock`,
      "unix socket of the control API (mode 0600) that `ironpost status` reads",
    ),
    shutdown_timeout_secs: field.int(1, 300, 10, "longest a module may take to stop and drain"),
    health_interval_secs: field.int(1, 3600, 5, "how often module health is polled and logged"),
  },
};

export const CHANNELS_SECTION = {
  doc: "Capacities of the bounded channels between modules (full = backpressure).",
  keys: {
    packet_capacity: field.int(1, 10_000_000, 1024, "PacketEvents queued from the eBPF engine"),
    host_capacity: field.int(1, 10_000_000, 1024, "HostEvents queued from the host sensors"),
    alert_capacity: field.int(1, 10_000_000, 256, "AlertEvents queued for the store and guard"),
    action_capacity: field.int(1, 10_000_000, 256, "ActionEvents queued for the audit store"),
  },
};

export const STORAGE_SECTION = {
  doc: "Where alerts, actions and checkpoints are kept.",
  keys: {
    sqlite_path: field.path((c) => `${c.stateDir}/ironpost.db`, "embedded store (mode 0600)"),
    postgres_url: field.url(
      ["postgres", "postgresql"],
      "central PostgreSQL store (empty: none); the password is redacted in output",
    ),
    redis_url: field.url(["redis", "rediss"], "Redis for shared block decisions (empty: none)"),
    spool_dir: field.path(
      (c) => `${c.stateDir}/spool`,
      "local spool while PostgreSQL/Redis are down",
    ),
    retention_days: field.int(
      0,
      36500,
      30,
      "alerts and actions older than this many days are deleted (0: kept forever)",
    ),
    max_db_mb: field.int(
      0,
      1_048_576,
      1024,
      "past this many MB of data the oldest alerts and actions are deleted (0: no cap)",
    ),
  },
};

export type GeneralConfig = SectionConfig<typeof GENERAL_SECTION>;
export type ChannelsConfig = SectionConfig<typeof CHANNELS_SECTION>;
export type StorageConfig = SectionConfig<typeof STORAGE_SECTION>;

/**
 * Every section, in the order of the shipped config: the core's, then each capability's.
 * Capabilities that share a section (the container inventory and the guard both read
 * `[container]`) contribute their keys to it in registry order; the first one's doc heads it.
 */
export const SCHEMA: Record<string, SectionSpec> = {
  general: GENERAL_SECTION,
  channels: CHANNELS_SECTION,
  ...CAPABILITIES.reduce<Record<string, SectionSpec>>((all, c) => {
    const had = all[c.section];
    all[c.section] = had
      ? { doc: had.doc, keys: { ...had.keys, ...c.config.keys } }
      : { doc: c.config.doc, keys: { ...c.config.keys } };
    return all;
  }, {}),
  storage: STORAGE_SECTION,
};

/** Sections whose `enabled` key turns a capability on. */
export const MODULE_SECTIONS: readonly string[] = CAPABILITIES
  .filter((c) => "enabled" in c.config.keys)
  .map((c) => c.section);

/**
 * The directories the specs mark `trusted` (rules, policies) as configured, by key: refused
 * when unsafe, and readable by the agent even before their module runs.
 */
export function trustedPaths(config: unknown): [string, string[]][] {
  const sections = config as Record<string, Record<string, unknown>>;
  return Object.entries(SCHEMA).flatMap(([section, spec]) =>
    Object.entries(spec.keys).filter(([, f]) => f.trusted).map(([key]): [string, string[]] => {
      const v = sections[section][key] as string | string[];
      return [`${section}.${key}`, Array.isArray(v) ? v : [v]];
    })
  );
}

/** Environment variable that overrides a key: `IRONPOST_<SECTION>_<KEY>`. */
export function envName(section: string, key: string): string {
  return `IRONPOST_${section}_${key}`.toUpperCase();
}

/** Every environment variable the config reads, for `--allow-env`. */
export function allEnvNames(): string[] {
  const names: string[] = [];
  for (const [section, spec] of Object.entries(SCHEMA)) {
    for (const key of Object.keys(spec.keys)) names.push(envName(section, key));
  }
  return names;
}

/** A human description of what a type accepts, for `expected …` in diagnostics. */
export function describeType(type: FieldType): string {
  switch (type.t) {
    case "string":
      return "a string";
    case "bool":
      return "true or false";
    case "int":
      return `an integer from ${type.min} to ${type.max}${
        type.powerOfTwo ? " (a power of two)" : ""
      }`;
    case "enum":
      return `one of ${type.values.map((v) => `"${v}"`).join(", ")}`;
    case "path":
      return type.mustExist ? `the path of an existing ${type.mustExist}` : "a path string";
    case "addr":
      return 'an address "host:port" (e.g. "0.0.0.0:514" or "[::1]:514"), or "" to disable';
    case "url":
      return `a URL with scheme ${type.schemes.map((s) => `${s}://`).join(" or ")}, or ""`;
    case "list":
      return {
        string: "a list of strings",
        path: "a list of path strings",
        cidr: 'a list of CIDRs (e.g. "198.18.0.0/15", "2001:db8::/32")',
        name: "a name or a list of names",
      }[type.item];
  }
}
