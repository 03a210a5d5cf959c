/**
 * Every config key: its type, default and one-line doc. The loader, the env layer, the
 * permission derivation and `config/ironpost.toml` (checked by a test) all read this table.
 * The sections and keys of the original Ironpost design keep their names.
 */

/** What a key accepts. Paths are resolved against the config file's directory. */
export type FieldType =
  | { t: "string" }
  | { t: "bool" }
  | { t: "int"; min: number; max: number; powerOfTwo?: boolean }
  | { t: "enum"; values: readonly string[] }
  | { t: "path"; mustExist?: "dir" | "file" }
  | { t: "addr"; optional: true }
  | { t: "url"; schemes: readonly string[] }
  | { t: "list"; item: "string" | "path" | "cidr" | "name" };

/** Values defaults may depend on: who runs the agent and where its state lives. */
export interface DefaultContext {
  root: boolean;
  home: string;
  xdgStateHome?: string;
  /** The resolved `general.state_dir` (available to every key but `state_dir` itself). */
  stateDir: string;
}

export interface FieldSpec {
  type: FieldType;
  default: unknown | ((ctx: DefaultContext) => unknown);
  doc: string;
  /** Example for the shipped config when the default depends on the machine. */
  machineDependent?: boolean;
}

export interface SectionSpec {
  doc: string;
  keys: Record<string, FieldSpec>;
}

const int = (min: number, max: number, def: number, doc: string): FieldSpec => ({
  type: { t: "int", min, max },
  default: def,
  doc,
});
const bool = (def: boolean, doc: string): FieldSpec => ({ type: { t: "bool" }, default: def, doc });
const oneOf = (values: readonly string[], def: string, doc: string): FieldSpec => ({
  type: { t: "enum", values },
  default: def,
  doc,
});
const list = (
  item: "string" | "path" | "cidr" | "name",
  def: string[],
  doc: string,
): FieldSpec => ({ type: { t: "list", item }, default: def, doc });
const path = (
  def: string | ((ctx: DefaultContext) => string),
  doc: string,
  mustExist?: "dir" | "file",
): FieldSpec => ({
  type: { t: "path", mustExist },
  default: def,
  doc,
  machineDependent: typeof def === "function",
});
const MIB = 1024 * 1024;

