/**
 * `deno task compile` (tools/compile.ts) and the embedded assets (mod/core/assets.ts).
 * `deno compile` cannot download its runtime here, so the command is checked through
 * `--print`, and the profile's flags are exercised with `deno run` (the same flags).
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { ROOT } from "../helpers/agent.ts";
import { loadConfig } from "../../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../../mod/daemon/mod.ts";
import { assetDir, assetPath, assetRoot, EMBEDDED_ASSETS } from "../../mod/core/assets.ts";
import { XDP_OBJECT_PATH } from "../../mod/ebpf/object_path.ts";
import { SENSORS_OBJECT_PATH } from "../../mod/sensors/object_path.ts";

const PROFILES = ["server", "ci", "minimal"] as const;
const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;
const EXEC = "/usr/local/bin/ironpost";
const INSTALLED = "/etc/ironpost/ironpost.toml";

async function compileTask(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "compile", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout).trim(), stderr: dec.decode(out.stderr) };
}

/** A profile as the installed agent reads it (root, no build-machine overrides). */
function loadProfile(profile: string) {
  return loadConfig({
    path: `${ROOT}config/profiles/${profile}.toml`,
    builtModules: builtSections(),
    uid: 0,
    home: "/root",
    env: () => undefined,
  });
}

/** A profile's flags as the installed agent gets them. */
async function profileFlags(profile: string): Promise<string[]> {
  return agentPermissions(await loadProfile(profile), EXEC, INSTALLED, undefined, "");
}

/** The flags of a printed `deno compile` command: everything before the first --include. */
function printedFlags(words: string[]): string[] {
  return words.slice(2, words.indexOf("--include"));
}

Deno.test("the deployment profiles are valid configs", async () => {
  for (const p of PROFILES) {
    const c = (await loadProfile(p)).config;
    if (p === "server") {
      assert(c.sensors.enabled && c.log_pipeline.enabled && c.container.enabled);
      assert(!c.ebpf.enabled && !c.sbom.enabled);
      assert(c.log_pipeline.journald);
      assert(c.log_pipeline.file_paths.includes("/var/log/auth.log"));
      assertEquals(c.log_pipeline.rules_dir, assetDir("rules"));
      assertEquals(c.container.policy_dir, assetDir("config/policies"));
      assertEquals(c.storage.sqlite_path, "/var/lib/ironpost/ironpost.db");
    } else {
      for (const s of ["ebpf", "sensors", "log_pipeline", "container", "sbom"] as const) {
        assert(!c[s].enabled, `${p}: ${s} enabled`);
      }
    }
  }
});

for (const profile of PROFILES) {
  for (const target of TARGETS) {
    Deno.test(`compile --profile ${profile} --target ${target} --print`, async () => {
      const r = await compileTask(["--profile", profile, "--target", target, "--print"]);
      assertEquals(r.code, 0, r.stderr);
      const words = r.stdout.split(" ");
      assertEquals(words.slice(0, 2), ["deno", "compile"]);
      assertEquals(printedFlags(words), await profileFlags(profile));
      assert(!words.includes("-A") && !words.includes("--allow-all"), r.stdout);
      assert(words.some((w) => w.startsWith("--v8-flags=")), "V8 flags");
      for (const a of EMBEDDED_ASSETS) {
        const i = words.indexOf(`${ROOT}${a}`);
        assert(i > 0 && words[i - 1] === "--include", `${a} not included:\n${r.stdout}`);
      }
      assertEquals(words[words.indexOf("--target") + 1], target);
      assertEquals(words.slice(-3), ["--output", "dist/ironpost", `${ROOT}main.ts`]);
    });
  }
}

Deno.test("compile keeps --config, --installed-config, --exec, --output; honours DENORT_BIN", async () => {
  const r = await compileTask(
    [
      "--config",
      "config/profiles/minimal.toml",
      "--installed-config",
      "/opt/ip/ip.toml",
      "--exec",
      "/opt/ip/ironpost",
      "--output",
      "/tmp/ip-out",
      "--print",
    ],
    { DENORT_BIN: "/opt/denort" },
  );
  assertEquals(r.code, 0, r.stderr);
  const words = r.stdout.split(" ");
  assertEquals(words.slice(0, 3), ["DENORT_BIN=/opt/denort", "deno", "compile"]);
  const loaded = await loadConfig({
    path: `${ROOT}config/profiles/minimal.toml`,
    builtModules: builtSections(),
  });
  assertEquals(
    words.slice(3, words.indexOf("--include")),
    agentPermissions(loaded, "/opt/ip/ironpost", "/opt/ip/ip.toml"),
  );
  assert(!words.includes("--target"));
  assertEquals(words.slice(-3), ["--output", "/tmp/ip-out", `${ROOT}main.ts`]);
});

Deno.test("compile refuses an unknown profile or target, and --profile with --config", async () => {
  for (
    const args of [
      ["--profile", "desktop", "--print"],
      ["--profile", "server", "--target", "x86_64-pc-windows-msvc", "--print"],
      ["--profile", "server", "--config", "config/ironpost.toml", "--print"],
    ]
  ) {
    const r = await compileTask(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assertMatch(r.stderr, /compile: /);
  }
});

Deno.test("assets: every embedded asset exists; paths outside them are refused", async () => {
  assertEquals(assetRoot(), ROOT.replace(/\/$/, ""));
  for (const a of EMBEDDED_ASSETS) {
    const st = await Deno.stat(assetPath(a));
    assertEquals(st.isDirectory, a.endsWith("/"), a);
  }
  assertEquals(assetPath("bpf/sensors.bpf.o"), `${ROOT}bpf/sensors.bpf.o`);
  assertEquals(assetDir("rules/"), `${ROOT}rules`);
  assertEquals(assetPath("rules/ssh_brute_force.yml"), `${ROOT}rules/ssh_brute_force.yml`);
  assertEquals(SENSORS_OBJECT_PATH, assetPath("bpf/sensors.bpf.o"));
  assertEquals(XDP_OBJECT_PATH, assetPath("bpf/xdp_filter.bpf.o"));
  for (const bad of ["bpf/sensors.bpf.c", "main.ts", "rules/../main.ts", "/etc/passwd", ""]) {
    let threw = false;
    try {
      assetPath(bad);
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, `assetPath("${bad}") was accepted`);
  }
});

Deno.test("the server profile's flags deny a read and a connect outside the agent's scope", async () => {
  const flags = await profileFlags("server");
  const dir = await Deno.makeTempDir({ prefix: "ironpost-probe-" });
  try {
    const probe = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `const out: Record<string, string> = {};
async function attempt(name: string, fn: () => Promise<unknown>) {
  try {
    await fn();
    out[name] = "allowed";
  } catch (e) {
    out[name] = (e as Error).name;
  }
}
await attempt("granted", () => Deno.readTextFile("/etc/passwd"));
await attempt("shadow", () => Deno.readTextFile("/etc/shadow"));
await attempt("root", () => Deno.readTextFile("/root/x"));
await attempt("connect", async () => (await Deno.connect({ hostname: "127.0.0.1", port: 9 })).close());
await attempt("listen", async () => Deno.listen({ hostname: "127.0.0.1", port: 0 }).close());
console.log(JSON.stringify(out));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, probe],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, stderr);
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      granted: "allowed",
      shadow: "NotCapable",
      root: "NotCapable",
      connect: "NotCapable",
      listen: "NotCapable",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
