/**
 * Kernel facilities, probed once when the agent starts: each is looked for where Linux
 * puts it, a missing tracefs is mounted when an enabled module needs it (the agent holds
 * CAP_SYS_ADMIN for BPF anyway), and a facility that is still missing is a `FacilityError`
 * that names it and the command that provides it. The result is what `ironpost status`
 * shows under "kernel".
 */
import {
  FacilityError,
  type FacilityStatus,
  KERNEL_FACILITIES,
  type KernelFacility,
} from "../core/mod.ts";
import type * as Mount from "../../ffi/mount.ts";
import type * as Procfs from "../../ffi/procfs.ts";

/** The libc calls the probe makes, loaded only when the agent holds --allow-ffi. */
type Sys = typeof Mount & typeof Procfs;

export const TRACEFS_PATH = "/sys/kernel/tracing";
/** Where tracefs appears (automounted) when debugfs is mounted; libbpf prefers it then. */
export const DEBUGFS_TRACING_PATH = "/sys/kernel/debug/tracing";
export const BTF_PATH = "/sys/kernel/btf/vmlinux";
export const BPFFS_PATH = "/sys/fs/bpf";
export const SECURITYFS_PATH = "/sys/kernel/security";
export const CGROUP_PATH = "/sys/fs/cgroup";

const FIX: Record<KernelFacility, string> = {
  btf: "run a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL 8.2+)",
  tracefs: `mount -t tracefs nodev ${TRACEFS_PATH} (or run the agent as root with ` +
    "CAP_SYS_ADMIN in the host's mount namespace, so it can mount it itself)",
  bpffs: `mount -t bpf bpf ${BPFFS_PATH}`,
  securityfs: `mount -t securityfs securityfs ${SECURITYFS_PATH}`,
  cgroup2: "boot with systemd.unified_cgroup_hierarchy=1, or mount -t cgroup2 none " +
    `${CGROUP_PATH}/unified`,
};

export interface ProbeOptions {
  /** Which enabled modules need which facility. */
  needs?: Partial<Record<KernelFacility, string[]>>;
  /**
   * Mount a needed tracefs that is missing. Needs FFI (mount(2)); without it the facility
   * is reported missing with its fix.
   */
  mount?: boolean;
}

/**
 * Probe every facility; mount tracefs when a module needs it and it is missing. Never
 * throws: see `requireFacilities`. Deno refuses /sys paths without --allow-all, so the probe
 * goes through libc and needs --allow-ffi, which every module that needs a facility holds;
 * without it each facility is `unknown`.
 *
 * @example
 * ```ts ignore
 * const report = probeFacilities({ needs: { tracefs: ["sensors"] }, mount: true });
 * // [{ name: "btf", state: "ok", … }, { name: "tracefs", state: "mounted", … }, …]
 * ```
 */
export async function probeFacilities(opts: ProbeOptions = {}): Promise<FacilityStatus[]> {
  const ffi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  const sys: Sys | undefined = ffi
    ? { ...await import("../../ffi/mount.ts"), ...await import("../../ffi/procfs.ts") }
    : undefined;
  return KERNEL_FACILITIES.map((name) => {
    const neededBy = opts.needs?.[name] ?? [];
    const found: Found = sys
      ? PROBES[name]({ sys, mount: (opts.mount ?? false) && neededBy.length > 0 })
      : { state: "unknown", path: PATHS[name], detail: "not probed (no enabled module needs it)" };
    const status: FacilityStatus = { name, ...found, neededBy };
    if (found.state === "missing" || found.state === "unknown") status.fix = FIX[name];
    return status;
  });
}

/** Throw a `FacilityError` for the first facility a module needs that is missing. */
export function requireFacilities(report: readonly FacilityStatus[]): void {
  const missing = report.find((f) => f.neededBy.length > 0 && f.state === "missing");
  if (missing) throw new FacilityError(missing);
}

/**
 * Probe, mount what is needed, and throw when a needed facility is still missing: what the
 * agent does before its modules start (and tests that load the sensors directly).
 */
