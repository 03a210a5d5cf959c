/** `Cargo.lock`: Rust's lockfile (TOML, one `[[package]]` per crate, local crates included). */
import { lockfile } from "./extractor.ts";
import { tomlPackages } from "./parse_text.ts";
import { poetryLock } from "./poetry_lock.ts";
import { uvLock } from "./uv_lock.ts";
import { str } from "./values.ts";

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
export const cargoLock = lockfile({
  name: "crates.io/cargo-lock",
  ecosystem: "crates.io",
  files: ["Cargo.lock"],
  sniff: (t) => /^\[\[package\]\]/m.test(t) && !poetryLock.sniff!(t) && !uvLock.sniff!(t),
  parse(path, text, add) {
    for (const p of tomlPackages(path, text)) {
      const source = str(p.raw.source) ?? "";
      const hash = source.indexOf("#");
      const commit = source.startsWith("git+") && hash >= 0 ? source.slice(hash + 1) : "";
      add({ name: p.name, version: p.version!, line: p.line, commit });
    }
  },
});
