/**
 * The container inventory against the real dockerd (Debian's docker.io, started by
 * `ensureDocker` when `.ci/run` has not) and a test image imported from busybox-static;
 * only the reconnect test uses a stand-in daemon on a socket path that had none.
 */
import { type ContainerChange, ContainerInventory } from "../../mod/containers/mod.ts";
import type { MetricSample } from "../../mod/core/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  BUSYBOX_IMAGE,
  containerPid,
  DOCKER_SOCKET,
  dockerOk,
  ensureBusyboxImage,
  ensureDocker,
  removeContainers,
  runContainer,
} from "../helpers/docker.ts";
import { requirePart } from "../helpers/require.ts";
import { startFakeDocker } from "../fixtures/containers/fake_docker.ts";

const PREFIX = `ironpost-ct-${Deno.pid}-`;

/** Poll `fn` every 10 ms until it returns true or `ms` pass; true when it did. */
async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function nsInode(path: string): number {
  const m = Deno.readLinkSync(path).match(/\[(\d+)\]$/);
  assert(m, `no inode in the link ${path}`);
  return Number(m[1]);
}

function metric(samples: MetricSample[], name: string, labels?: Record<string, string>): number {
  const s = samples.find((m) =>
    m.name === name &&
    Object.entries(labels ?? {}).every(([k, v]) => m.labels?.[k] === v)
  );
  assert(s, `no metric ${name}`);
  return s.value;
}

/** The cgroup v2 mount point, from this process's mountinfo. */
function cgroup2Mount(): string | undefined {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [pre, post] = line.split(" - ");
    if (post?.startsWith("cgroup2 ")) return pre.split(" ")[4];
  }
  return undefined;
}

