/**
 * Reads OSV's `all.zip` archives one entry at a time. The central directory is walked here
 * (PKWARE APPNOTE 6.3: end-of-central-directory record, Zip64 records, central and local
 * headers); each entry is inflated by zlib (`node:zlib`, built into Deno) with its output
 * bounded by the size the directory declares, and checked against its CRC-32.
 *
 * Why not a zip package (`npm:fflate`'s `unzipSync`): it inflates every entry into memory at
 * once, and npm's all.zip holds hundreds of thousands of records, and it would add a
 * dependency for what zlib already does natively. Why not the system `unzip`: hosts need
 * not have it, and it would need a temporary file and a run permission for bytes that are
 * already in memory after `fetch`.
 */
import { errorMessage } from "../../core/errors.ts";
import { crc32, inflateRawSync } from "node:zlib";
import { VulnDbError } from "./vulndb_error.ts";

/** One file in a zip, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * Lists a zip's entries (directories left out) from its central directory.
 *
 * @param source Named in errors.
 * @throws {VulnDbError} `E_VULNDB_ZIP` when the directory is missing, truncated or
 * inconsistent, or the archive is split or encrypted.
 * @example
 * ```ts ignore
 * import { listZip, readZipEntry } from "./zip.ts";
 * const zip = await Deno.readFile("PyPI/all.zip");
 * for (const entry of listZip(zip, "PyPI/all.zip")) {
 *   const json = new TextDecoder().decode(readZipEntry(zip, entry, "PyPI/all.zip"));
 * }
 * ```
 */
export function listZip(bytes: Uint8Array, source: string): ZipEntry[] {
  const fail = (problem: string): never => {
    throw new VulnDbError("E_VULNDB_ZIP", source, `not a readable zip: ${problem}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const v = u32(at) + u32(at + 4) * 2 ** 32;
    if (!Number.isSafeInteger(v)) fail("a Zip64 field is larger than 2^53");
    return v;
  };

  // The end record sits in the last 22 + 65535 bytes (a comment may follow it).
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === EOCD && at + 22 + u16(at + 20) <= bytes.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail("no end-of-central-directory record (truncated or not a zip)");
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) {
    fail("split (multi-disk) archives are not supported");
  }
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);

  // Zip64: the locator sits just before the end record and points at the Zip64 end record.
  if (eocd >= 20 && u32(eocd - 20) === ZIP64_LOCATOR) {
    const at = u64(eocd - 12);
    if (at + 56 > bytes.length || u32(at) !== ZIP64_EOCD) fail("the Zip64 end record is missing");
    count = u64(at + 32);
    cdSize = u64(at + 40);
    cdOffset = u64(at + 48);
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    fail("Zip64 sizes without a Zip64 locator");
  }
  if (cdOffset + cdSize > bytes.length) fail("the central directory lies past the end of the file");

  const names = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cdOffset + cdSize || u32(at) !== CENTRAL) {
      fail(`central directory entry ${i + 1} of ${count} is missing or damaged`);
    }
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let localOffset = u32(at + 42);
    const end = at + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) fail(`central directory entry ${i + 1} runs past the directory`);
    const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLen));

    // Zip64 extended information: only the fields that overflowed are present, in order.
    let x = at + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = u16(x);
      const len = u16(x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        if (size === 0xffffffff) {
          size = u64(f);
          f += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(f);
          f += 8;
        }
        if (localOffset === 0xffffffff) localOffset = u64(f);
      }
      x += 4 + len;
    }
    at = end;

    if (name.endsWith("/")) continue;
    if (flags & 0x1) fail(`${name} is encrypted`);
    if (method !== 0 && method !== 8) fail(`${name} uses compression method ${method}`);
    if (localOffset + 30 > cdOffset) fail(`${name} starts past the file data`);
    entries.push({ name, method, crc, compressedSize, size, localOffset });
  }
  return entries;
}

/**
 * Inflates one entry and checks its CRC-32. The output is never larger than the size the
 * directory declares, so a lying entry cannot exhaust memory.
 *
 * @throws {VulnDbError} `E_VULNDB_ZIP` on a damaged local header, bad deflate data, a
 * size or CRC-32 mismatch.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, source: string): Uint8Array {
  const fail = (problem: string): never => {
    throw new VulnDbError("E_VULNDB_ZIP", source, `${entry.name}: ${problem}`, {
      entry: entry.name,
    });
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL) fail("local header is missing");
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) fail("data runs past the end of the file");
  const raw = bytes.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (e) {
      const code = (e as { code?: string }).code;
      return fail(
        code === "ERR_BUFFER_TOO_LARGE"
          ? `inflates to more than the ${entry.size} bytes the directory says`
          : `deflate data is damaged (${errorMessage(e)})`,
      );
    }
  }
  if (data.length !== entry.size) fail(`is ${data.length} bytes, the directory says ${entry.size}`);
  if (crc32(data) !== entry.crc) fail("CRC-32 mismatch");
  return data;
}
