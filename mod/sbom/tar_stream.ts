/**
 * Reading a tar stream (what `docker export` writes) entry by entry, without holding it: the
 * caller reads the bodies it wants and the rest are skipped as they pass. The parsing is
 * npm:tar-stream's (ustar with its name prefix, GNU long names and links, pax records); this
 * file only adapts it to a web stream in and typed entries out.
 *
 * Measured against the hand-written reader it replaced, on a 4.8 GB pax archive of /usr/lib
 * and /usr/share (126,279 entries, the bodies of every `.json` read): 6.3–6.8 s and 104–144
 * MiB RSS for tar-stream against 4.7–6.2 s and 142–151 MiB; the same entries and bytes. An
 * export is bounded by Docker writing it, so the difference does not show in a scan.
 */
import { Readable } from "node:stream";
import { extract } from "tar-stream";
import { errorMessage } from "../core/errors.ts";
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

/* The slice of tar-stream used here, typed here (the package ships no types). */
interface ExtractHeader {
  name: string;
  type?: string | null;
  size?: number;
  linkname?: string | null;
}
interface ExtractEntry extends AsyncIterable<Uint8Array> {
  header: ExtractHeader;
  resume(): void;
}
interface Extract extends AsyncIterable<ExtractEntry>, NodeJS.WritableStream {
  destroy(err?: Error): void;
}

const TYPES: Record<string, TarEntry["type"]> = {
  file: "file",
  "contiguous-file": "file",
  directory: "directory",
  symlink: "symlink",
  link: "hardlink",
};

function cleanPath(p: string): string {
  return p.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(ReadableStream.from(body)).arrayBuffer());
}

/**
 * The entries of the tar archive `stream`. Call `read()` on an item to get a regular file's
 * body; bodies not read are skipped. Stopping the iteration early cancels the stream.
 *
 * @throws {SbomScanError} `E_CONTAINER_EXPORT` for a truncated stream or a bad header.
 * @example
 * ```ts ignore
 * import { readTar } from "./tar_stream.ts";
 * const file = await Deno.open("rootfs.tar");
 * for await (const item of readTar(file.readable)) {
 *   if (item.entry.path === "etc/os-release") console.log(new TextDecoder().decode(await item.read()));
 * }
 * ```
 */
export async function* readTar(stream: ReadableStream<Uint8Array>): AsyncGenerator<TarItem> {
  const ex = extract() as unknown as Extract;
  const source = Readable.fromWeb(stream as Parameters<typeof Readable.fromWeb>[0]);
  source.on("error", (e: Error) => ex.destroy(e));
  source.pipe(ex);
  try {
    for await (const e of ex) {
      const h = e.header;
      const type = TYPES[h.type ?? "file"] ?? "other";
      let consumed = false;
      yield {
        entry: {
          path: cleanPath(h.name),
          type,
          size: type === "file" ? h.size ?? 0 : 0,
          linkName: h.linkname ?? "",
        },
        read: () => {
          if (consumed) throw new Error("A tar entry's body can be read once");
          consumed = true;
          return collect(e);
        },
      };
      if (!consumed) {
        consumed = true;
        e.resume();
      }
    }
  } catch (e) {
    if (e instanceof SbomScanError) throw e;
    throw new SbomScanError(
      "E_CONTAINER_EXPORT",
      `Malformed tar stream: ${errorMessage(e)}`,
      {},
      { cause: e },
    );
  } finally {
    source.destroy();
    ex.destroy();
  }
}
