/**
 * The kernel facilities the agent probes at start (and mounts when it must).
 * @module
 */
export {
  ensureFacilities,
  probeFacilities,
  type ProbeOptions,
  requireFacilities,
} from "./facilities.ts";
