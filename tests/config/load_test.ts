import fc from "fast-check";
import {
  ConfigError,
  envName,
  formatDiagnostic,
  loadConfig,
  locateKeys,
  REFERENCE_MARKERS,
  renderConfigReference,
  renderShippedToml,
  SCHEMA,
} from "../../mod/config/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { ROOT } from "../helpers/agent.ts";
import { requireRoot } from "../helpers/require.ts";

async function tempConfig(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-cfg-" });
  const path = `${dir}/ironpost.toml`;
  await Deno.writeTextFile(path, text, { mode: 0o644 });
  return path;
}

const noEnv = () => undefined;

Deno.test("config precedence: cli > env > file > defaults", async (t) => {
  const path = await tempConfig(`[general]\nlog_level = "warn"\nshutdown_timeout_secs = 7\n`);

  await t.step("defaults fill what nothing sets", async () => {
    const { config, origins } = await loadConfig({ path, env: noEnv, uid: 0 });
    assertEquals(config.general.log_format, "json");
    assertEquals(config.channels.packet_capacity, 1024);
    assertEquals(config.channels.alert_capacity, 256);
    assertEquals(config.general.state_dir, "/var/lib/ironpost");
    assertEquals(config.general.pid_file, "/run/ironpost/ironpost.pid");
    assertEquals(origins["general.log_format"], "default");
  });

  await t.step("non-root defaults live under the user's state dir", async () => {
    const { config } = await loadConfig({ path, env: noEnv, uid: 1000, home: "/home/u" });
    assertEquals(config.general.state_dir, "/home/u/.local/state/ironpost");
    assertEquals(config.general.control_socket, "/home/u/.local/state/ironpost/ironpost.sock");
    assertEquals(config.storage.sqlite_path, "/home/u/.local/state/ironpost/ironpost.db");
  });

  await t.step("the file overrides defaults", async () => {
    const { config, origins } = await loadConfig({ path, env: noEnv, uid: 0 });
    assertEquals(config.general.log_level, "warn");
    assertEquals(config.general.shutdown_timeout_secs, 7);
    assertEquals(origins["general.log_level"], "file");
  });

  await t.step("the environment overrides the file (lists comma-separated)", async () => {
    const env: Record<string, string> = {
      IRONPOST_GENERAL_LOG_LEVEL: "debug",
      IRONPOST_EBPF_INTERFACE: "eth0, eth1",
      IRONPOST_LOG_PIPELINE_ENABLED: "true",
      IRONPOST_CHANNELS_PACKET_CAPACITY: "4096",
    };
    const { config, origins } = await loadConfig({ path, env: (n) => env[n], uid: 0 });
    assertEquals(config.general.log_level, "debug");
    assertEquals(config.ebpf.interface, ["eth0", "eth1"]);
    assertEquals(config.log_pipeline.enabled, true);
    assertEquals(config.channels.packet_capacity, 4096);
    assertEquals(origins["general.log_level"], "env");
  });

  await t.step("the command line overrides the environment", async () => {
    const env: Record<string, string> = { IRONPOST_GENERAL_LOG_LEVEL: "debug" };
    const { config, origins } = await loadConfig({
      path,
      env: (n) => env[n],
      uid: 0,
      cli: [{ key: "general.log_level", value: "error", flag: "--log-level" }],
    });
    assertEquals(config.general.log_level, "error");
    assertEquals(origins["general.log_level"], "cli");
  });

  await t.step("bad env and CLI values name their variable or flag", async () => {
    const env: Record<string, string> = { IRONPOST_GENERAL_SHUTDOWN_TIMEOUT_SECS: "soon" };
    const e = await assertRejects(loadConfig({
      path,
      env: (n) => env[n],
      uid: 0,
      cli: [{ key: "general.log_format", value: "xml", flag: "--log-format" }],
    }));
    assert(e instanceof ConfigError);
    assertEquals(e.diagnostics.map(formatDiagnostic), [
      'env:IRONPOST_GENERAL_SHUTDOWN_TIMEOUT_SECS: error: general.shutdown_timeout_secs: wrong type: got string "soon"; expected an integer from 1 to 300',
      '--log-format: error: general.log_format: "xml" is not a valid value; expected one of "json", "pretty"',
    ]);
  });

  await t.step("every key has an env name", () => {
    assertEquals(envName("log_pipeline", "file_paths"), "IRONPOST_LOG_PIPELINE_FILE_PATHS");
  });
});

