import { assetPath } from "../core/assets.ts";

/** The committed XDP object, read at start (embedded in the compiled binary: mod/core/assets.ts). */
export const XDP_OBJECT_PATH = assetPath("bpf/xdp_filter.bpf.o");
