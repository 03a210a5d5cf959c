/**
 * Lockfiles under other names are recognised by content (mod/sbom/inventory/sniff.ts):
 * osv-scanner's fixtures carry test names, and each must be taken for its own format.
 */
import { EXTRACTORS } from "../../mod/sbom/inventory/mod.ts";
import { sniffCandidate, sniffExtractors } from "../../mod/sbom/inventory/sniff.ts";
import { assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const FIXTURES = new URL("../../../shared/data/lockfiles/osv-scanner/fixtures/", import.meta.url);

/** Fixture folder → the extractor its well-formed files are. */
const EXPECTED: Record<string, string> = {
  npm: "npm/package-lock",
  yarn: "npm/yarn-lock",
  pnpm: "npm/pnpm-lock",
  cargo: "crates.io/cargo-lock",
  composer: "packagist/composer-lock",
  pipenv: "pypi/pipfile-lock",
  poetry: "pypi/poetry-lock",
  go: "go/go-mod",
  bundler: "rubygems/gemfile-lock",
  dpkg: "debian/dpkg-status",
};

Deno.test("lockfiles under test names are recognised by content", async (t) => {
  let present = true;
  try {
    await Deno.stat(FIXTURES);
  } catch {
    present = false;
  }
  if (!requirePart("../shared/data (osv-scanner fixtures)", present)) return;
  for (const [dir, expected] of Object.entries(EXPECTED)) {
    await t.step(dir, async () => {
      for await (const f of Deno.readDir(new URL(`${dir}/`, FIXTURES))) {
        if (!f.isFile || !sniffCandidate(f.name) || /^not[-_]|empty|malformed/.test(f.name)) {
          continue;
        }
        const text = await Deno.readTextFile(new URL(`${dir}/${f.name}`, FIXTURES));
        const got = sniffExtractors(text, EXTRACTORS).map((e) => e.name);
        assertEquals(got, [expected], `${dir}/${f.name}`);
      }
    });
  }
  await t.step("plain text and empty files are nobody's", () => {
    assertEquals(sniffExtractors("", EXTRACTORS), []);
    assertEquals(sniffExtractors("hello\nworld\n", EXTRACTORS), []);
    assertEquals(sniffCandidate("notes.txt"), false);
  });
});