Deno.test("container inventory follows the real dockerd", async (t) => {
  if (!requirePart("docker", await ensureDocker())) return;
  const image = await ensureBusyboxImage();
  assertEquals(image, BUSYBOX_IMAGE);
  const created = new Set<string>();
  const inv = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  const changes: ContainerChange[] = [];
  inv.onChange((c) => changes.push(c));
  try {
    const aName = `${PREFIX}a`;
    created.add(aName);
    const aId = await runContainer(aName, ["sleep", "300"], {
      labels: { "ironpost.test": "inventory", tier: "web" },
    });
    await inv.start();

    await t.step("a container started before start() is listed", async () => {
      assertEquals(inv.health(), { state: "healthy" });
      assert(inv.connected);
      const a = inv.byId(aId);
      assert(a, "container a is not in the inventory");
      assertMatch(a.id, /^[0-9a-f]{64}$/);
      assertEquals(a.name, aName);
      assertEquals(a.image, BUSYBOX_IMAGE);
      assertMatch(a.imageId, /^sha256:[0-9a-f]{64}$/);
      assertEquals(a.labels["ironpost.test"], "inventory");
      assertEquals(a.labels.tier, "web");
      assertEquals(a.state, "running");
      const pid = await containerPid(aName);
      assertEquals(a.pid, pid);
      assertEquals(a.mntns, nsInode(`/proc/${pid}/ns/mnt`));
      assert(a.mntns !== nsInode("/proc/self/ns/mnt"), "the host's mount namespace");
      assert(inv.list().some((c) => c.id === aId));
      assertEquals(inv.byId(aName)?.id, aId);
      assertEquals(inv.byId(`/${aName}`)?.id, aId);
      assertEquals(inv.byId(aId.slice(0, 12))?.id, aId);
    });

    await t.step("lookupByCgroup resolves the cgroup leaf names the sensors report", () => {
      const pid = inv.byId(aId)!.pid;
      const lines = Deno.readTextFileSync(`/proc/${pid}/cgroup`).trim().split("\n");
      const v2 = lines.find((l) => l.startsWith("0::"))?.slice(3);
      const pids = lines.find((l) => l.split(":")[1]?.split(",").includes("pids"))
        ?.split(":")[2];
      // The BPF side reports the v2 leaf, or on hybrid hosts where that is the root the
      // v1 `pids` leaf: whichever of the two is the container's own must resolve.
      const own = [v2, pids].filter((p): p is string => p !== undefined && p !== "/");
      assert(own.length > 0, `no container cgroup in ${lines.join(" | ")}`);
      for (const path of own) {
        const leaf = path.slice(path.lastIndexOf("/") + 1);
        const ref = inv.lookupByCgroup(leaf);
        assertEquals(ref, {
          id: aId,
          name: aName,
          image: BUSYBOX_IMAGE,
          labels: { "ironpost.test": "inventory", tier: "web" },
        }, `leaf ${leaf} of ${path}`);
        assertEquals(JSON.parse(JSON.stringify(ref)), ref);
      }
      assertEquals(inv.lookupByCgroup(`docker-${aId}.scope`)?.id, aId);
      assertEquals(inv.lookupByCgroup(`/system.slice/docker-${aId}.scope`)?.id, aId);
      assertEquals(inv.lookupByCgroup(""), undefined);
      assertEquals(inv.lookupByCgroup("user.slice"), undefined);
      assertEquals(inv.lookupByCgroup("f".repeat(64)), undefined);

      const a = inv.byId(aId)!;
      assertEquals(inv.lookupByMntns(a.mntns!)?.id, aId);
      assertEquals(inv.lookupByMntns(nsInode("/proc/self/ns/mnt")), undefined);
      const mount = cgroup2Mount();
      if (v2 !== undefined && v2 !== "/" && mount) {
        const ino = Deno.statSync(`${mount}${v2}`).ino;
        assert(ino !== null);
        assertEquals(a.cgroupId, BigInt(ino));
        assertEquals(inv.lookupByCgroupId(BigInt(ino))?.id, aId);
        assertEquals(a.cgroupV2Path, v2);
      }
      if (pids !== undefined) assertEquals(a.cgroupV1Paths.pids, pids);
      assert(
        a.cgroupLeaves.length > 0 && a.cgroupLeaves.every((l) => l.includes(aId)),
        `leaves: ${a.cgroupLeaves.join(",")}`,
      );
    });

    const bName = `${PREFIX}b`;
    const bRenamed = `${PREFIX}b2`;
    let bId = "";
    await t.step("a container started after start() arrives from the events stream", async () => {
      created.add(bName);
      bId = await runContainer(bName, ["sleep", "300"], { labels: { "ironpost.test": "b" } });
      const since = performance.now();
      assert(await until(() => inv.byId(bId) !== undefined, 1000), "b not seen within 1 s");
      console.log(`  known ${Math.round(performance.now() - since)} ms after docker run returned`);
      const b = inv.byId(bId)!;
      assertEquals(b.name, bName);
      assertEquals(b.pid, await containerPid(bName));
      assertEquals(inv.lookupByCgroup(bId)?.name, bName);
      assert(
        changes.some((c) => c.type === "added" && c.container.id === bId && c.cause === "start"),
      );
    });

    await t.step("rename, pause and unpause are seen", async () => {
      created.add(bRenamed);
      await dockerOk(["rename", bName, bRenamed]);
      assert(await until(() => inv.byId(bId)?.name === bRenamed, 1000), "rename not seen");
      assertEquals(inv.byId(bName), undefined);
      assertEquals(inv.byId(bRenamed)?.id, bId);
      assertEquals(inv.lookupByCgroup(bId)?.name, bRenamed);
      await dockerOk(["pause", bRenamed]);
      assert(await until(() => inv.byId(bId)?.state === "paused", 1000), "pause not seen");
      await dockerOk(["unpause", bRenamed]);
      assert(await until(() => inv.byId(bId)?.state === "running", 1000), "unpause not seen");
    });

    await t.step("destroy is seen", async () => {
      const mntns = inv.byId(bId)!.mntns!;
      await dockerOk(["rm", "-f", bRenamed]);
      assert(await until(() => inv.byId(bId) === undefined, 2000), "destroy not seen");
      assertEquals(inv.lookupByCgroup(bId), undefined);
      assertEquals(inv.lookupByMntns(mntns), undefined);
      assert(changes.some((c) => c.type === "removed" && c.container.id === bId));
      assert(inv.byId(aId), "a is still there");
    });

    await t.step("resolveCgroup inspects a container id it has not seen, once", async () => {
      // Created, never started: neither in the list nor in a start event.
      const cName = `${PREFIX}c`;
      created.add(cName);
      const cId = await dockerOk(["create", "--name", cName, BUSYBOX_IMAGE, "sleep", "1"]);
      assertEquals(inv.lookupByCgroup(cId), undefined);
      const ref = await inv.resolveCgroup(`docker-${cId}.scope`);
      assertEquals(ref?.id, cId);
      assertEquals(ref?.name, cName);
      assertEquals(ref?.image, BUSYBOX_IMAGE);
      assertEquals(inv.lookupByCgroup(cId)?.name, cName);

      const ghost = "0123456789abcdef".repeat(4);
      assertEquals(await inv.resolveCgroup(ghost), undefined);
      assertEquals(await inv.resolveCgroup(ghost), undefined);
      const m = inv.metrics();
      assertEquals(metric(m, "ironpost_containers_resolves_total", { result: "found" }), 1);
      // The second miss was answered from memory, not by another inspect.
      assertEquals(metric(m, "ironpost_containers_resolves_total", { result: "absent" }), 1);
      assertEquals(await inv.resolveCgroup("user.slice"), undefined);
      assertEquals(metric(m, "ironpost_containers_known", {}), inv.list().length);
      assertEquals(metric(m, "ironpost_containers_docker_connected", {}), 1);
    });
  } finally {
    await inv.stop();
    await removeContainers(created);
  }
  assertEquals(inv.list(), []);
});

