import type { ContainerRef } from "./events.ts";
import type { Module } from "./module.ts";

/**
 * The container inventory as capabilities see it: which container a cgroup or mount
 * namespace belongs to. One instance, built by the orchestrator, is shared by every module
 * that lists the `containers` service (sensors, guard, enforcer, SBOM scanner).
 */
export interface ContainerLookup extends Module {
  /** By the leaf name of a task's cgroup (`<id>` or `docker-<id>.scope`). */
  lookupByCgroup(name: string): ContainerRef | undefined;
  /** By the inode number of a task's mount namespace. */
  lookupByMntns(inum: number): ContainerRef | undefined;
  /** Ask Docker about a cgroup the inventory has not seen yet (a container just started). */
  resolveCgroup(name: string): Promise<ContainerRef | undefined>;
}
