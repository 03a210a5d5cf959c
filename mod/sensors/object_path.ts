import { assetPath } from "../core/assets.ts";

/** The committed sensors object, read at start (embedded in the compiled binary: mod/core/assets.ts). */
export const SENSORS_OBJECT_PATH = assetPath("bpf/sensors.bpf.o");
