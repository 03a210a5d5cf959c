/** One line cut out of a byte stream. */
export interface SplitLine {
  /** The line without its terminator; at most `maxLineBytes` long. */
  bytes: Uint8Array;
  /** The line was longer than `maxLineBytes`; the rest up to the terminator was discarded. */
  truncated: boolean;
  /** Stream offset just past the line's terminator: where reading resumes after it. */
  end: number;
}

/**
 * Splits a byte stream into LF-terminated lines, holding at most `maxLineBytes` of a line in
 * memory. A longer line is returned once its terminator arrives, cut and flagged, so the
 * offset recorded for it (`end`) is past the whole line and a resumed reader never sees its
 * tail as a line of its own.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./line_splitter.ts";
 * const s = new LineSplitter(4);
 * const lines = s.push(new TextEncoder().encode("ab\nabcdef\npart"));
 * console.assert(lines.length === 2 && lines[1].truncated && lines[1].end === 10);
 * console.assert(s.pending === 4);
 * ```
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  readonly stripCr: boolean;
  #parts: Uint8Array[] = [];
  #kept = 0;
  #seen = 0;
  #over = false;
  #pos: number;

  /** `stripCr` also drops a CR before the LF (network framing, where CRLF is common). */
  constructor(maxLineBytes: number, opts: { start?: number; stripCr?: boolean } = {}) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be an integer >= 1, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
    this.stripCr = opts.stripCr ?? false;
    this.#pos = opts.start ?? 0;
  }

  /** Stream offset of the next byte to be pushed. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes of the current, unterminated line seen so far (including discarded ones). */
  get pending(): number {
    return this.#seen;
  }

  /** Feed a chunk; returns the lines it completed. The chunk may be reused afterwards. */
  push(chunk: Uint8Array): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const stop = nl === -1 ? chunk.length : nl;
      this.#append(chunk, start, stop);
      if (nl === -1) {
        this.#pos += stop - start;
        break;
      }
      this.#pos += nl + 1 - start;
      out.push(this.#take());
      start = nl + 1;
    }
    return out;
  }

  /** The unterminated rest as a line (the stream ended for good), or undefined if none. */
  flush(): SplitLine | undefined {
    return this.#seen > 0 ? this.#take() : undefined;
  }

  /** Forget any partial line and continue counting from `position`. */
  reset(position = 0): void {
    this.#parts = [];
    this.#kept = 0;
    this.#seen = 0;
    this.#over = false;
    this.#pos = position;
  }

  #append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.#seen += n;
    if (this.#over || n === 0) return;
    const room = this.maxLineBytes - this.#kept;
    const take = Math.min(n, room);
    // slice copies: callers reuse their read buffer.
    if (take > 0) this.#parts.push(chunk.slice(from, from + take));
    this.#kept += take;
    if (n > room) this.#over = true;
  }

  #take(): SplitLine {
    let bytes = concat(this.#parts, this.#kept);
    const truncated = this.#over;
    if (truncated) bytes = cutAtCharBoundary(bytes);
    else if (this.stripCr && bytes.at(-1) === 13) bytes = bytes.subarray(0, bytes.length - 1);
    this.#parts = [];
    this.#kept = 0;
    this.#seen = 0;
    this.#over = false;
    return { bytes, truncated, end: this.#pos };
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Drop a multi-byte UTF-8 character left incomplete at the end of `bytes`, which was cut
 * from a longer text: cutting inside a character would otherwise add a U+FFFD that was
 * never in the input.
 *
 * @example
 * ```ts
 * import { cutAtCharBoundary } from "./line_splitter.ts";
 * const e = new TextEncoder().encode("aé"); // 61 c3 a9
 * console.assert(cutAtCharBoundary(e.subarray(0, 2)).length === 1);
 * ```
 */
export function cutAtCharBoundary(bytes: Uint8Array): Uint8Array {
  let i = bytes.length - 1;
  const floor = Math.max(0, bytes.length - 4);
  while (i > floor && (bytes[i] & 0xc0) === 0x80) i--;
  if (i < 0) return bytes;
  const lead = bytes[i];
  const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  // Not a lead byte at all (stray continuation bytes): invalid anyway, keep as is.
  if ((lead & 0xc0) === 0x80) return bytes;
  return i + len > bytes.length ? bytes.subarray(0, i) : bytes;
}
