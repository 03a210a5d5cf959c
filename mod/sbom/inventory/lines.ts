/**
 * Line numbers for formats whose parsers give none (JSON, TOML): found by searching the text
 * forward in the order the parsed entries come, so each search starts where the last ended and
 * the whole file is scanned about once.
 */
export class TextLines {
  readonly #text: string;
  #starts: number[] | undefined;
  #cursor = 0;

  constructor(text: string) {
    this.#text = text;
  }

  /** The 1-based line of character `offset`. */
  lineAt(offset: number): number {
    const starts = this.#lineStarts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /**
   * The line of the next `needle` at or after the cursor, moving the cursor past it; undefined
   * (cursor unmoved) when there is none, e.g. in a minified file.
   */
  next(needle: string): number | undefined {
    const at = this.#text.indexOf(needle, this.#cursor);
    if (at < 0) return undefined;
    this.#cursor = at + needle.length;
    return this.lineAt(at);
  }

  #lineStarts(): number[] {
    if (this.#starts === undefined) {
      const starts = [0];
      for (let i = this.#text.indexOf("\n"); i >= 0; i = this.#text.indexOf("\n", i + 1)) {
        starts.push(i + 1);
      }
      this.#starts = starts;
    }
    return this.#starts;
  }
}

/** The text split into lines, without `\r` at line ends. */
export function splitLines(text: string): string[] {
  return text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

/**
 * For each `[[table]]` header of a TOML file, in order, the line of the first `key = …` under
 * it (0 when it has none), so array-of-tables entries get lines without a positional parser.
 */
export function tomlEntryLines(text: string, table: string, key: string): number[] {
  const header = `[[${table}]]`;
  const keyRe = new RegExp(`^\\s*${key}\\s*=`);
  const out: number[] = [];
  let open = false;
  splitLines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith("[")) {
      open = line === header;
      if (open) out.push(0);
    } else if (open && out[out.length - 1] === 0 && keyRe.test(raw)) {
      out[out.length - 1] = i + 1;
    }
  });
  return out;
}
