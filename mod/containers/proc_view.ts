/**
 * The kernel's view of a container's main process: its cgroups, the cgroup v2 id and its
 * mount namespace, read from /proc and /sys/fs/cgroup (see cgroup_id.ts).
 *
 * Deno refuses /proc/<pid> paths unless it runs with --allow-all, which the agent never
 * does, so /proc is read through libc (ffi/procfs.ts, under --allow-ffi). Without FFI it
 * falls back to Deno's own file API (which works under --allow-all, as in tests), and
 * without either the kernel fields are left out: the primary lookup, by cgroup leaf name,
 * needs none of them.
 */
import { readProcFile, readProcLink } from "../../ffi/procfs.ts";
import { inodeOf } from "./cgroup_id.ts";
import { containerIdFromCgroup } from "./cgroup_name.ts";

export interface ProcessView {
  cgroupV2Path?: string;
  cgroupV1Paths: Record<string, string>;
  cgroupLeaves: string[];
  cgroupId?: bigint;
  mntns?: number;
}

/** Where a cgroup hierarchy is mounted: `root` is the mount's root inside the hierarchy. */
export interface CgroupMount {
  mountPoint: string;
  root: string;
}

export interface CgroupMounts {
  v2?: CgroupMount;
  /** v1 hierarchies by controller (`pids`, `memory`, `name=systemd`, …). */
  v1: Record<string, CgroupMount>;
}

type Reader = "ffi" | "fs" | "none";
let reader: Reader | undefined;
const dec = new TextDecoder();

/** How /proc is read here: through libc, Deno's file API, or not at all. */
export function procAccess(): Reader {
  if (reader === undefined) {
    reader = "none";
    try {
      if (readProcLink("/proc/self/ns/mnt") !== undefined) reader = "ffi";
    } catch { /* no --allow-ffi */ }
    if (reader === "none") {
      try {
        Deno.readLinkSync("/proc/self/ns/mnt");
        reader = "fs";
      } catch { /* no --allow-all */ }
    }
  }
  return reader;
}

