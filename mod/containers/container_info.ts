import type { ContainerRef } from "../core/mod.ts";

/**
 * What the inventory knows about one container: Docker's view (id, name, image, labels,
 * state, main pid) and the kernel's (cgroup paths, cgroup v2 id, mount namespace) read
 * from /proc when the container started. Kernel fields are absent when the container is
 * not running or /proc could not be read.
 */
export interface ContainerInfo {
  /** Full 64-hex id. */
  id: string;
  /** Name without the leading slash. */
  name: string;
  /** The image as `docker ps` shows it (`name:tag` as given at run, or the image id). */
  image: string;
  /** `sha256:…` id of the image. */
  imageId: string;
  labels: Record<string, string>;
  /** Docker's state: `running`, `paused`, `exited`, `created`, `restarting`, `dead`. */
  state: string;
  /** The container's main process on the host (Docker's State.Pid); 0 when not running. */
  pid: number;
  /** RFC 3339 time the container last started, when known. */
  startedAt?: string;
  /** Path in the cgroup v2 hierarchy (`0::` line of /proc/<pid>/cgroup), e.g. `/docker/<id>`. */
  cgroupV2Path?: string;
  /** Path per cgroup v1 hierarchy (`pids`, `memory`, `name=systemd`, …). */
  cgroupV1Paths: Record<string, string>;
  /** Leaf names of the container's own cgroups (`<id>`, `docker-<id>.scope`). */
  cgroupLeaves: string[];
  /** Inode number of the container's cgroup v2 directory (= the kernel's cgroup id). */
  cgroupId?: bigint;
  /** Inode number of the main process's mount namespace (`mnt:[N]`). */
  mntns?: number;
}

/** The part of a container events carry (id, name, image, labels), frozen and JSON-safe. */
export function toRef(info: ContainerInfo): ContainerRef {
  return Object.freeze({
    id: info.id,
    name: info.name,
    image: info.image,
    labels: Object.freeze({ ...info.labels }),
  });
}
