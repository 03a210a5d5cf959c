/** Walking a directory tree (a host's root, a container's filesystem, a project) for inventory. */
import { SNIFF_BYTES, sniffCandidate, sniffExtractors } from "./sniff.ts";
import type { Component } from "../component.ts";
import { InventoryError } from "./errors.ts";
import {
  DEFAULT_MAX_FILE_BYTES,
  readError,
  readInventoryText,
  readInventoryTextSync,
  runExtractor,
} from "./extract_file.ts";
import type { ExtractContext, Extractor } from "./extractor.ts";
import { EXTRACTORS } from "./extractors.ts";

/** Options for `inventoryDir`. */
export interface InventoryOptions {
  /** Which formats to read (default: `EXTRACTORS`, all of them). */
  extractors?: readonly Extractor[];
  /** Read cap per file (default 64 MiB); a larger file is an `E_TOO_LARGE` error. */
  maxFileBytes?: number;
  /** Enter directories on other filesystems than the root's (default false). */
  crossMounts?: boolean;
  /**
   * Follow symbolic links to directories and files (default false). Off, a link is never
   * followed, so a scan of a container's filesystem cannot wander onto the host through an
   * absolute link; on, each directory is entered once (by device and inode), so loops end.
   */
  followSymlinks?: boolean;
  /** Absolute paths never entered, mounts or not (default `/proc`, `/sys`, `/dev`). */
  skipPaths?: readonly string[];
  /** Directory names never entered, at any depth (default `.git`). */
  skipDirNames?: readonly string[];
  /**
   * Also recognise lockfiles by content when their name is not the standard one
   * (see sniff.ts). Off by default: it opens more files.
   */
  sniff?: boolean;
}

/** What a walk found. */
export interface InventoryResult {
  /** Every component, deduplicated on identity and origin. */
  components: Component[];
  /** One per file (or directory) that could not be read or parsed; the walk went on. */
  errors: InventoryError[];
  /** The files an extractor was run on (read without error), in walk order. */
  files: string[];
}

const DEFAULT_SKIP_PATHS = ["/proc", "/sys", "/dev"];
const DEFAULT_SKIP_NAMES = [".git"];

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** Whether `path` is `dir` or below it (both absolute and normalised). */
function isWithin(path: string, dir: string): boolean {
  return dir === "/" || path === dir || path.startsWith(`${dir}/`);
}

/** Reads includes (`-r other.txt`) only from inside the scanned tree, links resolved. */
function treeContext(realRoot: string, maxBytes: number): ExtractContext {
  return {
    readText(path: string): string {
      let real: string;
      try {
        real = Deno.realPathSync(path);
      } catch (e) {
        throw readError(path, e);
      }
      if (!isWithin(real, realRoot)) {
        throw new InventoryError("E_INCLUDE", path, 0, `Include is outside ${realRoot}`);
      }
      return readInventoryTextSync(real, maxBytes);
    },
  };
}

/**
 * Walks `root` and runs every extractor whose `fileRequired` accepts a file on it. Never
 * throws for what it meets: an unreadable directory, a malformed file, a missing include is
 * returned in `errors` and the walk goes on (what vanishes mid-walk is passed over). Skips `.git`, `/proc`, `/sys`, `/dev`, other filesystems
 * (by `st_dev`) and symbolic links unless asked. Entries are visited in name order, so two
 * walks of one tree agree. Needs read access to `root` and, for YAML lockfiles, env access to
 * `INVENTORY_ENV_VARS`.
 *
 * ```ts ignore
 * import { inventoryDir } from "./mod.ts";
 * const { components, errors } = await inventoryDir("/srv/app");
 * for (const e of errors) console.error(e.format());
 * ```
 */
