import type { CheckpointStore } from "../../core/mod.ts";

/**
 * Where a source keeps its resume position between runs. The agent passes its store; the
 * interface is this small so tests and other stores can provide it too.
 */
export interface Checkpoints {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/**
 * Adapt a store's `getCheckpoint`/`setCheckpoint` to `Checkpoints`.
 *
 * @example
 * ```ts
 * import { checkpointsFromStore } from "./checkpoints.ts";
 * const rows = new Map<string, string>();
 * const cp = checkpointsFromStore({
 *   getCheckpoint: (k) => Promise.resolve(rows.get(k)),
 *   setCheckpoint: (k, v) => Promise.resolve(void rows.set(k, v)),
 * });
 * await cp.set("a", "1");
 * console.assert((await cp.get("a")) === "1");
 * ```
 */
export function checkpointsFromStore(store: CheckpointStore): Checkpoints {
  return {
    get: (key) => store.getCheckpoint(key),
    set: (key, value) => store.setCheckpoint(key, value),
  };
}

export type { CheckpointStore };
