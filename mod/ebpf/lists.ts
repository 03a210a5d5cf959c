import { type Cidr, IronpostError, parseCidr } from "../core/mod.ts";

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
      `Cannot read CIDR list ${path}: ${err instanceof Error ? err.message : err}`,
      { path },
    );
  }
  const out: Cidr[] = [];
  const problems: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i].replace(/#.*/, "").trim();
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

/** Inline CIDRs (already validated by config) plus every file's, de-duplicated. */
export async function collectCidrs(inline: string[], files: string[]): Promise<Cidr[]> {
  const all: Cidr[] = [];
  for (const s of inline) {
    const c = parseCidr(s);
    if (typeof c !== "string") all.push(c);
  }
  // One push per entry: spreading a million-line file into push() overflows the stack.
  for (const f of files) for (const c of await readCidrFile(f)) all.push(c);
  const seen = new Set<string>();
  return all.filter((c) => {
    const k = cidrKey(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A stable string key for a network (family, prefix, bytes). */
export function cidrKey(c: Cidr): string {
  return `${c.family}/${c.prefix}/${
    Array.from(c.bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}
