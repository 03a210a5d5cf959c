/** `Cargo.lock`: Rust's lockfile (TOML, one `[[package]]` per crate, local crates included). */
import type { Component } from "../component.ts";
import { Collector } from "./collect.ts";
import { malformed } from "./errors.ts";
import { baseName, type Extractor } from "./extractor.ts";
import { tomlEntryLines } from "./lines.ts";
import { parseTomlTable } from "./parse_text.ts";
import { isDict, list, str } from "./values.ts";

/**
 * Cargo lockfiles. A git crate's `source` (`git+https://…?rev=x#<commit>`) gives its commit;
 * crates without a source are the workspace's own and are reported like the rest, as
 * osv-scanner does.
 *
 * @example
 * ```ts
 * import { cargoLock } from "./cargo_lock.ts";
 * const text = 'version = 3\n\n[[package]]\nname = "wasi"\nversion = "0.10.2"\n';
 * const [c] = cargoLock.extract("Cargo.lock", text);
 * console.assert(c.name === "wasi" && c.ecosystem === "crates.io" && c.origin.line === 4);
 * ```
 */
export const cargoLock: Extractor = {
  name: "crates.io/cargo-lock",
  ecosystem: "crates.io",
  fileRequired(path: string): boolean {
    return baseName(path) === "Cargo.lock";
  },
  extract(path: string, text: string): Component[] {
    const lock = parseTomlTable(path, text);
    const lines = tomlEntryLines(text, "package", "name");
    const out = new Collector();
    list(lock.package).forEach((raw, i) => {
      const line = lines[i] || undefined;
      if (!isDict(raw)) throw malformed(path, line ?? 0, "A [[package]] entry is not a table");
      const name = str(raw.name);
      const version = str(raw.version);
      if (!name || version === undefined) {
        throw malformed(path, line ?? 0, "A [[package]] entry lacks a name or version");
      }
      const source = str(raw.source) ?? "";
      const hash = source.indexOf("#");
      const commit = source.startsWith("git+") && hash >= 0 ? source.slice(hash + 1) : "";
      out.add({
        name,
        version,
        ecosystem: "crates.io",
        origin: { file: path, line },
        groups: [],
        ...(commit ? { commit } : {}),
      });
    });
    return out.list();
  },
};
