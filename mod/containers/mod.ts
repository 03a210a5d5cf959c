/**
 * The container inventory: maps a cgroup (leaf name or v2 id) or mount namespace to the
 * Docker container it belongs to (id, name, image, labels), from Docker's container list
 * and events stream over the Engine API (npm:dockerode). One instance is built by the
 * orchestrator and shared by the modules that attribute or act on containers.
 *
 * ```ts ignore
 * import { ContainerInventory } from "./mod.ts";
 * const inv = new ContainerInventory({ socketPath: "/var/run/docker.sock" });
 * await inv.start();
 * console.log(inv.health(), inv.list().map((c) => c.name));
 * await inv.stop();
 * ```
 * @module
 */
export {
  type ContainerChange,
  ContainerInventory,
  type ContainerInventoryOptions,
  FOLLOWED_ACTIONS,
  userAliases,
} from "./inventory.ts";
export { type ContainerInfo, toRef } from "./container_info.ts";
export { containerIdFromCgroup, isContainerId } from "./cgroup_name.ts";
export {
  type DockerApi,
  type DockerEvent,
  DockerodeApi,
  type DockerodeApiOptions,
  type EventSubscription,
  type InspectedContainer,
  type InspectedNetwork,
  type ListedContainer,
  parseEvent,
  toActionError,
} from "./docker_api.ts";
export { ContainerError } from "./errors.ts";
export {
  type CgroupMounts,
  parseCgroupMounts,
  parseProcCgroup,
  type ProcessView,
  readProcessView,
} from "./proc_view.ts";
export { Backoff } from "./backoff.ts";
