import { IronpostError } from "../../mod/core/mod.ts";
import { PidFile, readPid, runningAgentPid } from "../../mod/daemon/mod.ts";

const PIDFILE_MODULE = new URL("../../mod/daemon/pidfile.ts", import.meta.url).href;
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

/** A PID that surely belongs to no process: one that just exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("PID file", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run/sub/ironpost.pid`;

  await t.step(
    "created exclusively, 0644, parent 0755, holding our PID; removed on release",
    async () => {
      const pf = await PidFile.acquire(path);
      assertEquals(await readPid(path), Deno.pid);
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o644);
      assertEquals((await Deno.stat(`${dir}/run/sub`)).mode! & 0o777, 0o755);
      await pf.release();
      assertEquals(await readPid(path), undefined);
    },
  );

  await t.step("a live agent's PID file refuses the start and names its PID", async () => {
    const first = await PidFile.acquire(path);
    const e = await assertRejects(PidFile.acquire(path));
    assert(e instanceof IronpostError);
    assertEquals(e.code, "E_ALREADY_RUNNING");
    assertEquals(
      e.message,
      `Ironpost is already running with PID ${Deno.pid} (PID file ${path}); stop it with \`ironpost stop\` first`,
    );
    assertEquals(await runningAgentPid(path), Deno.pid);
    await first.release();
    assertEquals(await runningAgentPid(path), undefined);
  });

  await t.step(
    "after kill -9 of its holder the file is stale and replaced with a warning",
    async () => {
      const holder = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { PidFile } from "${PIDFILE_MODULE}";
         await PidFile.acquire(${JSON.stringify(path)});
         console.log("locked");
         setTimeout(() => {}, 60000);`,
        ],
        stdout: "piped",
      }).spawn();
      const reader = holder.stdout.getReader();
      await reader.read(); // "locked"
      assertEquals(await runningAgentPid(path), holder.pid);
      holder.kill("SIGKILL");
      await holder.status;
      reader.releaseLock();
      await holder.stdout.cancel();
      assertEquals(await readPid(path), holder.pid, "kill -9 left the file behind");
      const warned: (number | undefined)[] = [];
      const pf = await PidFile.acquire(path, (pid) => warned.push(pid));
      assertEquals(warned, [holder.pid]);
      assertEquals(await readPid(path), Deno.pid);
      await pf.release();
    },
  );

  await t.step("a PID file no process locks is stale", async () => {
    const dead = await deadPid();
    await Deno.writeTextFile(path, `${dead}\n`);
    const warned: (number | undefined)[] = [];
    const pf = await PidFile.acquire(path, (pid) => warned.push(pid));
    assertEquals(warned, [dead]);
    await pf.release();
  });

  await t.step("garbage content counts as stale", async () => {
    await Deno.writeTextFile(path, "not a pid");
    const warned: (number | undefined)[] = [];
    const pf = await PidFile.acquire(path, (pid) => warned.push(pid));
    assertEquals(warned, [undefined]);
    await pf.release();
  });

  await t.step("release leaves a PID file that another process has taken over", async () => {
    const pf = await PidFile.acquire(path);
    await Deno.writeTextFile(path, "1\n");
    await pf.release();
    assertEquals(await readPid(path), 1);
    await Deno.remove(path);
  });
  await Deno.remove(dir, { recursive: true });
});
