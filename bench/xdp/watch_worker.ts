/**
 * Worker for bench/xdp.ts: busy-polls one counter slot on its own thread and reports the
 * CLOCK_MONOTONIC time it first saw the slot grow, so the main thread can await an HTTP
 * request or a child process meanwhile without its event loop delaying the detection.
 *
 * Messages in:  { op: "open", mapId } | { op: "arm", slot, timeoutMs } | { op: "close" }
 * Messages out: { op: "opened" } | { op: "armed" } | { op: "hit", t: bigint } |
 *               { op: "timeout" } | { op: "error", message }
 */
/// <reference lib="deno.worker" />
import { monotonicNs } from "../../ffi/libc.ts";
import { CounterMap, niceThread, yieldCpu } from "./kmap.ts";
import { errorMessage } from "../../mod/core/mod.ts";

let map: CounterMap | undefined;
// Busy-polling, but at nice 19 and yielding between reads: the agent, the CLI, trafgen and the
// NAPI thread get the CPU whenever they want it, and the poll resumes as soon as they are done.
niceThread(19);

self.onmessage = (e: MessageEvent) => {
  const m = e.data;
  try {
    if (m.op === "open") {
      map?.close();
      map = new CounterMap(m.mapId);
      self.postMessage({ op: "opened" });
    } else if (m.op === "arm") {
      if (!map) throw new Error("arm before open");
      const base = map.packets(m.slot);
      self.postMessage({ op: "armed" });
      const deadline = monotonicNs() + BigInt(m.timeoutMs) * 1_000_000n;
      for (;;) {
        if (map.packets(m.slot) > base) {
          self.postMessage({ op: "hit", t: monotonicNs() });
          return;
        }
        if (monotonicNs() > deadline) {
          self.postMessage({ op: "timeout" });
          return;
        }
        yieldCpu();
      }
    } else if (m.op === "close") {
      map?.close();
      map = undefined;
      self.close();
    }
  } catch (err) {
    self.postMessage({ op: "error", message: errorMessage(err) });
  }
};
