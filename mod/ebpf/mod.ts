/**
 * The XDP/TC packet filter module.
 * @module
 */
export { type Decision, DecisionTable } from "./decisions.ts";
export { type AttachMode, XdpFilter } from "./filter.ts";
export * from "./layout.ts";
export { cidrKey, collectCidrs, readCidrFile } from "./lists.ts";
export { type EbpfChannels, EbpfModule, XDP_OBJECT_PATH } from "./module.ts";
export { parseTtl } from "./ttl.ts";
