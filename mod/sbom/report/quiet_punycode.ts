/**
 * Loads Node's built-in `punycode` module once with deprecation warnings muted, so that
 * importing the CycloneDX library does not print `[DEP0040] DeprecationWarning` on every
 * start of the agent.
 *
 * Why: with ajv resolvable (see validate.ts), `@cyclonedx/cyclonedx-library` probes its
 * optional JSON validator as soon as it is imported, which loads ajv-formats-draft2019,
 * which `require`s `punycode`; Deno, like Node 21+, warns on that module's first load. A
 * module is loaded once, so loading it here first leaves nothing to warn about later. Other
 * deprecation warnings are untouched: the flag is restored at once.
 *
 * Import this module before `@cyclonedx/cyclonedx-library`, for its side effect only.
 */
import { createRequire } from "node:module";
import process from "node:process";

// Node documents `process.noDeprecation`; @types/node leaves it out.
const proc = process as typeof process & { noDeprecation?: boolean };
const previous = proc.noDeprecation;
proc.noDeprecation = true;
try {
  createRequire(import.meta.url)("punycode");
} finally {
  proc.noDeprecation = previous;
}