export const SCHEMA: Record<string, SectionSpec> = {
  general: {
    doc: "Agent-wide settings.",
    keys: {
      log_level: oneOf(
        ["trace", "debug", "info", "warn", "error"],
        "info",
        "least severe level logged: trace, debug, info, warn, error (SIGHUP applies it)",
      ),
      log_format: oneOf(["json", "pretty"], "json", "json (one object a line) or pretty"),
      log_file: path("", "write logs to this file instead of stderr (empty: stderr)"),
      pid_file: path(
        (c) => c.root ? "/run/ironpost/ironpost.pid" : `${c.stateDir}/ironpost.pid`,
        "PID file, created exclusively; refuses a second agent",
      ),
      state_dir: path(
        (c) =>
          c.root ? "/var/lib/ironpost" : `${c.xdgStateHome || `${c.home}/.local/state`}/ironpost`,
        "where the SQLite store, checkpoints and spools live (created 0700)",
      ),
      control_socket: path(
        (c) => c.root ? "/run/ironpost/ironpost.sock" : `${c.stateDir}/ironpost.sock`,
        "unix socket of the control API (mode 0600) that `ironpost status` reads",
      ),
      shutdown_timeout_secs: int(1, 300, 10, "longest a module may take to stop and drain"),
      health_interval_secs: int(1, 3600, 5, "how often module health is polled and logged"),
    },
  },
  channels: {
    doc: "Capacities of the bounded channels between modules (full = backpressure).",
    keys: {
      packet_capacity: int(1, 10_000_000, 1024, "PacketEvents queued from the eBPF engine"),
      host_capacity: int(1, 10_000_000, 1024, "HostEvents queued from the host sensors"),
      alert_capacity: int(1, 10_000_000, 256, "AlertEvents queued for the store and guard"),
      action_capacity: int(1, 10_000_000, 256, "ActionEvents queued for the audit store"),
    },
  },
  ebpf: {
    doc: "XDP/TC packet filter (needs root or CAP_BPF+CAP_NET_ADMIN).",
    keys: {
      enabled: bool(false, "load the XDP/TC filter"),
      interface: list("name", ["eth0"], "interface name, or a list of names, to attach to"),
      mode: oneOf(["xdp", "tc"], "xdp", "xdp, or tc for links where XDP cannot run"),
      xdp_mode: oneOf(
        ["auto", "native", "generic"],
        "auto",
        "auto tries native then generic; native or generic force one",
      ),
      blocklist: list("cidr", [], "CIDRs (v4 or v6) dropped at the NIC"),
      allowlist: list("cidr", [], "CIDRs always passed; wins over every block"),
      blocklist_files: list("path", [], "files of CIDRs to drop, one a line, # comments"),
      allowlist_files: list("path", [], "files of CIDRs to always pass"),
      syn_rate_per_sec: int(1, 100_000_000, 200, "TCP SYNs a source may send per second"),
      syn_burst: int(1, 100_000_000, 400, "SYNs a source may send in a burst"),
      portscan_threshold: int(2, 65535, 50, "distinct destination ports that make a scan"),
      portscan_window_secs: int(1, 3600, 10, "window in which ports are counted"),
      portscan_action: oneOf(["alert", "block"], "alert", "alert only, or also drop"),
      event_sample_rate: int(1, 1_000_000, 1, "report one ring-buffer event in N (1: all)"),
      max_decisions: int(1, 10_000_000, 100_000, "most live block decisions held"),
    },
  },
  sensors: {
    doc: "CO-RE eBPF host sensors (process, file, network).",
    keys: {
      enabled: bool(false, "load the host sensors"),
      exec: bool(true, "report process executions"),
      file: bool(true, "report file writes and sensitive reads"),
      network: bool(true, "report TCP connects and accepts"),
      trusted_exec_prefixes: list("path", [], "executables under these prefixes are not reported"),
      watch_paths: list(
        "path",
        [
          "/etc/passwd",
          "/etc/shadow",
          "/etc/sudoers",
          "/etc/sudoers.d",
          "/root/.ssh/authorized_keys",
          "/etc/systemd/system",
          "/etc/cron.d",
          "/var/spool/cron",
        ],
        "critical files and dirs whose changes are always reported",
      ),
      sensitive_read_prefixes: list(
        "path",
        ["/etc/shadow", "/root/.ssh"],
        "reads under these are reported",
      ),
      ignore_paths: list("path", ["/proc", "/sys", "/dev"], "file events under these are dropped"),
      ignore_comms: list("string", [], "process names whose events are dropped in the kernel"),
      ringbuf_bytes: {
        type: { t: "int", min: 4096, max: 1024 * MIB, powerOfTwo: true },
        // A create/write/unlink storm makes ~100k records/s for a moment; 32 MiB holds ~45k
        // of them while the reader catches up.
        default: 32 * MIB,
        doc: "ring buffer size in bytes (a power of two)",
      },
      process_table_size: int(1024, 10_000_000, 32768, "processes remembered for parent lookup"),
      loss_threshold_percent: int(0, 100, 1, "lost-record rate that turns health degraded"),
    },
  },
  log_pipeline: {
    doc: "Log sources, parsers and the Sigma rule engine.",
    keys: {
      enabled: bool(false, "run the log pipeline"),
      file_paths: list("string", [], "files and globs to tail"),
      syslog_udp_addr: { type: { t: "addr", optional: true }, default: "", doc: "UDP syslog" },
      syslog_tcp_addr: { type: { t: "addr", optional: true }, default: "", doc: "TCP syslog" },
      rules_dir: path("/etc/ironpost/rules", "Sigma rules directory", "dir"),
      extra_rules_dirs: list("path", [], "more rule directories (e.g. a SigmaHQ checkout)"),
      flush_interval_secs: int(1, 3600, 5, "how often checkpoints are flushed"),
      buffer_capacity: int(1, 10_000_000, 10000, "log lines buffered between sources and rules"),
      start_at: oneOf(["end", "start"], "end", "where a file never seen before is read from"),
      max_line_bytes: int(256, 16 * MIB, 65536, "longer lines are cut and flagged"),
      journald: bool(false, "follow the systemd journal with journalctl"),
      journald_units: list("name", [], "only these units (empty: all)"),
      syslog_udp_recv_buffer_bytes: int(65536, 256 * MIB, 4 * MIB, "UDP socket receive buffer"),
      syslog_tcp_max_connections: int(1, 65535, 256, "concurrent TCP syslog connections"),
      syslog_max_message_bytes: int(480, 16 * MIB, 65536, "largest syslog message accepted"),
      suppress_window_secs: int(0, 86400, 60, "repeats of one alert per group are counted"),
      correlation_max_groups: int(100, 100_000_000, 100_000, "correlation groups held"),
    },
  },
  container: {
    doc: "Container guard: alert-driven actions through the Docker Engine API.",
    keys: {
      enabled: bool(false, "run the container guard"),
      docker_socket: path("/var/run/docker.sock", "Docker Engine API socket"),
      policy_dir: path("/etc/ironpost/policies", "response policy files", "dir"),
      cache_ttl_secs: int(1, 86400, 60, "how long container metadata is cached"),
      retry_attempts: int(0, 20, 3, "retries of a failed action"),
      retry_backoff_secs: int(0, 600, 2, "first retry delay, doubled each time"),
      dry_run: bool(false, "log and audit actions without executing them"),
      cooldown_secs: int(0, 86400, 300, "least time between two actions on one target"),
      max_actions_per_minute: int(1, 10000, 30, "cap on actions across all targets"),
      protected: list("name", [], "container names never acted on"),
    },
  },
  sbom: {
    doc: "SBOM and vulnerability scanner (CycloneDX + OSV).",
    keys: {
      enabled: bool(false, "run the scanner"),
      scan_dirs: list("path", [], "directories to inventory"),
      scan_interval_secs: int(60, 604800, 3600, "time between full scans"),
      vuln_db_path: path((c) => `${c.stateDir}/vulndb.sqlite`, "local OSV database (SQLite index)"),
      min_severity: oneOf(
        ["critical", "high", "medium", "low"],
        "medium",
        "least severity that raises an alert",
      ),
      scan_containers: bool(true, "also scan running containers"),
    },
  },
  storage: {
    doc: "Where alerts, actions and checkpoints are kept.",
    keys: {
      sqlite_path: path((c) => `${c.stateDir}/ironpost.db`, "embedded store (mode 0600)"),
      postgres_url: {
        type: { t: "url", schemes: ["postgres", "postgresql"] },
        default: "",
        doc: "central PostgreSQL store (empty: none); the password is redacted in output",
      },
      redis_url: {
        type: { t: "url", schemes: ["redis", "rediss"] },
        default: "",
        doc: "Redis for shared block decisions (empty: none)",
      },
      spool_dir: path((c) => `${c.stateDir}/spool`, "local spool while PostgreSQL/Redis are down"),
    },
  },
};

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
