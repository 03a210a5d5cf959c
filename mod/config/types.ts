/** The effective configuration after defaults, TOML, environment and CLI are merged. */
export interface IronpostConfig {
  general: GeneralConfig;
  channels: ChannelsConfig;
  ebpf: EbpfConfig;
  sensors: SensorsConfig;
  log_pipeline: LogPipelineConfig;
  container: ContainerConfig;
  sbom: SbomConfig;
  storage: StorageConfig;
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "pretty";

export interface GeneralConfig {
  log_level: LogLevel;
  log_format: LogFormat;
  /** Empty: log to stderr. */
  log_file: string;
  pid_file: string;
  state_dir: string;
  control_socket: string;
  shutdown_timeout_secs: number;
  health_interval_secs: number;
}

export interface ChannelsConfig {
  packet_capacity: number;
  host_capacity: number;
  alert_capacity: number;
  action_capacity: number;
}

export interface EbpfConfig {
  enabled: boolean;
  interface: string[];
  mode: "xdp" | "tc";
  xdp_mode: "auto" | "native" | "generic";
  blocklist: string[];
  allowlist: string[];
  blocklist_files: string[];
  allowlist_files: string[];
  syn_rate_per_sec: number;
  syn_burst: number;
  portscan_threshold: number;
  portscan_window_secs: number;
  portscan_action: "alert" | "block";
  event_sample_rate: number;
  max_decisions: number;
}

export interface SensorsConfig {
  enabled: boolean;
  exec: boolean;
  file: boolean;
  network: boolean;
  trusted_exec_prefixes: string[];
  watch_paths: string[];
  sensitive_read_prefixes: string[];
  ignore_paths: string[];
  ignore_comms: string[];
  ringbuf_bytes: number;
  process_table_size: number;
  loss_threshold_percent: number;
}

export interface LogPipelineConfig {
  enabled: boolean;
  file_paths: string[];
  syslog_udp_addr: string;
  syslog_tcp_addr: string;
  rules_dir: string;
  extra_rules_dirs: string[];
  flush_interval_secs: number;
  buffer_capacity: number;
  start_at: "end" | "start";
  max_line_bytes: number;
  journald: boolean;
  journald_units: string[];
  syslog_udp_recv_buffer_bytes: number;
  syslog_tcp_max_connections: number;
  syslog_max_message_bytes: number;
  suppress_window_secs: number;
  correlation_max_groups: number;
}

export interface ContainerConfig {
  enabled: boolean;
  docker_socket: string;
  policy_dir: string;
  cache_ttl_secs: number;
  retry_attempts: number;
  retry_backoff_secs: number;
  dry_run: boolean;
  cooldown_secs: number;
  max_actions_per_minute: number;
  protected: string[];
}

export interface SbomConfig {
  enabled: boolean;
  scan_dirs: string[];
  scan_interval_secs: number;
  vuln_db_path: string;
  min_severity: "critical" | "high" | "medium" | "low";
  scan_containers: boolean;
}

export interface StorageConfig {
  sqlite_path: string;
  postgres_url: string;
  redis_url: string;
  spool_dir: string;
}

/** The sections that are modules (they have `enabled`). */
export type ModuleSection = "ebpf" | "sensors" | "log_pipeline" | "container" | "sbom";
export const MODULE_SECTIONS: readonly ModuleSection[] = [
  "ebpf",
  "sensors",
  "log_pipeline",
  "container",
  "sbom",
];
