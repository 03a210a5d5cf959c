import { cutAtCharBoundary } from "./line_splitter.ts";

/** One syslog message taken out of a TCP stream. */
export interface Frame {
  bytes: Uint8Array;
  truncated: boolean;
}

/** The frames a chunk completed, and a framing error after which the stream is unusable. */
export interface DecodeResult {
  frames: Frame[];
  error?: string;
}

/** RFC 6587 MSG-LEN: a nonzero digit and at most 9 digits in all (under 1 GB). */
const MAX_LEN_DIGITS = 9;

/**
 * Decodes RFC 6587 octet-counted framing, `MSG-LEN SP SYSLOG-MSG`, from a byte stream. A
 * message over `maxMessageBytes` keeps its first part (flagged) and the rest is skipped by
 * count, so the next frame is still found. A trailing LF inside a frame is dropped, as
 * senders differ on including one. Line ends between frames are tolerated.
 *
 * @example
 * ```ts
 * import { OctetCountingDecoder } from "./octet_counting.ts";
 * const d = new OctetCountingDecoder(1024);
 * const { frames } = d.push(new TextEncoder().encode("5 hello11 hello world"));
 * console.assert(frames.length === 2);
 * ```
 */
export class OctetCountingDecoder {
  readonly maxMessageBytes: number;
  #digits = "";
  /** Bytes of the current message still to come; undefined while reading MSG-LEN. */
  #remaining: number | undefined;
  #total = 0;
  #parts: Uint8Array[] = [];
  #kept = 0;

  constructor(maxMessageBytes: number) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /** True while inside a frame (a connection closing now cut a message short). */
  get midFrame(): boolean {
    return this.#remaining !== undefined || this.#digits !== "";
  }

  push(chunk: Uint8Array): DecodeResult {
    const frames: Frame[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining === undefined) {
        const c = chunk[i];
        if (c >= 0x30 && c <= 0x39) {
          if ((this.#digits === "" && c === 0x30) || this.#digits.length >= MAX_LEN_DIGITS) {
            return { frames, error: `invalid MSG-LEN "${this.#digits}${c - 0x30}"` };
          }
          this.#digits += String.fromCharCode(c);
        } else if (c === 0x20 && this.#digits !== "") {
          this.#remaining = this.#total = Number(this.#digits);
          this.#digits = "";
        } else if (!((c === 10 || c === 13) && this.#digits === "")) {
          return { frames, error: `expected MSG-LEN, got byte 0x${c.toString(16)}` };
        }
        i++;
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - i);
      const keep = Math.min(take, this.maxMessageBytes - this.#kept);
      // slice copies: the caller reuses its read buffer.
      if (keep > 0) this.#parts.push(chunk.slice(i, i + keep));
      this.#kept += Math.max(0, keep);
      i += take;
      this.#remaining -= take;
      if (this.#remaining === 0) frames.push(this.#take());
    }
    return { frames };
  }

  #take(): Frame {
    let bytes: Uint8Array = new Uint8Array(this.#kept);
    let off = 0;
    for (const p of this.#parts) {
      bytes.set(p, off);
      off += p.length;
    }
    const truncated = this.#total > this.maxMessageBytes;
    if (truncated) bytes = cutAtCharBoundary(bytes);
    else {
      let end = bytes.length;
      while (end > 0 && (bytes[end - 1] === 10 || bytes[end - 1] === 13)) end--;
      bytes = bytes.subarray(0, end);
    }
    this.#parts = [];
    this.#kept = 0;
    this.#remaining = undefined;
    this.#total = 0;
    return { bytes, truncated };
  }
}
