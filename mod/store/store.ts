// The store contract is shared by every capability, so it lives in mod/core.
export type { AlertQuery, CheckpointStore, Store } from "../core/mod.ts";
