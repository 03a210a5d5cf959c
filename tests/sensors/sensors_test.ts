/**
 * The host sensors against the real kernel: bpf/sensors.bpf.o on tracepoints, real
 * processes, real files and a real loopback TCP connection, asserted event by event.
 */
import { Channel, type HostEvent } from "../../mod/core/mod.ts";
import { loadConfig } from "../../mod/config/mod.ts";
import { SensorsModule } from "../../mod/sensors/mod.ts";
import { ensureFacilities } from "../../mod/kernel/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

const BASE = "/tmp/ironpost-t";

interface Running {
  module: SensorsModule;
  events: HostEvent[];
  stop(): Promise<void>;
}

/** Start the module in-process with extra `[sensors]` TOML lines; events are collected. */
export async function startSensors(toml = "", opts = {}): Promise<Running> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-sensors-" });
  await Deno.writeTextFile(`${dir}/c.toml`, `[sensors]\nenabled = true\n${toml}\n`);
  const { config } = await loadConfig({ path: `${dir}/c.toml`, env: () => undefined });
  const host = new Channel<HostEvent>("host", 100_000);
  const module = new SensorsModule(config.sensors, { host }, opts);
  // What the agent does before its modules start (mounts tracefs on a fresh machine).
  await ensureFacilities({ btf: ["sensors"], tracefs: ["sensors"] });
  await module.start();
  const events: HostEvent[] = [];
  let draining = true;
  const drain = (async () => {
    while (draining || host.stats().depth > 0) {
      const e = host.tryRecv();
      if (e) events.push(e);
      else await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    module,
    events,
    async stop() {
      await module.stop();
      draining = false;
      await drain;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Wait until `pred` holds over the collected events (or the time is up). */
export async function waitEvents(
  events: HostEvent[],
  pred: (es: HostEvent[]) => boolean,
  ms = 3000,
): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pred(events)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred(events);
}

async function run(argv: string[]): Promise<{ pid: number; code: number }> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "null",
  }).spawn();
  const { code } = await child.status;
  return { pid: child.pid, code };
}

async function attachedSensorPrograms(): Promise<string[]> {
  const out = await new Deno.Command("bpftool", { args: ["-j", "prog", "show"], stdout: "piped" })
    .output();
  const progs = JSON.parse(new TextDecoder().decode(out.stdout)) as { name?: string }[];
  return progs.map((p) => p.name ?? "").filter((n) =>
    /^(on_exec|on_exit|on_rename|on_sock_state|enter_|exit_)/.test(n)
  );
}

