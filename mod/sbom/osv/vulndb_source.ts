/**
 * Where OSV records come from when an index is built: a directory tree laid out as OSV's
 * bucket is (`<Ecosystem>/<ID>.json`), an `all.zip` file, or zip bytes already downloaded.
 */
import { errorMessage } from "../../core/errors.ts";
import { basename, dirname, join } from "node:path";
import { VulnDbError } from "./vulndb_error.ts";
import { listZip, readZipEntry, type ZipEntry } from "./zip.ts";

/** Zip bytes already in memory (a downloaded `all.zip`). */
export interface ZipBytes {
  /** Named in reports and errors (the URL it came from). */
  name: string;
  bytes: Uint8Array;
  /** The ecosystem the archive holds, when known (OSV's per-ecosystem `all.zip`). */
  ecosystem?: string;
}

/** A directory or `.zip` path, or zip bytes. */
export type BuildSource = string | ZipBytes;

/** One entry of a source: a record's bytes and where they came from. */
export interface RawEntry {
  /** `<source>:<entry>` for zips, the file path for directories: what reports name. */
  where: string;
  /** The ecosystem directory or archive the entry belongs to, when the layout says. */
  home: string | undefined;
  bytes: Uint8Array;
}

/** A source whose layout has been checked (a zip's central directory read) and can be walked. */
export interface OpenedSource {
  label: string;
  entries(): AsyncIterable<RawEntry>;
}

/** The label a source is reported under. */
export function sourceLabel(source: BuildSource): string {
  return typeof source === "string" ? source : source.name;
}

/**
 * Checks a source before anything is written: a directory must be readable, a zip's central
 * directory must parse. Entries are read later, one at a time.
 *
 * @throws {VulnDbError} `E_VULNDB_SOURCE` (missing or unreadable) or `E_VULNDB_ZIP`.
 */
export async function openSource(source: BuildSource): Promise<OpenedSource> {
  if (typeof source !== "string") return openZip(source.name, source.bytes, source.ecosystem);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch (e) {
    throw new VulnDbError("E_VULNDB_SOURCE", source, `cannot read: ${errorMessage(e)}`, {}, {
      cause: e,
    });
  }
  if (info.isDirectory) return openDirectory(source);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(source);
  } catch (e) {
    throw new VulnDbError("E_VULNDB_SOURCE", source, `cannot read: ${errorMessage(e)}`, {}, {
      cause: e,
    });
  }
  // OSV's layout is <Ecosystem>/all.zip: the directory names the ecosystem.
  const home = basename(source) === "all.zip" ? basename(dirname(source)) : undefined;
  return openZip(source, bytes, home);
}

const READ_BATCH = 32;

function openZip(name: string, bytes: Uint8Array, home: string | undefined): OpenedSource {
  const entries: ZipEntry[] = listZip(bytes, name);
  return {
    label: name,
    async *entries() {
      for (const entry of entries) {
        const slash = entry.name.indexOf("/");
        yield {
          where: `${name}:${entry.name}`,
          home: slash > 0 ? entry.name.slice(0, slash) : home,
          bytes: readZipEntry(bytes, entry, name),
        };
      }
    },
  };
}

async function openDirectory(root: string): Promise<OpenedSource> {
  // Only <root>/<Ecosystem>/*.json: files beside the ecosystem directories (provenance
  // notes, READMEs) are not records.
  const homes: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) if (e.isDirectory) homes.push(e.name);
  } catch (e) {
    throw new VulnDbError("E_VULNDB_SOURCE", root, `cannot list: ${errorMessage(e)}`, {}, {
      cause: e,
    });
  }
  homes.sort();
  return {
    label: root,
    async *entries() {
      for (const home of homes) {
        const dir = join(root, home);
        const files: string[] = [];
        try {
          for await (const e of Deno.readDir(dir)) {
            if (e.isFile && e.name.endsWith(".json")) files.push(e.name);
          }
        } catch (e) {
          throw new VulnDbError("E_VULNDB_SOURCE", dir, `cannot list: ${errorMessage(e)}`);
        }
        files.sort();
        // Reads overlap in small batches: one file at a time spends most of a build waiting.
        for (let i = 0; i < files.length; i += READ_BATCH) {
          const paths = files.slice(i, i + READ_BATCH).map((f) => join(dir, f));
          const batch = await Promise.all(paths.map(async (path) => {
            try {
              return await Deno.readFile(path);
            } catch (e) {
              throw new VulnDbError(
                "E_VULNDB_SOURCE",
                path,
                `cannot read: ${errorMessage(e)}`,
              );
            }
          }));
          for (let j = 0; j < paths.length; j++) yield { where: paths[j], home, bytes: batch[j] };
        }
      }
    },
  };
}
