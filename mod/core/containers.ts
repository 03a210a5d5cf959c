import { IronpostError } from "./errors.ts";
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

/** One network a container is attached to, with what it takes to attach it again. */
export interface ContainerNetwork {
  /** The network's name (`bridge`, `app_default`, …). */
  name: string;
  /** The aliases the container has on it (Docker's `Aliases`, without the ones Docker adds). */
  aliases: string[];
  /** The addresses Docker assigned (informational; reattaching may assign others). */
  ipv4?: string;
  ipv6?: string;
}

/** What Docker says now of one container, for the response side. */
export interface ContainerStatus {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Docker's state: `running`, `paused`, `exited`, `created`, `restarting`, `dead`. */
  state: string;
  networks: ContainerNetwork[];
}

/**
 * Acting on a container through the Docker Engine API. Every call rejects with a
 * `ContainerActionError`: `gone` when the container does not exist (any more), `transient`
 * when Docker could not be reached or answered 5xx (worth a retry), neither when Docker
 * refused the request (e.g. pausing a container that is not running).
 */
export interface ContainerControl {
  /** Ask Docker now (full id, name or unique id prefix); undefined when there is none. */
  containerStatus(ref: string): Promise<ContainerStatus | undefined>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceSecs`. */
  stopContainer(id: string, graceSecs: number): Promise<void>;
  /** Send `signal` (`SIGKILL`, `SIGTERM`, …) to the main process. */
  killContainer(id: string, signal: string): Promise<void>;
  /** Detach from `network` (forced, so a paused container can be isolated too). */
  disconnectNetwork(id: string, network: string): Promise<void>;
  /** Attach to `network` again with its recorded aliases. */
  connectNetwork(id: string, network: ContainerNetwork): Promise<void>;
}

/** A failed container action, classified for retries and the audit trail. */
export class ContainerActionError extends IronpostError {
  /** The container does not exist (any more). */
  readonly gone: boolean;
  /** Docker could not be reached or failed (5xx): worth a retry. */
  readonly transient: boolean;
  /** Docker's HTTP status, when it answered. */
  readonly status?: number;

  constructor(
    message: string,
    opts: { gone?: boolean; transient?: boolean; status?: number; cause?: unknown },
  ) {
    super(
      opts.gone ? "E_CONTAINER_GONE" : opts.transient ? "E_DOCKER_UNAVAILABLE" : "E_DOCKER_REFUSED",
      message,
      { status: opts.status },
      { cause: opts.cause },
    );
    this.name = "ContainerActionError";
    this.gone = opts.gone ?? false;
    this.transient = opts.transient ?? false;
    this.status = opts.status;
  }
}

/**
 * The container inventory as capabilities see it: which container a cgroup or mount
 * namespace belongs to, which containers there are, and their filesystems. One instance,
 * built by the orchestrator, is shared by every module that lists the `containers` service
 * (sensors, guard, enforcer, SBOM scanner).
 */
export interface ContainerLookup extends Module, ContainerControl {
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
