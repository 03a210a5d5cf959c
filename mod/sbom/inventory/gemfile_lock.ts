/** `Gemfile.lock` (and `gems.locked`): Bundler's lockfile. */
import { malformed } from "./errors.ts";
import { lockfile } from "./extractor.ts";
import { splitLines } from "./lines.ts";

/** Sections that list gems under `specs:`; the rest (PLATFORMS, DEPENDENCIES, …) do not. */
const SOURCE_SECTIONS = new Set(["GEM", "GIT", "PATH", "PLUGIN SOURCE"]);

/** A gem under `specs:`: four spaces, a name, a version in parentheses. */
const SPEC = /^ {4}([^\s(]+) \(([^()]+)\)$/;

interface Spec {
  name: string;
  version: string;
  line: number;
}

/**
 * Reads a Bundler lockfile. Written by hand: the format is Bundler's own indentation-based
 * text (not YAML), and the only JavaScript readers on npm are unmaintained. Gems come from
 * the `specs:` of each source section; a `GIT` section's `revision` is their commit; a
 * platform suffix (`1.13.3-x86_64-linux`) is not part of the version, since RubyGems versions
 * cannot contain `-`. A spec line that is not `name (version)` is `E_MALFORMED`; sections
 * Bundler may add later are skipped.
 *
 * @example
 * ```ts
 * import { gemfileLock } from "./gemfile_lock.ts";
 * const text = "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.13.3-x86_64-linux)\n" +
 *   "      racc (~> 1.4)\n";
 * const [c] = gemfileLock.extract("Gemfile.lock", text);
 * console.assert(c.name === "nokogiri" && c.version === "1.13.3" && c.origin.line === 4);
 * ```
 */
export const gemfileLock = lockfile({
  name: "rubygems/gemfile-lock",
  ecosystem: "RubyGems",
  files: ["Gemfile.lock", "gems.locked"],
  sniff: (t) =>
    (t.match(/^(GEM|GIT|PATH|PLATFORMS|DEPENDENCIES|BUNDLED WITH|RUBY VERSION)$/gm) ?? [])
      .length >= 2,
  parse(path, text, add) {
    let section = "";
    let inSpecs = false;
    let revision = "";
    let specs: Spec[] = [];
    const flush = (): void => {
      for (const s of specs) {
        add({ name: s.name, version: s.version, line: s.line, commit: revision });
      }
      specs = [];
    };
    splitLines(text).forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === "") return;
      const indent = raw.length - raw.trimStart().length;
      if (indent === 0) {
        flush();
        section = raw.trim();
        inSpecs = false;
        revision = "";
        return;
      }
      if (!SOURCE_SECTIONS.has(section)) return;
      if (indent === 2) {
        const trimmed = raw.trim();
        inSpecs = trimmed === "specs:";
        if (trimmed.startsWith("revision:")) revision = trimmed.slice(9).trim();
        return;
      }
      if (!inSpecs || indent !== 4) return; // indent 6: a gem's own dependencies
      const m = SPEC.exec(raw);
      if (m === null) throw malformed(path, line, `Expected "name (version)", got "${raw.trim()}"`);
      const dash = m[2].indexOf("-");
      specs.push({ name: m[1], version: dash < 0 ? m[2] : m[2].slice(0, dash), line });
    });
    flush();
  },
});
