import type { ContainerRef } from "./events.ts";
import type { Module } from "./module.ts";

/** A container as the inventory lists it. */
export interface ContainerSummary {
  /** Full 64-hex id. */
  id: string;
  /** Name without Docker's leading `/`. */
  name: string;
  /** The image as `docker ps` shows it. */
  image: string;
  /** Docker's state: `running`, `paused`, `exited`, `created`, `restarting`, `dead`. */
  state: string;
}

/** What Docker says now of one container's root filesystem. */
export interface ContainerFilesystem {
  /** Full 64-hex id. */
  id: string;
  /** Name without Docker's leading `/`. */
  name: string;
  /** The image reference the container was created from (`Config.Image`). */
  image: string;
  running: boolean;
  /** The overlay2 merged directory (`GraphDriver.Data.MergedDir`) while it runs on overlay2. */
  mergedDir?: string;
}

/**
 * The container inventory as capabilities see it: which container a cgroup or mount
 * namespace belongs to, which containers there are, and their filesystems. One instance,
 * built by the orchestrator, is shared by every module that lists the `containers` service
 * (sensors, guard, enforcer, SBOM scanner).
 */
export interface ContainerLookup extends Module {
  /** By the leaf name of a task's cgroup (`<id>` or `docker-<id>.scope`). */
  lookupByCgroup(name: string): ContainerRef | undefined;
  /** By the inode number of a task's mount namespace. */
  lookupByMntns(inum: number): ContainerRef | undefined;
  /** Ask Docker about a cgroup the inventory has not seen yet (a container just started). */
  resolveCgroup(name: string): Promise<ContainerRef | undefined>;
  /** Every container known now, by name (asks Docker nothing; empty until connected). */
  list(): ContainerSummary[];
  /**
   * Ask Docker now about the container `ref` (full id, name, or unique id prefix); undefined
   * when there is none. Rejects (an `IronpostError`) when Docker cannot be asked.
   */
  inspectFilesystem(ref: string, signal?: AbortSignal): Promise<ContainerFilesystem | undefined>;
  /**
   * The container's filesystem as a tar stream (`docker export`), read as it arrives. Rejects
   * (an `IronpostError`) when Docker cannot be asked or refuses; `signal` ends the stream.
   */
  exportFilesystem(id: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}