Deno.test("container inventory is degraded without Docker and reconnects when it appears", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-ct-" });
  const socketPath = `${dir}/docker.sock`;
  const id = "ab".repeat(32);
  const inv = new ContainerInventory({
    socketPath,
    backoffMinMs: 50,
    backoffMaxMs: 200,
    startTimeoutMs: 2000,
  });
  let fake: ReturnType<typeof startFakeDocker> | undefined;
  try {
    await inv.start();

    await t.step("no daemon: degraded with a clear reason, lookups undefined", () => {
      const h = inv.health();
      assertEquals(h.state, "degraded");
      assertMatch(h.reason ?? "", /^Docker is not available: No Docker socket at .*docker\.sock/);
      assertMatch(h.reason ?? "", /events are reported as host events/);
      assert(!inv.connected);
      assertEquals(inv.lookupByCgroup(id), undefined);
      assertEquals(inv.list(), []);
    });

    await t.step("a daemon appears on the path: reconnects and lists", async () => {
      fake = startFakeDocker(socketPath, [
        { id, name: "fake-web", image: "example/web:1.2", labels: { app: "web" } },
      ]);
      assert(await until(() => inv.connected, 2000), `not reconnected: ${inv.health().reason}`);
      assertEquals(inv.health(), { state: "healthy" });
      assertEquals(inv.lookupByCgroup(`docker-${id}.scope`), {
        id,
        name: "fake-web",
        image: "example/web:1.2",
        labels: { app: "web" },
      });
      assert(fake.requests.includes("/events"), "no events subscription");
      const m = inv.metrics();
      assert(metric(m, "ironpost_containers_docker_failures_total") >= 1);
      assertEquals(metric(m, "ironpost_containers_docker_connects_total"), 1);
    });

    await t.step("the daemon goes away: degraded again, lookups undefined", async () => {
      await fake!.close();
      fake = undefined;
      assert(await until(() => !inv.connected, 2000), "still connected");
      assertEquals(inv.health().state, "degraded");
      assertEquals(inv.lookupByCgroup(id), undefined);
    });
  } finally {
    await inv.stop();
    await fake?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
