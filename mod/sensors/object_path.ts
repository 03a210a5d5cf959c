import { fileURLToPath } from "node:url";

/** The committed sensors object, read at start (and embedded by `deno compile --include bpf/`). */
export const SENSORS_OBJECT_PATH = fileURLToPath(
  new URL("../../bpf/sensors.bpf.o", import.meta.url),
);
