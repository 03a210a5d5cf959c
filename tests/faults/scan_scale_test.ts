/**
 * Issue 16, item 8: `ironpost scan` of one lockfile of 40,000 packages finishes in under 5 s.
 * It used to grow quadratically (5k: 1.8 s, 40k: 78.7 s): line numbers of JSON lockfile
 * entries were found by searching forward for `"key": {`, and in a minified file every
 * search missed and read the rest of the text again. Each lockfile here is generated, then
 * scanned by the real CLI (`main.ts scan --dir … --db …`) against the tests' OSV index; a
 * scan still running at the hard deadline is killed and fails the test.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { buildTestDb } from "../sbom/sbom_fixtures.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const N = 40_000;
const BUDGET_MS = 5_000;
/** A scan not done by then is killed: the quadratic one took over a minute. */
const HARD_DEADLINE_MS = 30_000;

const version = (i: number) => `1.${i % 50}.${i % 7}`;
const npmName = (i: number) => i % 3 === 0 ? `@scope${i % 100}/p-${i}` : `pkg-${i}`;

/** A package-lock.json v3 of `n` packages (a third scoped, a fifth nested), a few vulnerable. */
function npmLock(n: number, indent: number | undefined): string {
  const deps: Record<string, string> = {};
  const packages: Record<string, unknown> = { "": { name: "app", version: "1.0.0" } };
  for (let i = 0; i < n; i++) {
    const name = npmName(i);
    const nested = i % 5 === 0 && i > 0 ? `node_modules/pkg-${i - 1}/` : "";
    if (!nested) deps[name] = version(i);
    packages[`${nested}node_modules/${name}`] = {
      version: version(i),
      resolved: `https://registry.npmjs.org/${name}/-/p-${version(i)}.tgz`,
      integrity: "sha512-AAAA",
      ...(i % 4 === 0 ? { dev: true } : {}),
    };
  }
  // One vulnerable package, so matching and reporting have a finding to carry.
  packages["node_modules/lodash"] = { version: "4.17.20" };
  (packages[""] as Record<string, unknown>).dependencies = deps;
  return JSON.stringify(
    { name: "app", version: "1.0.0", lockfileVersion: 3, packages },
    null,
    indent,
  );
}

function composerLock(n: number): string {
  const packages = Array.from({ length: n }, (_, i) => ({
    name: `vendor${i % 100}/p-${i}`,
    version: version(i),
    source: { type: "git", url: `https://example.com/p-${i}.git`, reference: "" },
  }));
  return JSON.stringify({ "content-hash": "x", packages, "packages-dev": [] });
}

function pipfileLock(n: number): string {
  const def: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) def[`p-${i}`] = { version: `==${version(i)}`, hashes: [] };
  return JSON.stringify({ _meta: { "pipfile-spec": 6 }, default: def, develop: {} });
}

function yarnLock(n: number): string {
  const out = ["# yarn lockfile v1", ""];
  for (let i = 0; i < n; i++) {
    const name = npmName(i);
    out.push(
      `"${name}@^${version(i)}":`,
      `  version "${version(i)}"`,
      `  resolved "https://registry.yarnpkg.com/${name}/-/p-${version(i)}.tgz"`,
      "",
    );
  }
  return out.join("\n");
}

function cargoLock(n: number): string {
  const out = ["version = 3", ""];
  for (let i = 0; i < n; i++) {
    out.push("[[package]]", `name = "p-${i}"`, `version = "${version(i)}"`, "");
  }
  return out.join("\n");
}

function pnpmLock(n: number): string {
  const out = ["lockfileVersion: '6.0'", "", "packages:", ""];
  for (let i = 0; i < n; i++) {
    out.push(`  /${npmName(i)}@${version(i)}:`, "    resolution: {integrity: sha512-AAAA}", "");
  }
  return out.join("\n");
}

const CASES: { name: string; file: string; text: () => string; components: number }[] = [
  {
    name: "package-lock.json, minified",
    file: "package-lock.json",
    text: () => npmLock(N, undefined),
    components: N + 1,
  },
  {
    name: "package-lock.json, indented",
    file: "package-lock.json",
    text: () => npmLock(N, 2),
    components: N + 1,
  },
  {
    name: "composer.lock, minified",
    file: "composer.lock",
    text: () => composerLock(N),
    components: N,
  },
  {
    name: "Pipfile.lock, minified",
    file: "Pipfile.lock",
    text: () => pipfileLock(N),
    components: N,
  },
  { name: "yarn.lock v1", file: "yarn.lock", text: () => yarnLock(N), components: N },
  { name: "Cargo.lock", file: "Cargo.lock", text: () => cargoLock(N), components: N },
  { name: "pnpm-lock.yaml v6", file: "pnpm-lock.yaml", text: () => pnpmLock(N), components: N },
];

/** Runs the CLI's JSON scan of `dir`; its wall time, or a failure past the hard deadline. */
async function timedScan(dir: string, db: string): Promise<{ ms: number; json: string }> {
  const out = `${dir}.json`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "scan",
      "--dir",
      dir,
      "--db",
      db,
      "--format",
      "json",
      "--fail-on",
      "never",
      "--output",
      out,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const started = performance.now();
  const timer = setTimeout(() => child.kill("SIGKILL"), HARD_DEADLINE_MS);
  try {
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    const ms = performance.now() - started;
    assert(ms < HARD_DEADLINE_MS, `scan of ${dir} killed after ${HARD_DEADLINE_MS} ms`);
    assertEquals(status.code, 0, `scan of ${dir} exited ${status.code}: ${stderr}`);
    return { ms, json: await Deno.readTextFile(out) };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("ironpost scan: one lockfile of 40,000 packages in under 5 s, per format", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "ironpost-scan-scale-" });
  try {
    const db = await buildTestDb(tmp);
    // Warm Deno's module cache, so the first case does not pay for type checking.
    await timedScan(await Deno.makeTempDir({ dir: tmp }), db);
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const dir = await Deno.makeTempDir({ dir: tmp });
        await Deno.writeTextFile(`${dir}/${c.file}`, c.text());
        const { ms, json } = await timedScan(dir, db);
        const result = JSON.parse(json);
        console.log(`  ${c.name}: ${N} packages in ${ms.toFixed(0)} ms`);
        assertEquals(result.components.length, c.components);
        assert(ms < BUDGET_MS, `${c.name}: ${ms.toFixed(0)} ms, budget ${BUDGET_MS} ms`);
        if (c.file === "package-lock.json") {
          assertEquals(result.findings.map((f: { id: string }) => f.id), ["GHSA-35jh-r3h4-6jhm"]);
        }
      });
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
