import { IronpostError } from "../core/mod.ts";
import { connectControl } from "./control_client.ts";

/**
 * Follow a streaming control API endpoint (`GET /events`): call `onLine` for each line of
 * the NDJSON body as it arrives, until the agent closes the stream, `signal` aborts, or
 * `onLine` returns false. HTTP/1.1 chunked transfer decoding is done here by hand for the
 * same reason as in control_client.ts (no fetch over a unix socket without --allow-net).
 *
 * @example
 * ```ts ignore
 * import { controlStream } from "./control_stream.ts";
 * await controlStream("/run/ironpost/ironpost.sock", "/events?kind=process", (line) => {
 *   console.log(line);
 *   return true;
 * });
 * ```
 */
export async function controlStream(
  socket: string,
  path: string,
  onLine: (line: string) => boolean | void,
  signal?: AbortSignal,
): Promise<void> {
  const conn = await connectControl(socket);
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  try {
    const req = `GET ${path} HTTP/1.1\r\nHost: ironpost\r\nConnection: close\r\n` +
      `User-Agent: ironpost-cli\r\n\r\n`;
    const bytes = enc.encode(req);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));

    const reader = new ByteReader(conn);
    const status = await reader.line();
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(status ?? "");
    if (!m) throw new IronpostError("E_CONTROL_IO", `malformed HTTP status line: ${status}`);
    const headers: Record<string, string> = {};
    for (let h = await reader.line(); h; h = await reader.line()) {
      const i = h.indexOf(":");
      if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const chunked = headers["transfer-encoding"]?.includes("chunked") ?? false;
    let pending = "";
    const feed = (data: Uint8Array): boolean => {
      pending += dec.decode(data, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line !== "" && onLine(line) === false) return false;
      }
      return true;
    };
    if (Number(m[1]) !== 200) {
      const body = chunked ? "" : dec.decode(await reader.rest());
      let msg = body.trim();
      try {
        msg = JSON.parse(body).error ?? msg;
      } catch {
        // not JSON
      }
      throw new IronpostError("E_CONTROL_STATUS", `${path}: HTTP ${m[1]} ${msg}`.trim());
    }
    while (true) {
      if (chunked) {
        const sizeLine = await reader.line();
        if (sizeLine === undefined) return;
        const size = parseInt(sizeLine.split(";")[0], 16);
        if (!Number.isFinite(size) || size === 0) return;
        const data = await reader.bytes(size);
        await reader.line(); // CRLF after the chunk
        if (!data || !feed(data)) return;
      } else {
        const data = await reader.some();
        if (!data || !feed(data)) return;
      }
    }
  } catch (err) {
    if (signal?.aborted) return;
    if (err instanceof IronpostError) throw err;
    if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
    throw new IronpostError(
      "E_CONTROL_IO",
      `Control API on ${socket} stream ${path}: ${err instanceof Error ? err.message : err}`,
      { socket },
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    try {
      conn.close();
    } catch {
      // closed by abort
    }
  }
}

/** Buffered reads from a connection: lines (CRLF), exact byte counts, or what comes. */
class ByteReader {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #eof = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk);
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  async line(): Promise<string | undefined> {
    while (true) {
      for (let i = 0; i + 1 < this.#buf.length; i++) {
        if (this.#buf[i] === 13 && this.#buf[i + 1] === 10) {
          const line = new TextDecoder().decode(this.#buf.subarray(0, i));
          this.#buf = this.#buf.slice(i + 2);
          return line;
        }
      }
      if (!await this.#fill()) return undefined;
    }
  }

  async bytes(n: number): Promise<Uint8Array | undefined> {
    while (this.#buf.length < n) if (!await this.#fill()) return undefined;
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  async some(): Promise<Uint8Array | undefined> {
    if (this.#buf.length === 0 && !await this.#fill()) return undefined;
    const out = this.#buf;
    this.#buf = new Uint8Array(0);
    return out;
  }

  async rest(): Promise<Uint8Array> {
    while (await this.#fill()) { /* read to the end */ }
    return this.#buf;
  }
}
