/**
 * Recognising a lockfile by its content when its name is not the standard one (a fixture
 * called `two-packages.json`, a lock kept as `deps.lock`). Only asked for when a scan of an
 * explicit directory opts in (`ironpost scan --dir` does): the walker then reads the head of
 * files whose extension a lockfile can have and that no extractor claimed by name.
 * `requirements*.txt` is never guessed: any text file could pass for one.
 */
import type { Extractor } from "./extractor.ts";

/** Extensions (and name endings) of files worth opening to sniff. */
const CANDIDATE = /(\.(json|lock|ya?ml|toml|mod)|status)$/;
/** How much of a file is read to recognise it. */
export const SNIFF_BYTES = 64 * 1024;

const poetry = (t: string) =>
  /^\[\[package\]\]/m.test(t) &&
  (/^python-versions\s*=/m.test(t) || (/^\[metadata\]/m.test(t) && /content-hash/.test(t)));
const uv = (t: string) =>
  /^\[\[package\]\]/m.test(t) && /^requires-python\s*=/m.test(t) && /^version\s*=\s*\d/m.test(t);

/** Content tests by extractor name: true when `head` is that format's file. */
const SIGNATURES: Record<string, (head: string) => boolean> = {
  "npm/package-lock": (t) =>
    /"lockfileVersion"\s*:/.test(t) && /"(dependencies|packages)"\s*:/.test(t) &&
    !/"content-hash"/.test(t),
  "packagist/composer-lock": (t) =>
    /"content-hash"\s*:/.test(t) || (/"packages"\s*:/.test(t) && /"packages-dev"\s*:/.test(t)),
  "pypi/pipfile-lock": (t) =>
    /"pipfile-spec"/.test(t) || (/"default"\s*:/.test(t) && /"develop"\s*:/.test(t)),
  "npm/pnpm-lock": (t) => /^lockfileVersion:/m.test(t),
  "npm/yarn-lock": (t) =>
    /^# yarn lockfile v1/m.test(t) || /^__metadata:/m.test(t) ||
    (/^ {2}version "?\d/m.test(t) && /^ {2}resolved /m.test(t)),
  "pypi/poetry-lock": poetry,
  "pypi/uv-lock": (t) => uv(t) && !poetry(t),
  "crates.io/cargo-lock": (t) => /^\[\[package\]\]/m.test(t) && !poetry(t) && !uv(t),
  "go/go-mod": (t) =>
    (/^module\s+\S+/m.test(t) && (/^go\s+\d/m.test(t) || /^require\b/m.test(t))) ||
    /^require\s*\(\s*\n\s+\S+\s+v\d/m.test(t) || /^require\s+\S+\s+v\d/m.test(t),
  "rubygems/gemfile-lock": (t) =>
    (t.match(/^(GEM|GIT|PATH|PLATFORMS|DEPENDENCIES|BUNDLED WITH|RUBY VERSION)$/gm) ?? [])
      .length >= 2,
  "debian/dpkg-status": (t) => /^Package: /m.test(t) && /^Status: /m.test(t),
};

/** Whether a file's name makes it worth sniffing at all (cheap, no I/O). */
export function sniffCandidate(path: string): boolean {
  return CANDIDATE.test(path);
}

/** The extractors whose format `head` looks like (usually one, or none). */
export function sniffExtractors(head: string, extractors: readonly Extractor[]): Extractor[] {
  // An empty file is every format and none: nothing to report.
  if (head.trim() === "") return [];
  const hit = extractors.filter((e) => SIGNATURES[e.name]?.(head));
  return hit.length > 0 ? [hit[0]] : [];
}
