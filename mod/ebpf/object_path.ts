import { fileURLToPath } from "node:url";

/** The committed XDP object, read at start (and embedded by `deno compile --include bpf/`). */
export const XDP_OBJECT_PATH = fileURLToPath(
  new URL("../../bpf/xdp_filter.bpf.o", import.meta.url),
);
