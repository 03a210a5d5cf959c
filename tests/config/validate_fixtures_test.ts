/**
 * `ironpost --validate` against every broken config in tests/fixtures/config/broken/: each
 * `NAME.toml` must be refused (exit 1) with exactly the diagnostics of `NAME.expected`, where
 * `{file}` stands for the fixture's absolute path. The agent runs with the permission flags
 * derived from a valid config plus read access to the fixtures, as users run it.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { FIXTURES, ROOT, runAgent } from "../helpers/agent.ts";
import { requireRoot } from "../helpers/require.ts";

const CONFIG_FIXTURES = join(FIXTURES, "config");
const BROKEN = join(CONFIG_FIXTURES, "broken");
const MINIMAL = join(CONFIG_FIXTURES, "valid", "minimal.toml");
const ORIGINAL = join(CONFIG_FIXTURES, "valid", "original.toml");
const SHIPPED = join(ROOT, "config", "ironpost.toml");

/** Flags derived from a valid config, plus read access to the fixtures. */
const FIXTURE_OPTS = {
  flagsFrom: MINIMAL,
  extraFlags: [`--allow-read=${CONFIG_FIXTURES}`],
};

/** Fixtures whose `--format json` output is checked too, with their diagnostic codes. */
const JSON_CODES: Record<string, string[]> = {
  many_errors: [
    "E_ENUM",
    "E_UNKNOWN_KEY",
    "E_RANGE",
    "E_TYPE",
    "E_CIDR",
    "E_UNKNOWN_SECTION",
    "E_ADDR",
    "E_RANGE",
    "E_URL",
  ],
  url_no_host: ["E_URL"],
  section_scalar: ["E_TYPE"],
  toml_missing_value: ["E_TOML_SYNTAX"],
};

interface JsonDiagnostic {
  severity: string;
  code: string;
  file: string;
  line: number;
  col: number;
  key: string;
  message: string;
  expected: string;
}

interface JsonReport {
  valid: boolean;
  file: string;
  errors: number;
  diagnostics: JsonDiagnostic[];
}

/** Non-empty lines of a text. */
function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

function summary(errors: number): string {
  return `${errors} error(s); the config was not accepted`;
}

/** The broken fixtures, sorted by name. */
async function brokenFixtures(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(BROKEN)) {
    if (e.isFile && e.name.endsWith(".toml")) names.push(e.name.slice(0, -".toml".length));
  }
  return names.sort();
}

/**
 * A fixture writable by group or others gets an extra E_UNSAFE_PERMISSIONS diagnostic, and
 * git does not keep modes: a checkout under umask 002 makes files 0664. Drop those bits.
 */
async function ensureSafeMode(path: string): Promise<void> {
  const mode = (await Deno.stat(path)).mode ?? 0;
  if (mode & 0o022) await Deno.chmod(path, mode & 0o755);
}

Deno.test("--validate reports the exact diagnostics of each broken config fixture", async (t) => {
  const names = await brokenFixtures();
  assert(names.length >= 20, `expected at least 20 broken fixtures, found ${names.length}`);
  for await (const e of Deno.readDir(BROKEN)) {
    if (!e.name.endsWith(".expected")) continue;
    const name = e.name.slice(0, -".expected".length);
    assert(names.includes(name), `${e.name} has no ${name}.toml`);
  }
  for (const name of Object.keys(JSON_CODES)) {
    assert(names.includes(name), `JSON fixture ${name}.toml is missing`);
  }

  for (const name of names) {
    await t.step(name, async () => {
      const file = join(BROKEN, `${name}.toml`);
      await ensureSafeMode(file);
      const expected = lines(
        (await Deno.readTextFile(join(BROKEN, `${name}.expected`))).replaceAll("{file}", file),
      );
      assert(expected.length > 0, `${name}.expected lists no diagnostics`);

      const r = await runAgent(["--validate", "--config", file], FIXTURE_OPTS);
      assertEquals(r.code, 1, `exit code; stderr:\n${r.stderr}`);
      assertEquals(r.stdout, "");
      assertEquals(lines(r.stderr), [...expected, summary(expected.length)]);

      const codes = JSON_CODES[name];
      if (!codes) return;
      const j = await runAgent(["--validate", "--format", "json", "--config", file], FIXTURE_OPTS);
      assertEquals(j.code, 1, `exit code (json); stderr:\n${j.stderr}`);
      assertEquals(j.stderr, "");
      const report = JSON.parse(j.stdout) as JsonReport;
      assertEquals(report.valid, false);
      assertEquals(report.file, file);
      assertEquals(report.errors, expected.length);
      assertEquals(report.diagnostics.map((d) => d.code), codes);
      assertEquals(
        report.diagnostics.map((d) =>
          `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.key}: ${d.message}; expected ${d.expected}`
        ),
        expected,
      );
    });
  }
});

