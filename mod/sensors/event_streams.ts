/**
 * Live NDJSON streams of HostEvents for `GET /events` (what `ironpost trace` follows).
 * Each reader has a bounded queue: a reader that does not keep up loses events (counted),
 * the sensors never wait for it.
 */
import type { HostEvent } from "../core/mod.ts";

const KINDS = new Set(["process", "file", "network"]);
/** Events queued per reader before it counts as slow. */
const READER_QUEUE = 4096;

interface Reader {
  kinds: Set<string>;
  container?: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

export class EventStreams {
  #readers = new Set<Reader>();
  #dropped = 0;
  #enc = new TextEncoder();

  get dropped(): number {
    return this.#dropped;
  }

  get readers(): number {
    return this.#readers.size;
  }

  /**
   * A streaming response for one reader. `kind` (comma-separated process, file, network)
   * and `container` (name or id prefix) filter; a bad kind is a 400 naming the valid ones.
   * A reader that disconnects cancels its stream, which removes it.
   */
  open(params: URLSearchParams): Response {
    const kindParam = params.get("kind");
    const kinds = new Set(
      kindParam ? kindParam.split(",").map((k) => k.trim()).filter((k) => k) : KINDS,
    );
    for (const k of kinds) {
      if (!KINDS.has(k)) {
        return new Response(
          JSON.stringify({ error: `unknown kind "${k}"; expected process, file or network` }) +
            "\n",
          { status: 400, headers: { "content-type": "application/json" } },
        );
      }
    }
    const container = params.get("container") ?? undefined;
    let reader: Reader | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        reader = { kinds, container, controller };
        this.#readers.add(reader);
        // A first line at once, so a client knows it is connected before any event.
        controller.enqueue(this.#enc.encode(JSON.stringify({ kind: "hello" }) + "\n"));
      },
      cancel: () => {
        if (reader) this.#readers.delete(reader);
      },
    }, new CountQueuingStrategy({ highWaterMark: READER_QUEUE }));
    return new Response(body, {
      status: 200,
      headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
    });
  }

  publish(e: HostEvent): void {
    if (this.#readers.size === 0) return;
    let line: Uint8Array | undefined;
    for (const r of this.#readers) {
      if (!r.kinds.has(e.sensor)) continue;
      if (r.container !== undefined) {
        const c = e.container;
        if (!c || (c.name !== r.container && !c.id.startsWith(r.container))) continue;
      }
      if ((r.controller.desiredSize ?? 0) <= 0) {
        this.#dropped++;
        continue;
      }
      line ??= this.#enc.encode(JSON.stringify(e) + "\n");
      try {
        r.controller.enqueue(line);
      } catch {
        this.#readers.delete(r);
      }
    }
  }

  closeAll(): void {
    for (const r of this.#readers) {
      try {
        r.controller.close();
      } catch {
        // already closed
      }
    }
    this.#readers.clear();
  }
}
