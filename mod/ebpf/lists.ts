import { type Cidr, parseCidr, readCidrFile } from "../core/mod.ts";

export { readCidrFile };

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
