import { IronpostError } from "./errors.ts";

/**
 * Kernel facilities a capability may need before it starts: type information for CO-RE
 * programs, tracefs for syscall tracepoints, the BPF filesystem, securityfs (the list of
 * LSMs) and the cgroup v2 hierarchy (container cgroups, cgroup BPF programs).
 */
export const KERNEL_FACILITIES = ["btf", "tracefs", "bpffs", "securityfs", "cgroup2"] as const;
export type KernelFacility = (typeof KERNEL_FACILITIES)[number];

/**
 * What the start-up probe found for one facility. `mounted` means the agent mounted it
 * itself; `unknown` that it could not be told without FFI (no enabled module needs it).
 */
export interface FacilityStatus {
  name: KernelFacility;
  state: "ok" | "mounted" | "missing" | "unknown";
  /** Where it is (or was looked for). */
  path: string;
  /** What was seen: the filesystem, the LSMs, the hierarchy layout, why a mount failed. */
  detail: string;
  /** Enabled modules that need it. */
  neededBy: string[];
  /** The command or setting that provides it, when it is missing. */
  fix?: string;
}

/** A facility an enabled module needs is missing and the agent could not provide it. */
export class FacilityError extends IronpostError {
  readonly facility: FacilityStatus;

  constructor(f: FacilityStatus) {
    super(
      `E_FACILITY_${f.name.toUpperCase()}`,
      `kernel facility ${f.name} is missing (${f.detail}); needed by ${
        f.neededBy.join(", ")
      }; fix: ${f.fix ?? "see the documentation"}`,
      { facility: f.name, path: f.path, neededBy: f.neededBy, fix: f.fix },
    );
    this.name = "FacilityError";
    this.facility = f;
  }
}
