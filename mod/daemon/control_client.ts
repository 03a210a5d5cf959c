import { Buffer } from "node:buffer";
import { IronpostError } from "../core/mod.ts";

export interface ControlResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request to the control API over its unix socket.
 *
 * Hand-written because Deno's `fetch` over a unix socket (`createHttpClient` with a unix
 * proxy) also demands `--allow-net` for a TCP host, which the agent must not have.
 *
 * @example
 * ```ts ignore
 * import { controlRequest } from "./control_client.ts";
 * const r = await controlRequest("/run/ironpost/ironpost.sock", "GET", "/health");
 * console.log(r.status, JSON.parse(r.body).status);
 * ```
 */
export async function controlRequest(
  socket: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  timeoutMs = 5000,
): Promise<ControlResponse> {
  const conn = await connectControl(socket);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const req = `${method} ${path} HTTP/1.1\r\nHost: ironpost\r\nConnection: close\r\n` +
      `Content-Length: 0\r\nUser-Agent: ironpost-cli\r\n\r\n`;
    await writeAll(conn, new TextEncoder().encode(req));
    const raw = await readAll(conn);
    return parseResponse(raw);
  } catch (err) {
    if (err instanceof IronpostError) throw err;
    throw new IronpostError(
      "E_CONTROL_IO",
      `Control API on ${socket} did not answer ${method} ${path}: ${
        err instanceof Error ? err.message : err
      }`,
      { socket },
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed by the timeout
    }
  }
}

/** The error for a control socket that cannot be reached, naming the likely cause. */
function notReachable(socket: string, err: unknown): IronpostError {
  if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.ConnectionRefused) {
    return new IronpostError(
      "E_NOT_RUNNING",
      `No Ironpost agent is listening on ${socket} (start one with \`ironpost start\`)`,
      { socket },
    );
  }
  if (err instanceof Deno.errors.NotCapable) {
    return new IronpostError(
      "E_NOT_CAPABLE",
      `The control socket ${socket} is outside this process's Deno permissions`,
      { socket, hint: "`ironpost permissions --config PATH` prints the flags for a config" },
    );
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new IronpostError(
      "E_CONTROL_DENIED",
      `Permission denied on ${socket} (mode 0600: run as the agent's user, usually root)`,
      { socket },
    );
  }
  return new IronpostError(
    "E_CONTROL_IO",
    `Cannot connect to ${socket}: ${err instanceof Error ? err.message : err}`,
    { socket },
  );
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Connect to the control socket; a missing or refused socket is E_NOT_RUNNING. */
export async function connectControl(socket: string): Promise<Deno.UnixConn> {
  try {
    return await Deno.connect({ transport: "unix", path: socket });
  } catch (err) {
    throw notReachable(socket, err);
  }
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
    if (total > 64 * 1024 * 1024) throw new Error("response larger than 64 MiB");
  }
  return Buffer.concat(chunks, total);
}

function parseResponse(raw: Uint8Array): ControlResponse {
  const text = new TextDecoder().decode(raw);
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) throw new Error("malformed HTTP response (no header end)");
  const [statusLine, ...headerLines] = text.slice(0, split).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`malformed HTTP status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(body);
  return { status: Number(m[1]), headers, body };
}

function dechunk(s: string): string {
  // Chunk sizes count bytes, so decode from bytes, not UTF-16 units.
  const bytes = new TextEncoder().encode(s);
  const out: number[] = [];
  let i = 0;
  const dec = new TextDecoder();
  while (i < bytes.length) {
    let j = i;
    while (j < bytes.length - 1 && !(bytes[j] === 13 && bytes[j + 1] === 10)) j++;
    const size = parseInt(dec.decode(bytes.subarray(i, j)).split(";")[0], 16);
    if (!size) break;
    const start = j + 2;
    for (let k = start; k < start + size && k < bytes.length; k++) out.push(bytes[k]);
    i = start + size + 2;
  }
  return dec.decode(new Uint8Array(out));
}
