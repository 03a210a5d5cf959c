/**
 * Recognising a lockfile by its content when its name is not the standard one (a fixture
 * called `two-packages.json`, a lock kept as `deps.lock`). Only asked for when a scan of an
 * explicit directory opts in (`ironpost scan --dir` does): the walker then reads the head of
 * files whose extension a lockfile can have and that no extractor claimed by name.
 * Each extractor carries its own content test (`Extractor.sniff`); `requirements*.txt` has
 * none and is never guessed: any text file could pass for one.
 */
import type { Extractor } from "./extractor.ts";

/** Extensions (and name endings) of files worth opening to sniff. */
const CANDIDATE = /(\.(json|lock|ya?ml|toml|mod)|status)$/;
/** How much of a file is read to recognise it. */
export const SNIFF_BYTES = 64 * 1024;

/** Whether a file's name makes it worth sniffing at all (cheap, no I/O). */
export function sniffCandidate(path: string): boolean {
  return CANDIDATE.test(path);
}

/** The extractors whose format `head` looks like (usually one, or none). */
export function sniffExtractors(head: string, extractors: readonly Extractor[]): Extractor[] {
  // An empty file is every format and none: nothing to report.
  if (head.trim() === "") return [];
  const hit = extractors.filter((e) => e.sniff?.(head));
  return hit.length > 0 ? [hit[0]] : [];
}
