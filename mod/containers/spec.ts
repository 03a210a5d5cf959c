/**
 * The container inventory as a capability: a service (no `enabled` of its own) built once
 * for the modules that list it. It reads `docker_socket` from the `[container]` section,
 * whose other keys belong to the container guard (mod/guard/spec.ts).
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { libcPath } from "../../ffi/paths.ts";
import { CONTAINER_METRICS } from "./metrics.ts";

const section = {
  doc: "Containers: the Docker Engine API and the container guard's alert-driven actions.",
  keys: {
    docker_socket: field.path("/var/run/docker.sock", "Docker Engine API socket"),
  },
};

/** The inventory's keys of the `[container]` section. */
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
