/**
 * The systemd unit: `systemd-analyze verify` clean, `systemd-analyze security --offline=yes`
 * exposure at most 2.5, its SystemCallFilter= run for real (the agent under the same seccomp
 * allow list, through libseccomp), `ironpost install-unit` equal to the template, and the
 * shipped config/ironpost.service equal to it too.
 */
import { fileURLToPath } from "node:url";
import { DEFAULT_EXEC, DEFAULT_UNIT_CONFIG, renderUnit } from "../../mod/daemon/unit.ts";
import { readPid } from "../../mod/daemon/mod.ts";
import {
  agentFlags,
  MAIN,
  ROOT,
  runAgent,
  tempAgentConfig,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const SECCOMP_EXEC = fileURLToPath(new URL("./seccomp_exec.ts", import.meta.url));

async function sh(cmd: string, args: string[]) {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

async function hasSystemdAnalyze(): Promise<boolean> {
  try {
    return (await sh("systemd-analyze", ["--version"])).code === 0;
  } catch {
    return false;
  }
}

/** A temp dir with the unit rendered for a stand-in executable and config that exist. */
async function unitWithStandIns(): Promise<{ dir: string; unit: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-unit-" });
  await Deno.copyFile("/bin/true", `${dir}/ironpost`);
  await Deno.chmod(`${dir}/ironpost`, 0o755);
  await Deno.writeTextFile(`${dir}/ironpost.toml`, "");
  const unit = `${dir}/ironpost.service`;
  await Deno.writeTextFile(
    unit,
    renderUnit({ exec: `${dir}/ironpost`, config: `${dir}/ironpost.toml` }),
  );
  return { dir, unit };
}

Deno.test("unit: systemd-analyze verify is clean", async () => {
  if (!requirePart("systemd-analyze", await hasSystemdAnalyze())) return;
  const { dir, unit } = await unitWithStandIns();
  try {
    const r = await sh("systemd-analyze", ["verify", unit]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stderr.trim(), "", "no warnings");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unit: systemd-analyze security --offline=yes exposure is at most 2.5", async () => {
  if (!requirePart("systemd-analyze", await hasSystemdAnalyze())) return;
  const shipped = `${ROOT}config/ironpost.service`;
  const r = await sh("systemd-analyze", ["security", "--offline=yes", shipped]);
  assertEquals(r.code, 0, r.stderr);
  const m = r.stdout.match(/Overall exposure level for .*?: (\d+\.\d)/);
  assert(m, r.stdout);
  const exposure = Number(m[1]);
  assert(exposure <= 2.5, `exposure ${exposure}:\n${r.stdout}`);
  // What the agent cannot live without stays; what it can, stays out.
  for (const line of r.stdout.split("\n")) {
    if (/MemoryDenyWriteExecute=/.test(line)) assertMatch(line, /✗/, "V8 needs W+X pages");
    if (/CapabilityBoundingSet=~CAP_SYS_ADMIN/.test(line)) assertMatch(line, /✓/);
    if (/SystemCallFilter=~@mount/.test(line)) assertMatch(line, /✓/);
  }
});

Deno.test("unit: the agent runs under the unit's SystemCallFilter= (seccomp, EPERM)", async () => {
  if (!requirePart("systemd-analyze", await hasSystemdAnalyze())) return;
  const allowed = await unitSyscalls(
    renderUnit({ exec: DEFAULT_EXEC, config: DEFAULT_UNIT_CONFIG }),
  );
  assert(allowed.has("bpf") && allowed.has("perf_event_open") && allowed.has("read"));
  assert(!allowed.has("setrlimit") && !allowed.has("mount") && !allowed.has("reboot"));
  const { dir, config } = await tempAgentConfig();
  const flags = await agentFlags(config);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-run",
      SECCOMP_EXEC,
      JSON.stringify([...allowed]),
      "--",
      Deno.execPath(),
      "run",
      ...flags,
      MAIN,
      "run",
      "--config",
      config,
    ],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let log = "";
  const reading = (async () => {
    for await (const chunk of stderr) log += chunk;
  })();
  try {
    assert(await waitHealthy(`${dir}/run/ironpost.sock`, 20000), log);
    const pid = await readPid(`${dir}/run/ironpost.pid`);
    assert(pid !== undefined);
    // The filter is really on the agent (mode 2: filter).
    assertMatch(await Deno.readTextFile(`/proc/${pid}/status`), /^Seccomp:\s+2$/m);
    Deno.kill(pid, "SIGHUP");
    await new Promise((r) => setTimeout(r, 300));
    assert(await waitHealthy(`${dir}/run/ironpost.sock`, 5000), log);
    Deno.kill(pid, "SIGTERM");
    assertEquals((await child.status).code, 0, log);
    await reading;
    assertMatch(log, /config reloaded/);
    assertMatch(log, /stopped \(exit 0\)/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await Deno.remove(dir, { recursive: true });
  }
});

/** The syscalls a unit's SystemCallFilter= lines allow, expanded by systemd-analyze. */
async function unitSyscalls(unit: string): Promise<Set<string>> {
  const groups = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of (await sh("systemd-analyze", ["syscall-filter"])).stdout.split("\n")) {
    if (/^@\S+$/.test(line)) groups.set(line, current = []);
    else if (/^\s+[@a-z0-9_-]+$/.test(line)) current.push(line.trim());
  }
  const expand = (name: string, out = new Set<string>()): Set<string> => {
    if (!name.startsWith("@")) return out.add(name);
    for (const n of groups.get(name) ?? []) expand(n, out);
    return out;
  };
  const allowed = new Set<string>();
  for (const [, value] of unit.matchAll(/^SystemCallFilter=(.*)$/gm)) {
    const deny = value.startsWith("~");
    for (const item of value.replace(/^~/, "").split(/\s+/).filter(Boolean)) {
      for (const s of expand(item)) deny ? allowed.delete(s) : allowed.add(s);
    }
  }
  return allowed;
}

Deno.test("install-unit writes the template for the given paths", async () => {
  const { dir, config } = await tempAgentConfig();
  try {
    const out = `${dir}/ironpost.service`;
    const r = await runAgent(
      ["install-unit", "--exec", "/opt/ironpost/bin/ironpost", "--config", config, "--output", out],
      { flagsFrom: config, extraFlags: [`--allow-write=${dir}`] },
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, `wrote ${out}\n`);
    assertEquals(
      await Deno.readTextFile(out),
      renderUnit({ exec: "/opt/ironpost/bin/ironpost", config }),
    );
    const unit = await Deno.readTextFile(out);
    assertMatch(
      unit,
      new RegExp(`^ExecStartPre=/opt/ironpost/bin/ironpost --validate --config ${config}$`, "m"),
    );
    assertMatch(
      unit,
      new RegExp(`^ExecStart=/opt/ironpost/bin/ironpost run --config ${config}$`, "m"),
    );
    assertMatch(
      unit,
      /^ExecReload=\/opt\/ironpost\/bin\/ironpost --validate --config .*\nExecReload=\/bin\/kill -HUP \$MAINPID$/m,
    );
    assertMatch(unit, /^Type=notify$/m);
    assertMatch(unit, /^WatchdogSec=\d+s$/m);
    assert(!/^MemoryDenyWriteExecute=/m.test(unit));

    // Under deno run without --exec: stdout, and a note naming the default.
    const s = await runAgent(["install-unit", "--config", config], { flagsFrom: config });
    assertEquals(s.code, 0, s.stderr);
    assertEquals(s.stdout, renderUnit({ exec: DEFAULT_EXEC, config }));
    assertMatch(s.stderr, /note: running under deno run.*--exec PATH/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config/ironpost.service is the template for the default paths", async () => {
  assertEquals(
    await Deno.readTextFile(`${ROOT}config/ironpost.service`),
    renderUnit({ exec: DEFAULT_EXEC, config: DEFAULT_UNIT_CONFIG }),
    "regenerate: deno run -A main.ts install-unit --exec /usr/local/bin/ironpost " +
      "--output config/ironpost.service",
  );
});
