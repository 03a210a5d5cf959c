import { type Cidr, parseCidr } from "./cidr.ts";
import { errorMessage, IronpostError } from "./errors.ts";

/**
 * Read a file of CIDRs: one a line, `#` starts a comment, blank lines ignored. Every bad
 * line is reported at once, each with `file:line`. The packet filter loads its lists with it,
 * and the guard the allowlist files no block may override.
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
