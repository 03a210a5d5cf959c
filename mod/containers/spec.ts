/**
 * The container inventory as a capability: a service (no `enabled` of its own) built once
 * for the modules that list it, configured by the `[container]` section, which also holds the
 * container guard's keys (the guard is not part of this build: enabling it is a warning).
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { libcPath } from "../../ffi/paths.ts";
import { CONTAINER_METRICS } from "./metrics.ts";

const section = {
  doc: "Container guard: alert-driven actions through the Docker Engine API.",
  keys: {
    enabled: field.bool(false, "run the container guard"),
    docker_socket: field.path("/var/run/docker.sock", "Docker Engine API socket"),
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
    protected: field.list("name", [], "container names never acted on"),
  },
};

/** The `[container]` section's values. */
export type ContainerConfig = SectionConfig<typeof section>;

export const CONTAINERS_SPEC = defineSpec({
  name: "containers",
  section: "container",
  config: section,
  kind: "service",
  produces: [],
  consumes: [],
  // The Docker socket; /proc through libc; dockerode's `debug` enumerates the environment.
  grants: (c) => ({
    read: [c.docker_socket, libcPath()],
    write: [c.docker_socket],
    net: [`unix:${c.docker_socket}`],
    ffi: true,
    allEnv: true,
  }),
  build: async ({ section }) =>
    new (await import("./inventory.ts")).ContainerInventory({ socketPath: section.docker_socket }),
  metrics: CONTAINER_METRICS,
});
