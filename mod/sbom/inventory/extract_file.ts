/** Reading one inventory file from disk, with a size cap, into an extractor. */
import { errorMessage } from "../../core/errors.ts";
import type { Component } from "../component.ts";
import { InventoryError } from "./errors.ts";
import type { ExtractContext, Extractor } from "./extractor.ts";

/** Files larger than this are refused (`E_TOO_LARGE`): no real lockfile comes near it. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/** An I/O failure as the `InventoryError` a walk reports. */
export function readError(path: string, e: unknown): InventoryError {
  const why = errorMessage(e);
  if (e instanceof InventoryError) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new InventoryError("E_NOT_FOUND", path, 0, `File not found: ${why}`, { cause: e });
  }
  if (e instanceof Deno.errors.NotCapable) {
    return new InventoryError("E_PERMISSION", path, 0, `No read permission: ${why}`, {
      cause: e,
    });
  }
  return new InventoryError("E_READ", path, 0, `Cannot read: ${why}`, { cause: e });
}

function checkInfo(path: string, info: Deno.FileInfo, maxBytes: number): void {
  if (!info.isFile) throw new InventoryError("E_READ", path, 0, "Not a regular file");
  if (info.size > maxBytes) {
    throw new InventoryError(
      "E_TOO_LARGE",
      path,
      0,
      `File is ${info.size} bytes, over the ${maxBytes}-byte cap`,
    );
  }
}

function decode(path: string, bytes: Uint8Array, maxBytes: number): string {
  // The file may have grown between stat and read.
  if (bytes.length > maxBytes) {
    throw new InventoryError("E_TOO_LARGE", path, 0, `File is over the ${maxBytes}-byte cap`);
  }
  return new TextDecoder().decode(bytes);
}

/** `path`'s text; fails only with `InventoryError` (`E_NOT_FOUND`, `E_READ`, `E_TOO_LARGE`, …). */
export async function readInventoryText(
  path: string,
  maxBytes = DEFAULT_MAX_FILE_BYTES,
): Promise<string> {
  try {
    checkInfo(path, await Deno.stat(path), maxBytes);
    return decode(path, await Deno.readFile(path), maxBytes);
  } catch (e) {
    throw readError(path, e);
  }
}

/** `readInventoryText` for extractors' includes, which are read while parsing. */
export function readInventoryTextSync(path: string, maxBytes = DEFAULT_MAX_FILE_BYTES): string {
  try {
    checkInfo(path, Deno.statSync(path), maxBytes);
    return decode(path, Deno.readFileSync(path), maxBytes);
  } catch (e) {
    throw readError(path, e);
  }
}

/** Options for `extractFile`. */
export interface ExtractFileOptions {
  /** Read cap per file (default 64 MiB). */
  maxFileBytes?: number;
  /** How included files are read (default: from disk, with the same cap). */
  ctx?: ExtractContext;
}

/**
 * Reads `path` and runs `extractor` on it. Rejects only with `InventoryError`: an extractor
 * failing any other way (a bug) becomes `E_EXTRACT` with the original as its cause.
 *
 * ```ts ignore
 * import { extractFile, npmLock } from "./mod.ts";
 * const components = await extractFile("package-lock.json", npmLock);
 * ```
 */
export async function extractFile(
  path: string,
  extractor: Extractor,
  opts: ExtractFileOptions = {},
): Promise<Component[]> {
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const text = await readInventoryText(path, maxBytes);
  const ctx = opts.ctx ?? { readText: (p: string) => readInventoryTextSync(p, maxBytes) };
  return runExtractor(extractor, path, text, ctx);
}

/** `extractor.extract` with anything but `InventoryError` turned into `E_EXTRACT`. */
export function runExtractor(
  extractor: Extractor,
  path: string,
  text: string,
  ctx?: ExtractContext,
): Component[] {
  try {
    return extractor.extract(path, text, ctx);
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    throw new InventoryError(
      "E_EXTRACT",
      path,
      0,
      `${extractor.name} failed: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}