export async function ensureFacilities(
  needs: Partial<Record<KernelFacility, string[]>>,
): Promise<FacilityStatus[]> {
  const report = await probeFacilities({ needs, mount: true });
  requireFacilities(report);
  return report;
}

type Found = Pick<FacilityStatus, "state" | "path" | "detail">;
interface ProbeContext {
  sys: Sys;
  mount: boolean;
}

const PATHS: Record<KernelFacility, string> = {
  btf: BTF_PATH,
  tracefs: TRACEFS_PATH,
  bpffs: BPFFS_PATH,
  securityfs: SECURITYFS_PATH,
  cgroup2: CGROUP_PATH,
};

const PROBES: Record<KernelFacility, (c: ProbeContext) => Found> = {
  btf: ({ sys }) => {
    return sys.statKind(BTF_PATH) === "file"
      ? { state: "ok", path: BTF_PATH, detail: "kernel BTF" }
      : { state: "missing", path: BTF_PATH, detail: "the kernel exposes no BTF" };
  },
  tracefs: ({ sys, mount }) => {
    const at = tracefsAt(sys);
    if (at) return { state: "ok", path: at, detail: "tracefs with events/" };
    if (!mount) {
      return {
        state: "missing",
        path: TRACEFS_PATH,
        detail: `no tracefs at ${TRACEFS_PATH} or ${DEBUGFS_TRACING_PATH}`,
      };
    }
    let why: string;
    try {
      sys.mountFs("tracefs", TRACEFS_PATH, sys.MS_NOSUID | sys.MS_NODEV | sys.MS_NOEXEC);
      if (tracefsAt(sys) === TRACEFS_PATH) {
        return { state: "mounted", path: TRACEFS_PATH, detail: "tracefs mounted by the agent" };
      }
      why = "mounted, but it has no events/ (a kernel without CONFIG_FTRACE_SYSCALLS?)";
    } catch (err) {
      why = `mount failed: ${(err as { code?: string }).code ?? String(err)}`;
    }
    // debugfs mounted: reading its tracing/ directory automounts tracefs there.
    if (
      sys.fsMagic("/sys/kernel/debug") === sys.FS_MAGIC.debugfs &&
      sys.statKind(`${DEBUGFS_TRACING_PATH}/events`) === "dir"
    ) {
      return { state: "ok", path: DEBUGFS_TRACING_PATH, detail: "tracefs under debugfs" };
    }
    return { state: "missing", path: TRACEFS_PATH, detail: `tracefs is not mounted; ${why}` };
  },
  bpffs: ({ sys }) => {
    return sys.fsMagic(BPFFS_PATH) === sys.FS_MAGIC.bpf
      ? { state: "ok", path: BPFFS_PATH, detail: "bpf filesystem" }
      : { state: "missing", path: BPFFS_PATH, detail: "no bpf filesystem mounted there" };
  },
  securityfs: ({ sys }) => {
    const raw = sys.readProcFile(`${SECURITYFS_PATH}/lsm`, 4096);
    const lsm = raw && new TextDecoder().decode(raw);
    return lsm === undefined
      ? { state: "missing", path: SECURITYFS_PATH, detail: "securityfs is not mounted" }
      : { state: "ok", path: SECURITYFS_PATH, detail: `LSMs: ${lsm.trim() || "none"}` };
  },
  cgroup2: ({ sys }) => {
    // cgroup.controllers exists only at the root of a cgroup v2 hierarchy.
    if (sys.statKind(`${CGROUP_PATH}/cgroup.controllers`) === "file") {
      return { state: "ok", path: CGROUP_PATH, detail: "unified hierarchy (cgroup v2 only)" };
    }
    const hybrid = `${CGROUP_PATH}/unified`;
    if (sys.statKind(`${hybrid}/cgroup.controllers`) === "file") {
      return { state: "ok", path: hybrid, detail: "hybrid: cgroup v1 controllers, v2 at unified/" };
    }
    return { state: "missing", path: CGROUP_PATH, detail: "no cgroup v2 hierarchy mounted" };
  },
};

function tracefsAt(sys: Sys): string | undefined {
  return [TRACEFS_PATH, DEBUGFS_TRACING_PATH].find((p) => sys.statKind(`${p}/events`) === "dir");
}
