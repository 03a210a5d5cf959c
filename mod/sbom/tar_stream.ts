/**
 * Reading a tar stream (what `docker export` writes) entry by entry, without holding it: the
 * caller reads the bodies it wants and the rest are skipped as they pass. Understands ustar
 * with its name prefix, GNU long names and links (`L`, `K`) and pax `path` / `linkpath` /
 * `size` records, which is what Docker's archiver emits.
 */
import { SbomScanError } from "./scan_error.ts";

/** One member of the archive. */
export interface TarEntry {
  /** The member's path as written, leading `./` and `/` removed (`etc/os-release`). */
  path: string;
  type: "file" | "directory" | "symlink" | "hardlink" | "other";
  size: number;
  /** Target of a link. */
  linkName: string;
}

/** An entry and, for a regular file, a way to read its body (only before the next entry). */
export interface TarItem {
  entry: TarEntry;
  read(): Promise<Uint8Array>;
}

const BLOCK = 512;

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #at = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Exactly `n` bytes, or null at a clean end of stream before the first byte. */
  async read(n: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.#at >= this.#chunk.length) {
        const { value, done } = await this.#reader.read();
        if (done) {
          if (filled === 0) return null;
          throw truncated();
        }
        this.#chunk = value;
        this.#at = 0;
        continue;
      }
      const take = Math.min(n - filled, this.#chunk.length - this.#at);
      out.set(this.#chunk.subarray(this.#at, this.#at + take), filled);
      this.#at += take;
      filled += take;
    }
    return out;
  }

  /** Drops `n` bytes without copying them. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#at >= this.#chunk.length) {
        const { value, done } = await this.#reader.read();
        if (done) throw truncated();
        this.#chunk = value;
        this.#at = 0;
        continue;
      }
      const take = Math.min(left, this.#chunk.length - this.#at);
      this.#at += take;
      left -= take;
    }
  }

  /** Reads to the end: the zero-filled record padding after the archive's end blocks. */
  async drain(): Promise<void> {
    for (;;) {
      const { done } = await this.#reader.read();
      if (done) return;
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

function truncated(): SbomScanError {
  return new SbomScanError("E_CONTAINER_EXPORT", "The tar stream ended inside an entry");
}

const decoder = new TextDecoder();

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul < 0 ? field : field.subarray(0, nul));
}

/** A numeric header field: octal text, or GNU base-256 when the high bit is set. */
function number(block: Uint8Array, start: number, length: number): number {
  if (block[start] & 0x80) {
    let v = block[start] & 0x7f;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + block[i];
    return v;
  }
  const s = text(block, start, length).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) {
    throw new SbomScanError("E_CONTAINER_EXPORT", `Malformed tar header number "${s}"`);
  }
  return parseInt(s, 8);
}

function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  return sum === number(block, 148, 8);
}

/** Pax extended header records: `<len> key=value\n`, `len` counting bytes. */
function paxRecords(body: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(decoder.decode(body.subarray(at, space)));
    if (!Number.isInteger(len) || len <= space - at || at + len > body.length) break;
    const line = decoder.decode(body.subarray(space + 1, at + len - 1));
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
    at += len;
  }
  return out;
}

function cleanPath(p: string): string {
  return p.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

const TYPES: Record<string, TarEntry["type"]> = {
  "0": "file",
  "\0": "file",
  "": "file",
  "7": "file",
  "5": "directory",
  "2": "symlink",
  "1": "hardlink",
};

/**
 * The entries of the tar archive `stream`. Call `read()` on an item to get a regular file's
 * body; bodies not read are skipped. Stopping the iteration early cancels the stream.
 *
 * @throws {SbomScanError} `E_CONTAINER_EXPORT` for a truncated stream or a bad header.
 * @example
 * ```ts ignore
 * import { readTar } from "./tar_stream.ts";
 * const child = new Deno.Command("docker", { args: ["export", "web"], stdout: "piped" }).spawn();
 * for await (const item of readTar(child.stdout)) {
 *   if (item.entry.path === "etc/os-release") console.log(new TextDecoder().decode(await item.read()));
 * }
 * ```
 */
export async function* readTar(stream: ReadableStream<Uint8Array>): AsyncGenerator<TarItem> {
  const r = new ByteReader(stream);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  let finished = false;
  try {
    for (;;) {
      const block = await r.read(BLOCK);
      if (block === null || block.every((b) => b === 0)) {
        finished = true;
        return;
      }
      if (!checksumOk(block)) {
        throw new SbomScanError("E_CONTAINER_EXPORT", "Bad tar header checksum");
      }
      const flag = String.fromCharCode(block[156]);
      let size = number(block, 124, 12);
      if (pax.has("size")) size = Number(pax.get("size"));
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (flag === "L" || flag === "K" || flag === "x" || flag === "g") {
        const body = (await r.read(padded)) ?? new Uint8Array(0);
        const data = body.subarray(0, size);
        if (flag === "L") longName = text(data, 0, data.length);
        else if (flag === "K") longLink = text(data, 0, data.length);
        else if (flag === "x") pax = paxRecords(data);
        continue;
      }

      const magic = text(block, 257, 6);
      const prefix = magic.startsWith("ustar") ? text(block, 345, 155) : "";
      const rawName = prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
      const entry: TarEntry = {
        path: cleanPath(pax.get("path") ?? longName ?? rawName),
        type: TYPES[flag] ?? "other",
        size: TYPES[flag] === "file" ? size : 0,
        linkName: pax.get("linkpath") ?? longLink ?? text(block, 157, 100),
      };
      longName = undefined;
      longLink = undefined;
      pax = new Map();

      let consumed = false;
      const item: TarItem = {
        entry,
        read: async () => {
          if (consumed) throw new Error("A tar entry's body can be read once");
          consumed = true;
          const body = (await r.read(padded)) ?? new Uint8Array(0);
          return body.subarray(0, size);
        },
      };
      yield item;
      if (!consumed) {
        consumed = true;
        await r.skip(padded);
      }
    }
  } finally {
    if (finished) await r.drain();
    else await r.cancel();
  }
}
