/**
 * Acting on containers (ContainerControl on the inventory) against the real dockerd and the
 * busybox test image: pause, unpause, stop, kill, network disconnect and connect, checked
 * with `docker inspect`, and how failures are classified (gone, refused, transient).
 */
import { ContainerError, ContainerInventory, toActionError } from "../../mod/containers/mod.ts";
import { ContainerActionError } from "../../mod/core/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import {
  BUSYBOX_IMAGE,
  createNetwork,
  DOCKER_SOCKET,
  dockerOk,
  ensureBusyboxImage,
  ensureDocker,
  inspectContainer,
  removeContainers,
  removeNetworks,
  runContainer,
} from "../helpers/docker.ts";
import { requirePart } from "../helpers/require.ts";

const PREFIX = `ironpost-ct-${Deno.pid}-ctl-`;

/** Docker and the test image, or false when the test is skipped. */
async function ready(): Promise<boolean> {
  if (!requirePart("docker", await ensureDocker())) return false;
  await ensureBusyboxImage();
  return true;
}

/** The ContainerActionError `p` rejects with. */
async function actionError(p: Promise<unknown>, message?: string): Promise<ContainerActionError> {
  const err = await assertRejects(p, message);
  assert(err instanceof ContainerActionError, `not a ContainerActionError: ${err}`);
  return err;
}

/**
 * Refused with one of these statuses (Docker 20.10 answers some state conflicts with 500,
 * later versions with 409: `CONFLICTS` in docker_api.ts).
 */
function assertRefused(e: ContainerActionError, status: number | number[], re: RegExp): void {
  assert(!e.gone && !e.transient, `expected refused, got ${e.code}: ${e.message}`);
  assertEquals(e.code, "E_DOCKER_REFUSED");
  const statuses = typeof status === "number" ? [status] : status;
  assert(e.status !== undefined && statuses.includes(e.status), `${e.status}: ${e.message}`);
  assertMatch(e.message, re);
}

function assertGone(e: ContainerActionError): void {
  assert(e.gone && !e.transient, `expected gone, got ${e.code}: ${e.message}`);
  assertEquals(e.code, "E_CONTAINER_GONE");
  assertEquals(e.status, 404);
  assertMatch(e.message, /No such container/i);
}

