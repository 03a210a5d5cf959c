/** dpkg's database of installed packages: `/var/lib/dpkg/status` and distroless `status.d/`. */
import type { Component } from "../component.ts";
import { type Extractor, pathEndsWith } from "./extractor.ts";
import { splitLines } from "./lines.ts";

/** One paragraph's fields (names lower-cased: deb822 field names ignore case), first wins. */
interface Paragraph {
  fields: Map<string, string>;
  line: number;
  packageLine?: number;
}

/** deb822 paragraphs. Lines that are neither fields nor continuations are ignored. */
function paragraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph | undefined;
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "") {
      current = undefined;
      return;
    }
    if (current === undefined) {
      current = { fields: new Map(), line: i + 1 };
      out.push(current);
    }
    if (raw.startsWith(" ") || raw.startsWith("\t")) return; // a continuation
    const m = /^([^\s:#][^:]*):(.*)$/.exec(raw);
    if (m === null) return;
    const key = m[1].toLowerCase();
    if (current.fields.has(key)) return;
    current.fields.set(key, m[2].trim());
    if (key === "package") current.packageLine = i + 1;
  });
  return out;
}

/**
 * dpkg status files. Only packages whose `Status` says `installed` count (not `config-files`,
 * `half-installed`, `not-installed`); distroless images' `status.d/` files carry no `Status`
 * and count when it is absent. Each is reported under its *source* package name and version
 * (`Source: util-linux (2.36.1-8+deb11u1)`), because OSV's Debian records are keyed by source
 * package; the binary package stays in `binaryName`, and its version in `binaryVersion` when
 * it differs (a binNMU `+b1`, an epoch only the binary has). Versions keep their epoch. A
 * paragraph with neither `Package` nor `Source` is skipped; one without a version is reported
 * with version "". Nothing here throws: dpkg's own reader is as forgiving.
 *
 * @example
 * ```ts
 * import { dpkgStatus } from "./dpkg_status.ts";
 * const text = "Package: bsdutils\nStatus: install ok installed\n" +
 *   "Source: util-linux (2.38.1-5+deb12u3)\nVersion: 1:2.38.1-5+deb12u3\n";
 * const [c] = dpkgStatus.extract("/var/lib/dpkg/status", text);
 * console.assert(c.name === "util-linux" && c.version === "2.38.1-5+deb12u3");
 * console.assert(c.binaryName === "bsdutils" && c.binaryVersion === "1:2.38.1-5+deb12u3");
 * ```
 */
export const dpkgStatus: Extractor = {
  name: "debian/dpkg-status",
  ecosystem: "Debian",
  fileRequired(path: string): boolean {
    return pathEndsWith(path, "var/lib/dpkg/status") ||
      (/(^|\/)var\/lib\/dpkg\/status\.d\/[^/]+$/.test(path) && !path.endsWith(".md5sums"));
  },
  sniff: (t) => /^Package: /m.test(t) && /^Status: /m.test(t),
  extract(path: string, text: string): Component[] {
    const statusOptional = path.includes("/status.d/");
    const out: Component[] = [];
    for (const p of paragraphs(text)) {
      const status = p.fields.get("status");
      const installed = status === undefined
        ? statusOptional
        : status.split(/\s+/)[2] === "installed";
      if (!installed) continue;
      const binaryName = p.fields.get("package") || undefined;
      const binaryVersion = p.fields.get("version") ?? "";
      const source = /^(\S+)(?:\s+\(([^)]*)\))?/.exec(p.fields.get("source") ?? "");
      const name = source?.[1] ?? binaryName;
      if (name === undefined) continue;
      const version = source?.[2]?.trim() || binaryVersion;
      out.push({
        name,
        version,
        ecosystem: "Debian",
        origin: { file: path, line: p.packageLine ?? p.line },
        groups: [],
        ...(binaryName ? { binaryName } : {}),
        ...(binaryVersion !== version ? { binaryVersion } : {}),
      });
    }
    return out;
  },
};
