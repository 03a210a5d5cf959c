import { type Cidr, errorMessage, IronpostError, parseCidr } from "../core/mod.ts";

/**
 * Read a file of CIDRs: one a line, `#` starts a comment, blank lines ignored. Every bad
 * line is reported at once, each with `file:line`.
 */
export async function readCidrFile(path: string): Promise<Cidr[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new IronpostError(
      "E_LIST_FILE",
      `Cannot read CIDR list ${path}: ${errorMessage(err)}`,
      { path },
    );
  }
  const out: Cidr[] = [];
  const problems: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i].indexOf("#");
    const entry = (hash < 0 ? lines[i] : lines[i].slice(0, hash)).trim();
    if (entry === "") continue;
    const c = parseCidr(entry);
    if (typeof c === "string") problems.push(`${path}:${i + 1}: ${c}`);
    else out.push(c);
  }
  if (problems.length > 0) {
    throw new IronpostError(
      "E_LIST_FILE",
      `${problems.length} bad line(s) in CIDR list ${path}; expected one IPv4/IPv6 address or CIDR a line:\n` +
        problems.slice(0, 20).join("\n"),
      { path, count: problems.length },
    );
  }
  return out;
}

/**
 * Inline CIDRs (already validated by config) plus every file's. Duplicates are left in:
 * `XdpFilter.replaceList` keys every entry anyway, and a second pass over a million-entry
 * list here costs seconds.
 */
export async function collectCidrs(inline: string[], files: string[]): Promise<Cidr[]> {
  const all: Cidr[] = [];
  for (const s of inline) {
    const c = parseCidr(s);
    if (typeof c !== "string") all.push(c);
  }
  // One push per entry: spreading a million-line file into push() overflows the stack.
  for (const f of files) for (const c of await readCidrFile(f)) all.push(c);
  return all;
}

/**
 * A stable string key for a network (family, prefix, bytes), one char per byte: lists of a
 * million entries are keyed at every load, and hex strings cost seconds there.
 */
export function cidrKey(c: Cidr): string {
  // Explicit arguments: spreading a typed array into fromCharCode is several times slower.
  const b = c.bytes;
  if (c.family === 4) return String.fromCharCode(4, c.prefix, b[0], b[1], b[2], b[3]);
  return String.fromCharCode(
    6,
    c.prefix,
    b[0],
    b[1],
    b[2],
    b[3],
    b[4],
    b[5],
    b[6],
    b[7],
    b[8],
    b[9],
    b[10],
    b[11],
    b[12],
    b[13],
    b[14],
    b[15],
  );
}
