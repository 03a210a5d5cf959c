/**
 * The container guard as a capability: its keys of the `[container]` section (the
 * inventory's `docker_socket` is the other), the response policies it validates, how it is
 * built, and its metrics. It consumes alerts and produces actions (the audit trail) and
 * block decisions for the packet filter.
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { GUARD_METRICS } from "./metrics.ts";

const section = {
  doc: "Containers: the Docker Engine API and the container guard's alert-driven actions.",
  keys: {
    enabled: field.bool(false, "run the container guard"),
    policy_dir: field.path("/etc/ironpost/policies", "response policy files", {
      mustExist: "dir",
      trusted: true,
    }),
    cache_ttl_secs: field.int(1, 86400, 60, "how long container metadata is cached"),
    retry_attempts: field.int(0, 20, 3, "retries of a failed action"),
    retry_backoff_secs: field.int(0, 600, 2, "first retry delay, doubled each time"),
    dry_run: field.bool(false, "log and audit actions without executing them"),
    cooldown_secs: field.int(0, 86400, 300, "least time between two actions on one target"),
    max_actions_per_minute: field.int(1, 10000, 30, "cap on actions across all targets"),
    protected: field.list(
      "name",
      [],
      "container names or images (globs) never acted on",
    ),
    protected_sources: field.list(
      "cidr",
      [],
      "sources never blocked (the operator's; the SSH client of the agent's start is added)",
    ),
    queue_capacity: field.int(1, 100_000, 1000, "actions held while Docker is unreachable"),
    queue_max_wait_secs: field.int(1, 86400, 300, "a held action older than this expires"),
  },
};

/** The guard's keys of the `[container]` section. */
export type GuardConfig = SectionConfig<typeof section>;

export const GUARD_SPEC = defineSpec({
  name: "guard",
  section: "container",
  config: section,
  liveKeys: [
    "policy_dir",
    "cache_ttl_secs",
    "retry_attempts",
    "retry_backoff_secs",
    "dry_run",
    "cooldown_secs",
    "max_actions_per_minute",
    "protected",
    "protected_sources",
    "queue_capacity",
    "queue_max_wait_secs",
  ],
  produces: ["actions", "decisions"],
  consumes: ["alerts"],
  services: () => ["containers"],
  // The operator's SSH session at start is never blocked.
  grants: () => ({ env: ["SSH_CONNECTION"] }),
  validate: async (c) =>
    (await import("./policy_load.ts")).loadPolicies(c.policy_dir)
      .then((r) => r.diagnostics),
  build: async ({ section, channels, store, services, sections }) =>
    new (await import("./module.ts")).GuardModule(section, {
      alerts: channels.inputs.alerts,
      actions: channels.outputs.actions,
      decisions: channels.outputs.decisions,
    }, {
      store,
      containers: await services.containers(),
      packetFilter: packetFilterView(sections.ebpf),
    }),
  metrics: GUARD_METRICS,
});

/**
 * What the guard needs of the packet filter's section: whether it runs (a block decision
 * needs it) and its allowlist, which `block_ip` refuses so no policy can block what the
 * operator always lets through.
 */
function packetFilterView(ebpf: Readonly<Record<string, unknown>> | undefined) {
  return {
    enabled: ebpf?.enabled === true,
    allowlist: (ebpf?.allowlist as string[] | undefined) ?? [],
    allowlistFiles: (ebpf?.allowlist_files as string[] | undefined) ?? [],
  };
}
