/**
 * A long sshd log made from a short real one: the file's lines repeated, each copy shifted
 * later by the file's span (rounded up to 10 minutes), so syslog timestamps keep increasing
 * and correlation windows behave as in one long log. The first copy starts on January 1st of
 * `year` at the sample's time of day, so even 500 copies (about 87 days) stay in one calendar
 * year: yearless syslog timestamps are then read the same way by every tool.
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const STAMP_RE = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) /;

/** The sample, parsed once: each line's offset from the first and the text after its stamp. */
export interface Sample {
  offsetsMs: number[];
  rests: string[];
  /** Shift between copies: the span, rounded up to whole 10 minutes. */
  shiftMs: number;
  /** Time of day of the first line, in ms. */
  firstTodMs: number;
}

export function readSample(text: string): Sample {
  const offsetsMs: number[] = [];
  const rests: string[] = [];
  let first: number | undefined;
  let last = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = STAMP_RE.exec(line);
    if (!m) throw new Error(`sample line without a syslog timestamp: ${line.slice(0, 80)}`);
    // A fixed non-leap year: only differences matter here.
    const t = Date.UTC(2001, MONTHS.indexOf(m[1]), Number(m[2]), +m[3], +m[4], +m[5]);
    first ??= t;
    if (t < last) throw new Error("sample timestamps go backwards");
    last = t;
    offsetsMs.push(t - first);
    // Keep the space before the host; drop a CR (loghub ships CRLF, syslog files are LF).
    rests.push(line.slice(m[0].length - 1).replace(/\r$/, ""));
  }
  if (first === undefined) throw new Error("empty sample");
  const span = last - first;
  const shiftMs = Math.ceil((span + 1000) / 600_000) * 600_000;
  return { offsetsMs, rests, shiftMs, firstTodMs: first % 86_400_000 };
}

function stamp(ms: number): string {
  const d = new Date(ms);
  const dd = String(d.getUTCDate()).padStart(2, " ");
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mi = String(d.getUTCMinutes()).padStart(2, "0");
  const ss = String(d.getUTCSeconds()).padStart(2, "0");
  return `${MONTHS[d.getUTCMonth()]} ${dd} ${hh}:${mi}:${ss}`;
}

/** Write `lines` lines to `path`; returns the first and last instants (UTC ms). */
export async function writeShiftedLog(
  sample: Sample,
  path: string,
  lines: number,
  year: number,
): Promise<{ firstMs: number; lastMs: number; copies: number }> {
  const base = Date.UTC(year, 0, 1) + sample.firstTodMs;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let buf: string[] = [];
  let bufLen = 0;
  let written = 0;
  let lastMs = base;
  const n = sample.offsetsMs.length;
  try {
    for (let k = 0; written < lines; k++) {
      const copyBase = base + k * sample.shiftMs;
      for (let i = 0; i < n && written < lines; i++, written++) {
        lastMs = copyBase + sample.offsetsMs[i];
        const line = stamp(lastMs) + sample.rests[i] + "\n";
        buf.push(line);
        bufLen += line.length;
        if (bufLen > 1 << 20) {
          await writeAll(file, enc.encode(buf.join("")));
          buf = [];
          bufLen = 0;
        }
      }
    }
    if (buf.length > 0) await writeAll(file, enc.encode(buf.join("")));
  } finally {
    file.close();
  }
  return { firstMs: base, lastMs, copies: Math.ceil(lines / n) };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/** RFC 3164 datagrams for the UDP test: the sample's lines with a priority (auth.info). */
export function syslogDatagrams(sample: Sample, year: number, count: number): string[] {
  const base = Date.UTC(year, 0, 1) + sample.firstTodMs;
  const out: string[] = [];
  for (let i = 0; i < count && i < sample.rests.length; i++) {
    out.push(`<38>${stamp(base + sample.offsetsMs[i])}${sample.rests[i]}`);
  }
  return out;
}
