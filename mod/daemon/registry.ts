/**
 * The capabilities built into this binary, in registry order (the order of their sections
 * in the config, and of modules with no channel between them at start). Each capability
 * says what it is in its own `spec.ts`; adding one is a line here. Nothing registers
 * itself on import, and this file imports only the specs, which load module code on demand.
 */
import { EBPF_SPEC } from "../ebpf/spec.ts";
import { SENSORS_SPEC } from "../sensors/spec.ts";
import { LOGS_SPEC } from "../logs/spec.ts";
import { CONTAINERS_SPEC } from "../containers/spec.ts";
import { GUARD_SPEC } from "../guard/spec.ts";
import { SBOM_SPEC } from "../sbom/spec.ts";

export const CAPABILITIES = [
  EBPF_SPEC,
  SENSORS_SPEC,
  LOGS_SPEC,
  CONTAINERS_SPEC,
  GUARD_SPEC,
  SBOM_SPEC,
] as const;