Deno.test("--validate refuses a config file writable by group and others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-validate-" });
  try {
    const file = join(dir, "ironpost.toml");
    await Deno.copyFile(MINIMAL, file);
    await Deno.chmod(file, 0o644);
    const opts = { flagsFrom: MINIMAL, extraFlags: [`--allow-read=${dir}`] };

    // The copy is valid as long as its mode is safe...
    const safe = await runAgent(["--validate", "--config", file], opts);
    assertEquals(safe.code, 0, `stderr:\n${safe.stderr}`);
    assertEquals(lines(safe.stdout), [`${file}: config is valid`]);

    // ...and refused once anyone may write it.
    await Deno.chmod(file, 0o666);
    const r = await runAgent(["--validate", "--config", file], opts);
    assertEquals(r.code, 1, `stderr:\n${r.stderr}`);
    assertEquals(lines(r.stderr), [
      `${file}:1:1: error: (config file): ${file} is writable by group and others (mode 0666); ` +
      `expected owned by root and not writable by group or others ` +
      `(chown root ${file}; chmod go-w ${file})`,
      summary(1),
    ]);

    const j = await runAgent(["--validate", "--format", "json", "--config", file], opts);
    assertEquals(j.code, 1);
    const report = JSON.parse(j.stdout) as JsonReport;
    assertEquals(report.valid, false);
    assertEquals(report.errors, 1);
    assertEquals(report.diagnostics.map((d) => [d.code, d.key, d.line, d.col]), [
      ["E_UNSAFE_PERMISSIONS", "(config file)", 1, 1],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--validate accepts the shipped config", async () => {
  const r = await runAgent(["--validate", "--config", SHIPPED], { flagsFrom: SHIPPED });
  assertEquals(r.code, 0, `stderr:\n${r.stderr}`);
  assertEquals(r.stderr, "");
  assertEquals(lines(r.stdout), [`${SHIPPED}: config is valid`]);
});

/**
 * Make the directories an installed Ironpost has (what install.sh creates), for the time of
 * `fn`, removing only those this created. The original config names them.
 */
async function withInstallDirs(dirs: string[], fn: () => Promise<void>): Promise<void> {
  const created: string[] = [];
  for (const d of dirs) {
    try {
      await Deno.stat(d);
    } catch {
      await Deno.mkdir(d, { recursive: true, mode: 0o755 });
      await Deno.chmod(d, 0o755);
      created.push(d);
    }
  }
  try {
    await fn();
  } finally {
    for (const d of created.reverse()) await Deno.remove(d).catch(() => {});
    await Deno.remove("/etc/ironpost").catch(() => {}); // only if now empty
  }
}

Deno.test("--validate accepts the original design's config unchanged (warnings allowed)", async () => {
  // The log pipeline is built, so its rules_dir must exist, as on an installed host.
  if (!requireRoot()) return;
  await withInstallDirs(["/etc/ironpost/rules", "/etc/ironpost/policies"], async () => {
    const r = await runAgent(["--validate", "--config", ORIGINAL], { flagsFrom: ORIGINAL });
    assertEquals(r.code, 0, `stderr:\n${r.stderr}`);
    const warnings = lines(r.stderr);
    for (const w of warnings) assert(w.startsWith(`${ORIGINAL}:`) && w.includes(": warning: "), w);
    const suffix = warnings.length ? ` (${warnings.length} warning(s))` : "";
    assertEquals(lines(r.stdout), [`${ORIGINAL}: config is valid${suffix}`]);
  });
});
