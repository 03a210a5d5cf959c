/**
 * The container guard: response policies turn alerts into audited, reversible actions on
 * containers (Docker Engine API) and block decisions for the packet filter.
 * @module
 */
export { GuardModule, type GuardOptions, type PacketFilterView } from "./module.ts";
export type { Policy, PolicyAction, PolicyMatch, PolicySet } from "./policy.ts";
export { loadPolicies } from "./policy_load.ts";
export { describePlan, planFor } from "./plan.ts";
export { type PriorState, PriorStates } from "./prior_state.ts";
