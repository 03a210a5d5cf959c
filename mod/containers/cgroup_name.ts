/**
 * Docker's names for a container's cgroup: `<64-hex id>` under `/docker/` with the cgroupfs
 * driver, `docker-<64-hex id>.scope` with the systemd driver. The sensors report the leaf
 * name of a task's cgroup, so the container id is read straight out of it: no table of
 * cgroup paths is needed for the primary lookup.
 */

const LEAF = /^(?:docker-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The 64-hex container id in a cgroup leaf name (`<id>` or `docker-<id>.scope`), or in a
 * path ending in one (`/docker/<id>`, `/system.slice/docker-<id>.scope`); undefined for
 * anything else (the root, `user.slice`, a shorter hex name).
 *
 * @example
 * ```ts
 * import { containerIdFromCgroup } from "./cgroup_name.ts";
 * const id = "f953adce6564b90f6a4156617b9cb7e3b135cd65e2db1c2462b1bdadd2e2eb1d";
 * console.assert(containerIdFromCgroup(id) === id);
 * console.assert(containerIdFromCgroup(`docker-${id}.scope`) === id);
 * console.assert(containerIdFromCgroup(`/docker/${id}`) === id);
 * console.assert(containerIdFromCgroup("user.slice") === undefined);
 * ```
 */
export function containerIdFromCgroup(name: string): string | undefined {
  // Fast reject: every accepted form is 64 to 78 characters (leaf) or longer (path).
  if (name.length < 64) return undefined;
  const slash = name.lastIndexOf("/");
  const leaf = slash < 0 ? name : name.slice(slash + 1);
  return LEAF.exec(leaf)?.[1];
}

/** True for a full 64-hex container id. */
export function isContainerId(s: string): boolean {
  return s.length === 64 && /^[0-9a-f]{64}$/.test(s);
}