/** Poll `fn` every 20 ms until it resolves true or `ms` pass; true when it did. */
async function until(fn: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("pause and unpause a real container, started inventory or not", async (t) => {
  if (!await ready()) return;
  const name = `${PREFIX}pause`;
  const inv = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  try {
    const id = await runContainer(name, ["sleep", "300"]);

    await t.step("without start(): pause, refused twice, unpause", async () => {
      await inv.pauseContainer(name);
      let c = await inspectContainer(name);
      assertEquals([c.State.Status, c.State.Paused], ["paused", true]);
      assertEquals((await inv.containerStatus(name))?.state, "paused");

      assertRefused(await actionError(inv.pauseContainer(name)), 409, /already paused/);

      await inv.unpauseContainer(id);
      c = await inspectContainer(name);
      assertEquals([c.State.Status, c.State.Paused], ["running", false]);
      assertRefused(await actionError(inv.unpauseContainer(id)), [409, 500], /not paused/);
    });

    await t.step("started: the cached state follows at once", async () => {
      await inv.start();
      assertEquals(inv.byId(id)?.state, "running");
      await inv.pauseContainer(id.slice(0, 12));
      assertEquals(inv.byId(id)?.state, "paused");
      assertEquals((await inspectContainer(name)).State.Status, "paused");
      await inv.unpauseContainer(name);
      assertEquals(inv.byId(id)?.state, "running");
      assertEquals((await inspectContainer(name)).State.Status, "running");
    });
  } finally {
    await inv.stop();
    await removeContainers([name]);
  }
});

Deno.test("stop gives the grace period, then kills a process that ignores SIGTERM", async () => {
  if (!await ready()) return;
  const name = `${PREFIX}stop`;
  const inv = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  try {
    const id = await runContainer(name, ["sh", "-c", 'trap "" TERM; while :; do sleep 1; done']);
    await inv.start();
    assertEquals(inv.byId(id)?.state, "running");
    const t0 = performance.now();
    await inv.stopContainer(name, 1);
    const secs = (performance.now() - t0) / 1000;
    console.log(`  stop with a 1 s grace returned after ${secs.toFixed(2)} s`);
    assert(secs >= 0.9 && secs < 3.5, `stop took ${secs.toFixed(2)} s`);
    const c = await inspectContainer(name);
    assertEquals([c.State.Status, c.State.Running], ["exited", false]);
    assertEquals(c.State.ExitCode, 137); // SIGKILLed after the grace period
    assertEquals(inv.byId(id)?.state, "exited");
    assertEquals(inv.byId(id)?.pid, 0);
    // Already stopped is what was asked: not an error.
    await inv.stopContainer(id, 1);
    const bad = await actionError(inv.stopContainer(id, -1));
    assert(!bad.gone && !bad.transient);
  } finally {
    await inv.stop();
    await removeContainers([name]);
  }
});

Deno.test("kill sends the signal; a container that is not running is refused", async () => {
  if (!await ready()) return;
  const name = `${PREFIX}kill`;
  const inv = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  try {
    await runContainer(name, ["sleep", "300"]);
    assertRefused(
      await actionError(inv.killContainer(name, "SIGNOPE")),
      400,
      /SIGNOPE|signal/i,
    );
    assertEquals((await inspectContainer(name)).State.Status, "running");
    await inv.killContainer(name, "SIGKILL");
    assert(
      await until(async () => (await inspectContainer(name)).State.Status === "exited", 5000),
      "not exited within 5 s of SIGKILL",
    );
    assertEquals((await inspectContainer(name)).State.ExitCode, 137);
    assertRefused(await actionError(inv.killContainer(name, "SIGKILL")), 409, /not running/);
    assertRefused(await actionError(inv.pauseContainer(name)), 409, /not running/);
  } finally {
    await removeContainers([name]);
  }
});

Deno.test("networks: status lists the user's aliases, disconnect and connect restore them", async (t) => {
  if (!await ready()) return;
  const name = `${PREFIX}net`;
  const net = `ironpost-ct-net-${Deno.pid}`;
  const inv = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  try {
    await createNetwork(net);
    const id = await runContainer(name, ["sleep", "300"], {
      flags: ["--network", net, "--network-alias", "web", "--network-alias", "api"],
      labels: { "ironpost.test": "net" },
    });
    const before = await inspectContainer(name);
    // Docker adds the short id itself; the status must not list it.
    assert(before.NetworkSettings.Networks[net].Aliases?.includes(id.slice(0, 12)));

    const status = await inv.containerStatus(name);
    assert(status);
    assertEquals(status.id, id);
    assertEquals(status.name, name);
    assertEquals(status.image, BUSYBOX_IMAGE);
    assertEquals(status.labels, { "ironpost.test": "net" });
    assertEquals(status.state, "running");
    assertEquals(status.networks.length, 1);
    const recorded = status.networks[0];
    assertEquals(recorded.name, net);
    assertEquals([...recorded.aliases].sort(), ["api", "web"]);
    assertEquals(recorded.ipv4, before.NetworkSettings.Networks[net].IPAddress);
    assertMatch(recorded.ipv4 ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assertEquals(recorded.ipv6, undefined);

    await t.step("disconnect (paused, forced): no networks left", async () => {
      await inv.pauseContainer(name);
      await inv.disconnectNetwork(id, net);
      const c = await inspectContainer(name);
      assertEquals(c.NetworkSettings.Networks, {});
      assertEquals(c.State.Status, "paused");
      assertEquals((await inv.containerStatus(id))?.networks, []);
      assertRefused(
        await actionError(inv.disconnectNetwork(id, net)),
        [409, 500],
        /not connected/,
      );
    });

    await t.step("connect restores the network with the same aliases", async () => {
      await inv.connectNetwork(id, recorded);
      await inv.unpauseContainer(id);
      const c = await inspectContainer(name);
      assertEquals(Object.keys(c.NetworkSettings.Networks), [net]);
      const aliases = c.NetworkSettings.Networks[net].Aliases ?? [];
      assertEquals(
        aliases.filter((a) => a !== id.slice(0, 12)).sort(),
        ["api", "web"],
      );
      assertEquals((await inv.containerStatus(id))?.networks.map((n) => n.aliases.sort()), [[
        "api",
        "web",
      ]]);
      // Attached already: Docker refuses, the container is not gone.
      const again = await actionError(inv.connectNetwork(id, recorded));
      assert(!again.gone && !again.transient, again.message);
    });

    await t.step("a network that does not exist is refused, not gone", async () => {
      const ghost = { name: `ironpost-ct-net-none-${Deno.pid}`, aliases: [] };
      const e1 = await actionError(inv.connectNetwork(id, ghost));
      assertRefused(e1, 404, /not found/);
      const e2 = await actionError(inv.disconnectNetwork(id, ghost.name));
      // Forced, Docker looks for the container's endpoint on it: not connected (500 on 20.10).
      assertRefused(e2, [404, 409, 500], /not found|not connected/);
    });
  } finally {
    await removeContainers([name]);
    await removeNetworks([net]);
  }
});

Deno.test("a removed container is gone; a name that never existed has no status", async () => {
  if (!await ready()) return;
  const name = `${PREFIX}gone`;
  const net = `ironpost-ct-net-${Deno.pid}-gone`;
  const inv = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  try {
    await createNetwork(net);
    const id = await runContainer(name, ["sleep", "300"], { flags: ["--network", net] });
    const recorded = (await inv.containerStatus(id))?.networks[0];
    assertEquals(recorded?.name, net);
    await dockerOk(["rm", "-f", name]);

    assertEquals(await inv.containerStatus(id), undefined);
    assertEquals(await inv.containerStatus(name), undefined);
    assertGone(await actionError(inv.pauseContainer(id)));
    assertGone(await actionError(inv.unpauseContainer(id)));
    assertGone(await actionError(inv.stopContainer(id, 1)));
    assertGone(await actionError(inv.killContainer(id, "SIGKILL")));
    assertGone(await actionError(inv.disconnectNetwork(id, net)));
    assertGone(await actionError(inv.connectNetwork(id, recorded!)));

    const never = `${PREFIX}never-existed`;
    assertEquals(await inv.containerStatus(never), undefined);
    assertGone(await actionError(inv.pauseContainer(never)));
  } finally {
    await removeContainers([name]);
    await removeNetworks([net]);
  }
});

Deno.test("Docker unreachable: every action is transient, status rejects", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-ct-" });
  const inv = new ContainerInventory({ socketPath: `${dir}/docker.sock` });
  try {
    const calls: [string, Promise<unknown>][] = [
      ["containerStatus", inv.containerStatus("web")],
      ["pause", inv.pauseContainer("web")],
      ["unpause", inv.unpauseContainer("web")],
      ["stop", inv.stopContainer("web", 1)],
      ["kill", inv.killContainer("web", "SIGKILL")],
      ["disconnect", inv.disconnectNetwork("web", "bridge")],
      ["connect", inv.connectNetwork("web", { name: "bridge", aliases: [] })],
    ];
    for (const [what, p] of calls) {
      const e = await actionError(p, what);
      assert(e.transient && !e.gone, `${what}: ${e.code}`);
      assertEquals(e.code, "E_DOCKER_UNAVAILABLE");
      assertEquals(e.status, undefined);
      assertMatch(e.message, /No Docker socket at .*docker\.sock/, what);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Docker's answers are classified: 5xx transient, 404 of a container gone, other 4xx refused", () => {
  const api = (status: number, message: string) =>
    new ContainerError("E_DOCKER_API", `Docker answered with ${status}: ${message}`, {
      status,
    }, { cause: Object.assign(new Error(message), { statusCode: status, json: { message } }) });
  const sock = "/var/run/docker.sock";
  const e500 = toActionError(api(500, "driver failed"), "pause", "web", sock);
  assert(e500.transient && !e500.gone && e500.status === 500);
  assertMatch(e500.message, /driver failed/);
  const e404 = toActionError(api(404, "No such container: web"), "pause", "web", sock);
  assert(e404.gone && !e404.transient && e404.status === 404);
  const net404 = toActionError(api(404, "network x not found"), "connect", "web", sock);
  assert(!net404.gone && !net404.transient && net404.status === 404);
  const e409 = toActionError(api(409, "Container web is already paused"), "pause", "web", sock);
  assert(!e409.gone && !e409.transient && e409.status === 409);
  assertMatch(e409.message, /already paused/);
  // Docker 20.10 answers some state conflicts with 500: retrying cannot help.
  const old = toActionError(api(500, "Container web is not paused"), "unpause", "web", sock);
  assert(!old.transient && !old.gone && old.status === 500);
  const reset = toActionError(
    Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    "pause",
    "web",
    sock,
  );
  assert(reset.transient && reset.status === undefined);
  const timeout = toActionError(
    new ContainerError("E_DOCKER_TIMEOUT", "Docker did not answer pause within 10 ms", {}),
    "pause",
    "web",
    sock,
  );
  assert(timeout.transient);
});
