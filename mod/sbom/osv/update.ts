/**
 * Refreshing the local vulnerability index from OSV's bucket, a mirror of it, a directory or
 * an `all.zip`.
 */
import { errorMessage } from "../../core/errors.ts";
import type { Ecosystem } from "../component.ts";
import { buildIndex, type BuildOptions, type BuildReport } from "./build_index.ts";
import { VulnDbError } from "./vulndb_error.ts";
import type { ZipBytes } from "./vulndb_source.ts";

/** OSV's public bucket: `<base>/<Ecosystem>/all.zip` for each ecosystem. */
export const OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com/";

/** The ecosystems the scanner has extractors for, fetched when a base URL is given. */
export const DEFAULT_ECOSYSTEMS: readonly Ecosystem[] = [
  "npm",
  "PyPI",
  "Go",
  "crates.io",
  "Packagist",
  "RubyGems",
  "Debian",
  "Hex",
];

export interface UpdateOptions extends BuildOptions {
  /**
   * A base URL (each ecosystem's `<base>/<Ecosystem>/all.zip` is fetched), the URL of one
   * `.zip`, a directory `<Ecosystem>/<ID>.json`, or an `all.zip` path.
   */
  source: string | URL;
  dbPath: string;
  /** Ecosystems fetched from a base URL; default `DEFAULT_ECOSYSTEMS`. */
  ecosystems?: readonly string[];
  /** Per download; default 10 minutes. */
  timeoutMs?: number;
  /** Per download; default 2 GiB. */
  maxDownloadBytes?: number;
}

/**
 * Replaces the index at `dbPath` with one built from `source`, or leaves it untouched.
 *
 * URLs are fetched (every configured ecosystem's `all.zip` for a base URL) entirely before
 * the build starts, then everything goes through `buildIndex`'s checks: each zip's central
 * directory and every entry's CRC must be sound, entries that are not OSV records are
 * counted by name and may not exceed `maxRejectedFraction`, and no ecosystem may lose more
 * than `maxShrinkFraction` of the records the current index has. Only then is the new file
 * renamed over the old one; a failed download, a damaged zip or a partial set never
 * replaces a good index.
 *
 * @throws {VulnDbError} `E_VULNDB_FETCH` naming the URL, or any of `buildIndex`'s.
 * @example
 * ```ts ignore
 * import { updateVulnDb } from "./update.ts";
 * const r = await updateVulnDb({
 *   source: "https://osv-vulnerabilities.storage.googleapis.com/",
 *   dbPath: "/var/lib/ironpost/vulndb.sqlite",
 *   ecosystems: ["PyPI", "npm"],
 * });
 * console.log(`${r.records} records in ${r.durationMs} ms`);
 * ```
 */
export async function updateVulnDb(options: UpdateOptions): Promise<BuildReport> {
  const { source, dbPath } = options;
  const url = asHttpUrl(source);
  if (url === undefined) {
    const path = source instanceof URL ? decodeURIComponent(source.pathname) : source;
    return await buildIndex(path, dbPath, options);
  }
  const zips: ZipBytes[] = [];
  if (url.pathname.endsWith(".zip")) {
    const parts = url.pathname.split("/");
    const ecosystem = parts.length >= 2 ? decodeURIComponent(parts[parts.length - 2]) : undefined;
    zips.push({
      name: url.href,
      bytes: await download(url, options),
      ecosystem: ecosystem || undefined,
    });
  } else {
    const base = new URL(url.href.endsWith("/") ? url.href : `${url.href}/`);
    for (const ecosystem of options.ecosystems ?? DEFAULT_ECOSYSTEMS) {
      const zipUrl = new URL(`${encodeURIComponent(ecosystem)}/all.zip`, base);
      zips.push({ name: zipUrl.href, bytes: await download(zipUrl, options), ecosystem });
    }
  }
  return await buildIndex(zips, dbPath, {
    ...options,
    sourceLabel: options.sourceLabel ?? url.href,
  });
}

function asHttpUrl(source: string | URL): URL | undefined {
  if (source instanceof URL) return source.protocol === "file:" ? undefined : source;
  return /^https?:\/\//i.test(source) ? new URL(source) : undefined;
}

/** Fetches one archive whole, bounded in time and size. */
async function download(url: URL, options: UpdateOptions): Promise<Uint8Array> {
  const limit = options.maxDownloadBytes ?? 2 * 1024 ** 3;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 600_000) });
  } catch (e) {
    throw new VulnDbError(
      "E_VULNDB_FETCH",
      url.href,
      `download failed: ${errorMessage(e)}`,
      {},
      {
        cause: e,
      },
    );
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw new VulnDbError("E_VULNDB_FETCH", url.href, `download failed: HTTP ${res.status}`, {
      status: res.status,
    });
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > limit) {
        throw new Error(`larger than the ${limit}-byte limit`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    await res.body.cancel().catch(() => {});
    throw new VulnDbError(
      "E_VULNDB_FETCH",
      url.href,
      `download failed: ${errorMessage(e)}`,
      {},
      {
        cause: e,
      },
    );
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
