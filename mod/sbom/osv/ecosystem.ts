/**
 * OSV ecosystems carry an optional release (`Debian:12`); the index keys packages by the
 * ecosystem without it and keeps the release beside, so a lookup can ask for either.
 */

/**
 * Splits an OSV ecosystem into its name and release: `Debian:12` → `Debian`, `12`;
 * `npm` → `npm`, `` (no release).
 *
 * @example
 * ```ts
 * import { splitEcosystem } from "./ecosystem.ts";
 * console.assert(splitEcosystem("Debian:12").release === "12");
 * console.assert(splitEcosystem("crates.io").ecosystem === "crates.io");
 * ```
 */
export function splitEcosystem(ecosystem: string): { ecosystem: string; release: string } {
  const colon = ecosystem.indexOf(":");
  return colon < 0
    ? { ecosystem, release: "" }
    : { ecosystem: ecosystem.slice(0, colon), release: ecosystem.slice(colon + 1) };
}
