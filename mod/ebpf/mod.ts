/**
 * The XDP/TC packet filter module.
 * @module
 */
export { type Decision, DecisionTable } from "./decisions.ts";
export {
  type Attachment,
  type AttachMode,
  attachTc,
  attachXdp,
  type TcAttachOptions,
  type XdpAttachOptions,
  XdpFilter,
} from "./filter.ts";
export { EBPF_METRICS } from "./metrics.ts";
export * from "./layout.ts";
export { cidrKey, collectCidrs, readCidrFile } from "./lists.ts";
export { type BlockOptions, type EbpfChannels, EbpfModule } from "./module.ts";
export { XDP_OBJECT_PATH } from "./object_path.ts";
export { parseTtl } from "./ttl.ts";
export { MAX_BLOCK_TTL_SECS, parseBlockTtl, PERMANENT } from "./ttl.ts";
