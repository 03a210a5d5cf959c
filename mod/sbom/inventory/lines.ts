/**
 * Line numbers for formats whose parsers give none (JSON, TOML): found by searching the text
 * forward in the order the parsed entries come, so each search starts where the last ended and
 * the whole file is scanned about once.
 *
 * A search that finds nothing reads the rest of the text without moving the cursor, so a
 * file where every search misses would be read once per entry (quadratic: a minified 40k
 * package lockfile took over a minute). A space in a needle therefore matches any run of
 * whitespace, none included (minified JSON is found too), and the characters read by
 * searches that missed are capped at `MISS_BUDGET` times the text's length: past that,
 * entries get no line, and the whole is linear in the text's size.
 */
export class TextLines {
  readonly #text: string;
  #starts: number[] | undefined;
  #cursor = 0;
  /** Characters failed searches may still read. */
  #missBudget: number;

  constructor(text: string) {
    this.#text = text;
    this.#missBudget = MISS_BUDGET * text.length + 4096;
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
    if (this.#missBudget <= 0) return undefined;
    const parts = needle.split(" ").filter((p) => p !== "");
    if (parts.length === 0) return undefined;
    const text = this.#text;
    for (
      let at = text.indexOf(parts[0], this.#cursor);
      at >= 0;
      at = text.indexOf(parts[0], at + 1)
    ) {
      const end = matchRest(text, at + parts[0].length, parts);
      if (end < 0) continue;
      this.#cursor = end;
      return this.lineAt(at);
    }
    this.#missBudget -= text.length - this.#cursor;
    return undefined;
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

/** How many times its text's length failed `TextLines.next` searches may read in all. */
const MISS_BUDGET = 4;

/** Where `parts[1..]` end when they follow `from` in `text`, each after optional whitespace; -1 if not. */
function matchRest(text: string, from: number, parts: string[]): number {
  let i = from;
  for (let k = 1; k < parts.length; k++) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (!text.startsWith(parts[k], i)) return -1;
    i += parts[k].length;
  }
  return i;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
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