export async function inventoryDir(
  root: string,
  opts: InventoryOptions = {},
): Promise<InventoryResult> {
  const extractors = opts.extractors ?? EXTRACTORS;
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const skipPaths = new Set(opts.skipPaths ?? DEFAULT_SKIP_PATHS);
  const skipNames = new Set(opts.skipDirNames ?? DEFAULT_SKIP_NAMES);
  const result: InventoryResult = { components: [], errors: [], files: [] };
  const start = root.length > 1 ? root.replace(/\/+$/, "") : root;

  let rootInfo: Deno.FileInfo;
  let realRoot: string;
  try {
    rootInfo = await Deno.stat(start);
    realRoot = await Deno.realPath(start);
  } catch (e) {
    result.errors.push(readError(start, e));
    return result;
  }
  if (!rootInfo.isDirectory) {
    result.errors.push(new InventoryError("E_READ", start, 0, "Not a directory"));
    return result;
  }
  const ctx = treeContext(realRoot, maxBytes);
  // Directories are marked when entered, not when found, so a tree is walked depth-first
  // under its own names and a link to a directory already walked (or to an ancestor) is not.
  const seenDirs = new Set<string>();
  const seenComponents = new Set<string>();
  const stack: { path: string; id: string }[] = [
    { path: start, id: `${rootInfo.dev}:${rootInfo.ino}` },
  ];

  const visitFile = async (path: string): Promise<void> => {
    let wanted = extractors.filter((e) => e.fileRequired(path));
    if (wanted.length === 0 && opts.sniff && sniffCandidate(path)) {
      try {
        const text = await readInventoryText(path, maxBytes);
        wanted = sniffExtractors(text.slice(0, SNIFF_BYTES), extractors);
      } catch {
        return; // unreadable and not known to be a lockfile: not worth an error
      }
    }
    if (wanted.length === 0) return;
    let text: string;
    try {
      text = await readInventoryText(path, maxBytes);
    } catch (e) {
      const err = readError(path, e);
      // Gone since it was listed (a live system changes under a walk): nothing to report.
      if (err.code !== "E_NOT_FOUND") result.errors.push(err);
      return;
    }
    result.files.push(path);
    for (const extractor of wanted) {
      try {
        for (const c of runExtractor(extractor, path, text, ctx)) {
          // The same file reached twice (a requirements file read alone and through -r).
          const key = [c.ecosystem, c.name, c.version, c.commit, c.binaryName, c.origin.file]
            .join("\0") + `\0${c.origin.line}`;
          if (seenComponents.has(key)) continue;
          seenComponents.add(key);
          result.components.push(c);
        }
      } catch (e) {
        result.errors.push(readError(path, e));
      }
    }
  };

  while (stack.length > 0) {
    const { path: dir, id: dirId } = stack.pop() as { path: string; id: string };
    if (seenDirs.has(dirId)) continue; // a link loop, or a directory reached twice
    seenDirs.add(dirId);
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) entries.push(entry);
    } catch (e) {
      const err = readError(dir, e);
      if (err.code !== "E_NOT_FOUND" || dir === start) result.errors.push(err);
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: { path: string; id: string }[] = [];
    for (const entry of entries) {
      const path = joinPath(dir, entry.name);
      let isDir = entry.isDirectory;
      let isFile = entry.isFile;
      if (entry.isSymlink) {
        if (!opts.followSymlinks) continue;
        try {
          const target = await Deno.stat(path);
          isDir = target.isDirectory;
          isFile = target.isFile;
        } catch {
          continue; // a dangling link
        }
      }
      if (isFile) {
        await visitFile(path);
        continue;
      }
      if (!isDir || skipNames.has(entry.name) || skipPaths.has(path)) continue;
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path);
      } catch (e) {
        const err = readError(path, e);
        if (err.code !== "E_NOT_FOUND") result.errors.push(err);
        continue;
      }
      if (!opts.crossMounts && info.dev !== rootInfo.dev) continue;
      const id = `${info.dev}:${info.ino}`;
      if (!seenDirs.has(id)) subdirs.push({ path, id });
    }
    // Reversed so the stack pops them in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
  return result;
}