Deno.test("config paths", async (t) => {
  await t.step("relative paths resolve against the config file's directory", async () => {
    const path = await tempConfig(`[general]\nstate_dir = "state"\n`);
    const { config } = await loadConfig({ path, env: noEnv, uid: 0 });
    assertEquals(config.general.state_dir, path.replace("ironpost.toml", "state"));
  });

  await t.step("a missing config file names the path and what to pass", async () => {
    const e = await assertRejects(loadConfig({ path: "/nonexistent/ironpost.toml", env: noEnv }));
    assert(e instanceof ConfigError);
    assertMatch(
      formatDiagnostic(e.diagnostics[0]),
      /^\/nonexistent\/ironpost\.toml: error: \(config file\): the config file does not exist; expected the path of a TOML config/,
    );
  });

  await t.step("paths of built modules must exist; others warn that they do not run", async () => {
    const path = await tempConfig(
      `[log_pipeline]\nenabled = true\nrules_dir = "/nonexistent/rules"\n`,
    );
    const ok = await loadConfig({ path, env: noEnv, uid: 0, builtModules: new Set() });
    assertEquals(ok.warnings.map((w) => w.code), ["W_MODULE_NOT_BUILT"]);
    const e = await assertRejects(
      loadConfig({ path, env: noEnv, uid: 0, builtModules: new Set(["log_pipeline"]) }),
    );
    assert(e instanceof ConfigError);
    assertEquals(
      formatDiagnostic(e.diagnostics[0]),
      `${path}:3:13: error: log_pipeline.rules_dir: /nonexistent/rules does not exist; expected the path of an existing dir`,
    );
  });

  await t.step("a rules dir writable by others is refused, naming the path and mode", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.chmod(dir, 0o777);
    const path = await tempConfig(`[log_pipeline]\nrules_dir = "${dir}"\n`);
    const e = await assertRejects(loadConfig({ path, env: noEnv, uid: 0 }));
    assert(e instanceof ConfigError);
    assertEquals(
      formatDiagnostic(e.diagnostics[0]),
      `${path}:2:13: error: log_pipeline.rules_dir: ${dir} is writable by group and others (mode 0777); expected owned by root and not writable by group or others (chown root ${dir}; chmod go-w ${dir})`,
    );
  });

  await t.step("a config owned by another user is refused when running as root", async () => {
    const path = await tempConfig(`[general]\n`);
    if (!requireRoot()) return; // chown to another user needs root
    await Deno.chown(path, 1000, 1000);
    const e = await assertRejects(loadConfig({ path, env: noEnv, uid: 0 }));
    assert(e instanceof ConfigError);
    assertEquals(e.diagnostics[0].code, "E_UNSAFE_PERMISSIONS");
    assertMatch(e.diagnostics[0].message, /is owned by uid 1000, not root/);
  });
});

Deno.test("the shipped config documents every key with a comment", async () => {
  const text = await Deno.readTextFile(`${ROOT}config/ironpost.toml`);
  for (const [section, spec] of Object.entries(SCHEMA)) {
    assert(text.includes(`[${section}]`), `section [${section}] missing`);
    for (const key of Object.keys(spec.keys)) {
      const line = text.split("\n").find((l) => new RegExp(`^#? ?${key} = .*# .+`).test(l));
      assert(line, `key ${section}.${key} missing or without a comment`);
    }
  }
  const { warnings } = await loadConfig({ path: `${ROOT}config/ironpost.toml`, env: noEnv });
  assertEquals(warnings, []);
});

Deno.test("the shipped config is exactly what the capability specs generate", async () => {
  const text = await Deno.readTextFile(`${ROOT}config/ironpost.toml`);
  assertEquals(
    text,
    renderShippedToml(),
    "config/ironpost.toml and the specs disagree: run deno task config:toml and commit it",
  );
});

Deno.test("the README's config reference is what the specs generate", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  // deno fmt aligns the tables; compare cell by cell.
  const cells = (text: string) =>
    text.split("\n").map((l) => l.replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---").trim())
      .filter((l) => l !== "");
  const [start, end] = REFERENCE_MARKERS;
  const committed = readme.slice(readme.indexOf(start) + start.length, readme.indexOf(end));
  assertEquals(
    cells(committed),
    cells(renderConfigReference()),
    "README.md's config reference and the specs disagree: run deno task config:toml",
  );
});

Deno.test("the documented server example validates with the filter enabled", async () => {
  const { config, warnings } = await loadConfig({
    path: `${ROOT}config/examples/server.toml`,
    env: noEnv,
    uid: 0,
    builtModules: new Set(["ebpf"]),
  });
  assertEquals(warnings, []);
  assertEquals([config.ebpf.enabled, config.ebpf.interface, config.ebpf.mode], [
    true,
    ["eth0"],
    "xdp",
  ]);
});

Deno.test("TOML key positions", async (t) => {
  await t.step("keys, dotted keys, quoted keys and multi-line values", () => {
    const pos = locateKeys(
      [
        "# comment",
        "[general]",
        '  log_level = "info"',
        'a.b = """multi',
        'line = "not a key"',
        '"""',
        "list = [",
        '  "x = 1",',
        "]",
        "[ebpf]",
        '"mode" = "xdp"',
      ].join("\n"),
    );
    assertEquals(pos.get("general")?.line, 2);
    assertEquals(pos.get("general.log_level"), { line: 3, col: 3, valueLine: 3, valueCol: 15 });
    assertEquals(pos.get("general.a.b")?.line, 4);
    assertEquals(pos.has("general.line"), false);
    assertEquals(pos.get("general.list")?.line, 7);
    assertEquals(pos.get("ebpf.mode")?.col, 1);
  });
});

Deno.test("property: arbitrary config text yields a config or a ConfigError, never a crash", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/fuzz.toml`;
  const keyLines = Object.entries(SCHEMA).flatMap(([s, spec]) =>
    Object.keys(spec.keys).map((k) => [s, k] as const)
  );
  const value = fc.oneof(
    fc.string().map((s) => JSON.stringify(s)),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => d.toString()),
    fc.boolean().map(String),
    fc.array(fc.string(), { maxLength: 3 }).map((a) => JSON.stringify(a)),
    fc.string(),
  );
  const doc = fc.array(
    fc.tuple(fc.constantFrom(...keyLines), value),
    { maxLength: 8 },
  ).map((entries) => entries.map(([[s, k], v]) => `[${s}]\n${k} = ${v}`).join("\n"));
  await fc.assert(
    fc.asyncProperty(fc.oneof(doc, fc.string()), async (text) => {
      await Deno.writeTextFile(path, text, { mode: 0o644 });
      try {
        await loadConfig({ path, env: noEnv, uid: 0 });
      } catch (e) {
        assert(e instanceof ConfigError, `unexpected ${e}`);
        for (const d of e.diagnostics) {
          assert(d.message.length > 0 && d.expected.length > 0);
          if (d.line !== undefined) assert(d.line >= 1 && (d.col ?? 1) >= 1);
        }
      }
    }),
    { numRuns: 300 },
  );
});