Deno.test("host sensors report real processes, files and connections", async (t) => {
  if (!requireRoot()) return;
  await Deno.mkdir(`${BASE}/ignored`, { recursive: true });
  const watched = `${BASE}/ignored/watched.txt`;
  await Deno.writeTextFile(watched, "start\n");
  const s = await startSensors(
    `watch_paths = ["/etc/passwd", "${watched}"]\n` +
      `ignore_paths = ["/proc", "/sys", "/dev", "${BASE}/ignored"]\n` +
      `sensitive_read_prefixes = ["/etc/shadow", "/root/.ssh"]\n`,
  );
  try {
    await t.step("sh -c: exec, sensitive read, write, unlink with parent images", async () => {
      const script = `cat /etc/shadow > /dev/null; echo x > ${BASE}/f; rm ${BASE}/f`;
      const { pid: shPid } = await run(["/bin/sh", "-c", script]);
      const mine = (es: HostEvent[]) => es.filter((e) => e.pid === shPid || e.ppid === shPid);
      assert(
        await waitEvents(s.events, (es) => mine(es).some((e) => e.action === "unlink")),
        "no unlink event",
      );
      const es = mine(s.events);
      const sh = es.find((e) => e.action === "exec" && e.pid === shPid);
      assert(sh, "no exec of sh");
      assertEquals(sh.image, "/usr/bin/dash");
      assertEquals(sh.commandLine, `/bin/sh -c ${script}`);
      assertEquals(sh.fields.ParentImage, Deno.execPath());
      assertEquals(sh.fields.User, "root");
      assertEquals(sh.fields.CurrentDirectory, Deno.cwd());

      const cat = es.find((e) => e.action === "exec" && e.image === "/usr/bin/cat");
      assert(cat, "no exec of cat");
      assertEquals(cat.commandLine, "cat /etc/shadow");
      assertEquals(cat.fields.ParentImage, "/usr/bin/dash");
      assertEquals(cat.fields.ParentCommandLine, `/bin/sh -c ${script}`);

      const read = es.find((e) => e.action === "open_read");
      assert(read, "no sensitive read");
      assertEquals(read.fields.TargetFilename, "/etc/shadow");
      assertEquals(read.image, "/usr/bin/cat");
      assertEquals(read.pid, cat.pid);

      const writes = es.filter((e) => e.action === "open_write");
      assertEquals(writes.map((e) => e.fields.TargetFilename), [`${BASE}/f`], "writes");
      assertEquals(writes[0].image, "/usr/bin/dash");
      assertEquals(writes[0].fields.Created, true);

      const rm = es.find((e) => e.action === "exec" && e.image === "/usr/bin/rm");
      assert(rm);
      assertEquals(rm.commandLine, `rm ${BASE}/f`);
      const unlink = es.find((e) => e.action === "unlink")!;
      assertEquals(unlink.fields.TargetFilename, `${BASE}/f`);
      assertEquals(unlink.pid, rm.pid);
      assertEquals(unlink.fields.ParentImage, "/usr/bin/dash");
    });

    await t.step("relative paths are resolved against the cwd", async () => {
      const { pid } = await new Deno.Command("/bin/sh", {
        args: ["-c", "echo y > rel.txt; mv rel.txt rel2.txt; rm ./rel2.txt"],
        cwd: BASE,
        stdout: "null",
      }).spawn().status.then(() => ({ pid: 0 }));
      void pid;
      assert(
        await waitEvents(
          s.events,
          (es) =>
            es.some((e) => e.action === "unlink" && e.fields.TargetFilename === `${BASE}/rel2.txt`),
        ),
        "relative unlink not resolved",
      );
      const mv = s.events.find((e) =>
        e.action === "rename" && e.fields.SourceFilename === `${BASE}/rel.txt`
      );
      assert(mv, "no rename");
      assertEquals(mv.fields.TargetFilename, `${BASE}/rel2.txt`);
    });

    await t.step("loopback TCP: connect and accept with the process", async () => {
      const py = "import socket\n" +
        "l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(1)\n" +
        "c=socket.create_connection(l.getsockname()); a,_=l.accept()\n" +
        "print(l.getsockname()[1], c.getsockname()[1])\n";
      const out = await new Deno.Command("python3", { args: ["-c", py], stdout: "piped" })
        .output();
      const [lport, cport] = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
      assert(
        await waitEvents(
          s.events,
          (es) => es.some((e) => e.action === "accept" && e.fields.SourcePort === lport),
        ),
        "no accept",
      );
      const conn = s.events.find((e) =>
        e.action === "connect" && e.fields.DestinationPort === lport
      );
      assert(conn, "no connect");
      assertEquals(conn.fields.DestinationIp, "127.0.0.1");
      assertEquals(conn.fields.SourcePort, cport);
      assertEquals(conn.fields.Initiated, true);
      assert(String(conn.image).includes("python3"), `image ${conn.image}`);
      const acc = s.events.find((e) => e.action === "accept" && e.fields.SourcePort === lport)!;
      assertEquals(acc.fields.DestinationPort, cport);
      assertEquals(acc.fields.Initiated, false);
      assertEquals(acc.pid, conn.pid);
    });

    await t.step(
      "ignored prefix: nothing; watched file inside it: one event, reads none",
      async () => {
        const before = s.events.length;
        const { pid } = await run([
          "/bin/sh",
          "-c",
          `echo a > ${BASE}/ignored/other; echo b >> ${watched}; cat ${watched} > /dev/null`,
        ]);
        assert(
          await waitEvents(
            s.events,
            (es) =>
              es.some((e) => e.action === "exec" && e.image === "/usr/bin/cat" && e.ppid === pid),
          ),
        );
        await new Promise((r) => setTimeout(r, 200));
        const files = s.events.slice(before).filter((e) =>
          e.sensor === "file" && (e.pid === pid || e.ppid === pid)
        );
        assertEquals(files.length, 1, JSON.stringify(files.map((e) => e.fields)));
        assertEquals(files[0].fields.TargetFilename, watched);
        assertEquals(files[0].fields.Watched, true);
        assertEquals(files[0].action, "open_write");
      },
    );

    await t.step("a process that renames itself is reported", async () => {
      const { pid } = await run(["/bin/sh", "-c", "printf evil > /proc/$$/comm; true"]);
      assert(
        await waitEvents(s.events, (es) => es.some((e) => e.action === "rename" && e.pid === pid)),
        "no rename",
      );
      const r = s.events.find((e) => e.action === "rename" && e.pid === pid)!;
      assertEquals(r.fields.OldName, "sh");
      assertEquals(r.fields.NewName, "evil");
      assertEquals(r.sensor, "process");
    });

    await t.step("the agent's own activity produces nothing", async () => {
      await Deno.writeTextFile(`${BASE}/agent-own`, "x");
      await Deno.remove(`${BASE}/agent-own`);
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const c = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
      const a = await l.accept();
      c.close();
      a.close();
      l.close();
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(s.events.filter((e) => e.pid === Deno.pid), []);
    });

    await t.step("20,000 execs: every one reported or counted lost", async () => {
      const lostBefore = s.module.counters().find((c) => c.type === "exec")!.lost;
      const n = Number(Deno.env.get("IRONPOST_TEST_EXEC_BURST") ?? 20_000);
      const started = Date.now();
      const { pid } = await run([
        "/bin/sh",
        "-c",
        `i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done`,
      ]);
      const count = () => s.events.filter((e) => e.ppid === pid && e.action === "exec").length;
      const lost = () =>
        Number(s.module.counters().find((c) => c.type === "exec")!.lost - lostBefore);
      await waitEvents(s.events, () => count() + lost() >= n, 30_000);
      console.log(
        `  ${n} execs in ${Date.now() - started} ms: ${count()} reported, ${lost()} lost`,
      );
      assertEquals(count() + Math.min(lost(), n - count()), n);
      assert(count() + lost() >= n, `reported ${count()} + lost ${lost()} < ${n}`);
    });
  } finally {
    await s.stop();
    await Deno.remove(BASE, { recursive: true }).catch(() => {});
  }
  await t.step("after stop no sensor program stays loaded", async () => {
    if (!requirePart("bpftool", true)) return;
    assertEquals(await attachedSensorPrograms(), []);
  });
});

