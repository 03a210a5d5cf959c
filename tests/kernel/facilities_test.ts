/**
 * Kernel facilities on a fresh machine: the agent with [sensors] starts in a private mount
 * namespace where tracefs is not mounted, mounts it there, reports process events, lists what
 * it probed in `ironpost status --json`, and leaves the host's mounts as they were. Without
 * CAP_SYS_ADMIN it cannot mount tracefs and says exactly what is missing and how to fix it.
 */
import { probeFacilities } from "../../mod/kernel/mod.ts";
import { KERNEL_FACILITIES } from "../../mod/core/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  agentFlags,
  MAIN,
  OutputTail,
  runAgent,
  tempAgentConfig,
  waitHealthy,
} from "../helpers/agent.ts";
import { requireRoot } from "../helpers/require.ts";

/**
 * Run argv in a private mount namespace after unmounting every tracefs (and debugfs, whose
 * tracing/ directory would automount one) there: a machine where nothing mounted tracefs.
 * `prefix` runs before argv (e.g. setpriv to drop a capability).
 */
function inFreshMountNs(argv: string[], prefix: string[] = []): Deno.Command {
  const script = "while umount -l /sys/kernel/tracing 2>/dev/null; do :; done; " +
    "while umount -l /sys/kernel/debug 2>/dev/null; do :; done; " +
    'if [ -d /sys/kernel/tracing/events ]; then echo "tracefs still mounted" >&2; exit 99; fi; ' +
    'exec "$@"';
  return new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", "--", "sh", "-c", script, "sh", ...prefix, ...argv],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
}

function mountTable(): string[] {
  // Mount ids and the fields of the test's own namespace only.
  return Deno.readTextFileSync("/proc/self/mountinfo").trim().split("\n").sort();
}

interface StatusKernel {
  name: string;
  state: string;
  path: string;
  detail: string;
  needed_by: string[];
}

Deno.test("kernel facilities: probed, tracefs mounted when missing, host untouched", async (t) => {
  await t.step("the probe reports every facility with a state and a path", async () => {
    const report = await probeFacilities();
    assertEquals(report.map((f) => f.name), [...KERNEL_FACILITIES]);
    for (const f of report) {
      assert(["ok", "mounted", "missing", "unknown"].includes(f.state), JSON.stringify(f));
      assert(f.path.startsWith("/sys/"), JSON.stringify(f));
      assertEquals(f.neededBy, []);
      if (f.state === "missing") assert(f.fix, `a missing facility names its fix: ${f.name}`);
    }
    if (Deno.uid() === 0) {
      // The machines Ironpost runs on have BTF and a cgroup v2 hierarchy (unified or hybrid).
      assertEquals(report.find((f) => f.name === "btf")!.state, "ok");
      assertEquals(report.find((f) => f.name === "cgroup2")!.state, "ok");
    }
  });

  if (!requireRoot()) return;

  await t.step(
    "without tracefs, the agent mounts it, reports exec events, host unchanged",
    async () => {
      const { dir, config } = await tempAgentConfig(`[sensors]\nenabled = true\n`);
      const socket = `${dir}/run/ironpost.sock`;
      const before = mountTable();
      const flags = await agentFlags(config);
      const agent = inFreshMountNs([
        Deno.execPath(),
        "run",
        ...flags,
        MAIN,
        "run",
        "--config",
        config,
      ])
        .spawn();
      const log = new OutputTail(agent.stderr);
      void new OutputTail(agent.stdout);
      let trace: Deno.ChildProcess | undefined;
      try {
        assert(await waitHealthy(socket), `agent not healthy:\n${log.text}`);
        assert(/mounted tracefs at \/sys\/kernel\/tracing/.test(log.text), log.text);

        // `ironpost status --json` (the CLI, run outside the namespace) lists the probe.
        const status = await runAgent(["status", "--json", "--config", config], {
          flagsFrom: config,
        });
        assertEquals(status.code, 0, status.stderr);
        const kernel = JSON.parse(status.stdout).kernel as StatusKernel[];
        assertEquals(kernel.map((k) => k.name), [...KERNEL_FACILITIES]);
        const tracefs = kernel.find((k) => k.name === "tracefs")!;
        assertEquals(tracefs.state, "mounted");
        assertEquals(tracefs.path, "/sys/kernel/tracing");
        assertEquals(tracefs.needed_by, ["sensors"]);
        assertEquals(kernel.find((k) => k.name === "btf")!.needed_by, ["sensors"]);
        const human = await runAgent(["status", "--config", config], { flagsFrom: config });
        assert(
          /tracefs\s+mounted\s+\/sys\/kernel\/tracing\s+sensors/.test(human.stdout),
          human.stdout,
        );

        // Process events flow: a command run on the host is traced.
        trace = new Deno.Command(Deno.execPath(), {
          args: ["run", ...flags, MAIN, "trace", "--json", "--config", config],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const traced = new OutputTail(trace.stdout);
        void new OutputTail(trace.stderr);
        await new Promise((r) => setTimeout(r, 1000));
        const child = new Deno.Command("/bin/sh", {
          args: ["-c", "echo fresh-machine > /dev/null"],
        })
          .spawn();
        await child.status;
        assert(
          await traced.waitFor(new RegExp(`"action":"exec","pid":${child.pid}\\b`), 3000),
          `no exec of pid ${child.pid} traced:\n${traced.text}`,
        );
        trace.kill("SIGINT");
        await trace.status;
        trace = undefined;

        assertEquals(mountTable(), before, "the host's mount table changed");
      } finally {
        trace?.kill("SIGKILL");
        await trace?.status;
        agent.kill("SIGTERM");
        const { code } = await agent.status;
        assertEquals(code, 0, log.text);
        await Deno.remove(dir, { recursive: true });
      }
      assertEquals(mountTable(), before, "the host's mount table changed after the agent stopped");
    },
  );

  await t.step("without CAP_SYS_ADMIN it cannot mount tracefs, and says what and how", async () => {
    const { dir, config } = await tempAgentConfig(`[sensors]\nenabled = true\n`);
    try {
      const flags = await agentFlags(config);
      const out = await inFreshMountNs(
        [Deno.execPath(), "run", ...flags, MAIN, "run", "--config", config],
        ["setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", "--"],
      ).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 1, stderr);
      assert(/kernel facility tracefs is missing/.test(stderr), stderr);
      assert(/mount failed: EPERM/.test(stderr), stderr);
      assert(/fix: mount -t tracefs nodev \/sys\/kernel\/tracing/.test(stderr), stderr);
      assert(/needed by sensors/.test(stderr), stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