/** Text of a /proc file, or undefined when it is gone or cannot be read. */
export function procText(path: string): string | undefined {
  switch (procAccess()) {
    case "ffi": {
      const b = readProcFile(path, 1 << 20);
      return b === undefined ? undefined : dec.decode(b);
    }
    case "fs":
      try {
        return Deno.readTextFileSync(path);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

/** Target of a /proc symlink, or undefined. */
export function procLink(path: string): string | undefined {
  switch (procAccess()) {
    case "ffi":
      return readProcLink(path);
    case "fs":
      try {
        return Deno.readLinkSync(path);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

/** The inode number in a namespace link (`mnt:[4026532179]`), or undefined. */
export function nsInode(link: string | undefined): number | undefined {
  const m = link?.match(/:\[(\d+)\]$/);
  return m ? Number(m[1]) : undefined;
}

// Options of a v1 cgroup mount that are not controllers.
const MOUNT_FLAGS = new Set(["rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode"]);

// Mount points escape space, tab, newline and backslash as octal (\040).
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * The cgroup mounts in a /proc/<pid>/mountinfo text: the cgroup2 mount (hybrid hosts put it
 * at /sys/fs/cgroup/unified, pure v2 hosts at /sys/fs/cgroup) and each v1 hierarchy.
 * The first mount of each hierarchy wins.
 *
 * @example
 * ```ts
 * import { parseCgroupMounts } from "./proc_view.ts";
 * const m = parseCgroupMounts(
 *   "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
 *     "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n",
 * );
 * console.assert(m.v2?.mountPoint === "/sys/fs/cgroup/unified");
 * console.assert(m.v1.pids.mountPoint === "/sys/fs/cgroup/pids");
 * ```
 */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const out: CgroupMounts = { v1: {} };
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
    if (pre.length < 5) continue;
    const mount = { root: unescapeMount(pre[3]), mountPoint: unescapeMount(pre[4]) };
    if (fstype === "cgroup2") {
      out.v2 ??= mount;
    } else if (fstype === "cgroup") {
      for (const opt of superOpts.split(",")) {
        if (MOUNT_FLAGS.has(opt) || opt.includes("=") && !opt.startsWith("name=")) continue;
        out.v1[opt] ??= mount;
      }
    }
  }
  return out;
}

/**
 * The lines of a /proc/<pid>/cgroup text: the v2 path (`0::/…`) and the v1 path of each
 * controller (`8:pids:/…`; a line naming several controllers, `2:cpu,cpuacct:/…`, gives
 * each one).
 *
 * @example
 * ```ts
 * import { parseProcCgroup } from "./proc_view.ts";
 * const c = parseProcCgroup("8:pids:/docker/abc\n0::/docker/abc\n");
 * console.assert(c.v2 === "/docker/abc" && c.v1.pids === "/docker/abc");
 * ```
 */
export function parseProcCgroup(text: string): { v2?: string; v1: Record<string, string> } {
  const out: { v2?: string; v1: Record<string, string> } = { v1: {} };
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = line.indexOf(":", a + 1);
    if (a < 0 || b < 0) continue;
    const controllers = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (line.slice(0, a) === "0" && controllers === "") out.v2 = path;
    else for (const c of controllers.split(",")) if (c) out.v1[c] = path;
  }
  return out;
}

/** Directory of a cgroup path in a mounted hierarchy, or undefined if outside the mount. */
export function cgroupDir(mount: CgroupMount, path: string): string | undefined {
  const root = mount.root === "/" ? "" : mount.root;
  if (root && path !== root && !path.startsWith(root + "/")) return undefined;
  const rel = path.slice(root.length);
  return rel === "" || rel === "/" ? mount.mountPoint : mount.mountPoint + rel;
}

let mounts: CgroupMounts | undefined;

/** This host's cgroup mounts, read once (they do not move while the agent runs). */
export function cgroupMounts(): CgroupMounts {
  if (mounts === undefined) {
    const text = procText("/proc/self/mountinfo");
    if (text === undefined) return { v1: {} };
    mounts = parseCgroupMounts(text);
  }
  return mounts;
}

let selfMntns: number | undefined;

/** This process's mount namespace inode, to tell a container's namespace from the host's. */
export function ownMntns(): number | undefined {
  selfMntns ??= nsInode(procLink("/proc/self/ns/mnt"));
  return selfMntns;
}

/**
 * Read the kernel's view of `pid`, the main process of container `id`. A cgroup counts as
 * the container's own only when its path names the id: on a host where Docker leaves the
 * v2 hierarchy alone the `0::` line is the root, whose id every host task shares.
 */
export function readProcessView(pid: number, id: string): ProcessView {
  const view: ProcessView = { cgroupV1Paths: {}, cgroupLeaves: [] };
  if (pid <= 0) return view;
  const text = procText(`/proc/${pid}/cgroup`);
  if (text !== undefined) {
    const cg = parseProcCgroup(text);
    view.cgroupV2Path = cg.v2;
    view.cgroupV1Paths = cg.v1;
    const leaves = new Set<string>();
    for (const p of [cg.v2, ...Object.values(cg.v1)]) {
      if (p !== undefined && containerIdFromCgroup(p) === id) {
        leaves.add(p.slice(p.lastIndexOf("/") + 1));
      }
    }
    view.cgroupLeaves = [...leaves];
    const v2 = cgroupMounts().v2;
    if (v2 && cg.v2 !== undefined && containerIdFromCgroup(cg.v2) === id) {
      const dir = cgroupDir(v2, cg.v2);
      // Undefined when the container just exited.
      if (dir !== undefined) view.cgroupId = inodeOf(dir);
    }
  }
  const mntns = nsInode(procLink(`/proc/${pid}/ns/mnt`));
  if (mntns !== undefined && mntns !== ownMntns()) view.mntns = mntns;
  return view;
}