Deno.test("host sensors attribute events to the Docker container they come from", async (t) => {
  if (!requireRoot()) return;
  const {
    ensureBusyboxImage,
    ensureDocker,
    BUSYBOX_IMAGE,
    docker,
    removeContainers,
    runContainer,
  } = await import("../helpers/docker.ts");
  if (!requirePart("docker", await ensureDocker())) return;
  await ensureBusyboxImage();
  const { ContainerInventory } = await import("../../mod/containers/mod.ts");
  const inventory = new ContainerInventory({ socketPath: "/var/run/docker.sock" });
  await inventory.start();
  const s = await startSensors("", { containers: inventory });
  const name = `ironpost-ct-sensors-${Deno.pid}`;
  try {
    const script = "cat /etc/passwd > /dev/null; echo x > /tmp/f; rm /tmp/f; sleep 30";
    const id = await runContainer(name, ["/bin/sh", "-c", script]);
    const fromIt = (es: HostEvent[]) => es.filter((e) => e.container?.id === id);

    await t.step(
      "exec, write and unlink inside the container carry its id, name, image",
      async () => {
        assert(
          await waitEvents(
            s.events,
            (es) =>
              fromIt(es).some((e) => e.action === "unlink" && e.fields.TargetFilename === "/tmp/f"),
            10_000,
          ),
          `no unlink from the container; container events: ${
            JSON.stringify(
              fromIt(s.events).map((e) => [e.action, e.image, e.fields.TargetFilename]),
            )
          }`,
        );
        const es = fromIt(s.events);
        for (const e of es) {
          assertEquals(e.container, { id, name, image: BUSYBOX_IMAGE, labels: {} });
        }
        const cat = es.find((e) => e.action === "exec" && e.commandLine === "cat /etc/passwd");
        assert(
          cat,
          `no exec of cat in the container: ${
            JSON.stringify(es.map((e) => [e.action, e.pid, e.image, e.commandLine]))
          }`,
        );
        assertEquals(cat.image, "/bin/busybox");
        const write = es.find((e) =>
          e.action === "open_write" && e.fields.TargetFilename === "/tmp/f"
        );
        assert(
          write,
          `no write of /tmp/f: ${JSON.stringify(es.map((e) => e.fields.TargetFilename))}`,
        );
        const unlink = es.find((e) =>
          e.action === "unlink" && e.fields.TargetFilename === "/tmp/f"
        );
        assert(unlink, "no unlink of /tmp/f in the container");
      },
    );

    await t.step("a docker exec'd command is attributed within a second", async () => {
      const started = Date.now();
      const r = await docker(["exec", name, "/bin/sh", "-c", "echo exec-probe > /dev/null"]);
      assertEquals(r.code, 0);
      assert(
        await waitEvents(
          s.events,
          (es) =>
            fromIt(es).some((e) =>
              e.action === "exec" && e.commandLine === "/bin/sh -c echo exec-probe > /dev/null"
            ),
          1000,
        ),
        "docker exec not seen within 1 s",
      );
      console.log(`  docker exec seen ${Date.now() - started} ms after the command returned`);
    });

    await t.step("events from the host carry no container", () => {
      const host = s.events.filter((e) => e.pid !== 0 && !e.container);
      assert(host.length > 0 || s.events.length > 0);
      for (const e of host) assertEquals(e.container, undefined);
    });
  } finally {
    await removeContainers([name]);
    await s.stop();
    await inventory.stop();
  }
});
