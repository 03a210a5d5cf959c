/**
 * Sensors feeding the rule engine in one agent: a real container writing under /etc raises
 * the shipped `container_etc_write` rule's alert, stored and listed by `ironpost alerts`.
 */
import { assert } from "../helpers/assert.ts";
import {
  OutputTail,
  ROOT,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";
import {
  BUSYBOX_IMAGE,
  ensureBusyboxImage,
  ensureDocker,
  removeContainers,
  runContainer,
} from "../helpers/docker.ts";

Deno.test("a container writing under /etc raises an alert through sensors and Sigma", async () => {
  if (!requireRoot()) return;
  if (!requirePart("docker", await ensureDocker())) return;
  await ensureBusyboxImage();
  const { dir, config } = await tempAgentConfig(
    `[sensors]\nenabled = true\n[log_pipeline]\nenabled = true\nrules_dir = "${ROOT}rules"\n`,
  );
  const agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
  const log = new OutputTail(agent.stderr);
  void new OutputTail(agent.stdout);
  const name = `ironpost-ct-etc-${Deno.pid}`;
  try {
    assert(await waitHealthy(`${dir}/run/ironpost.sock`, 20_000), `not healthy:\n${log.text}`);
    await runContainer(name, ["/bin/sh", "-c", "echo evil >> /etc/profile; sleep 30"]);
    let listed = "";
    const seen = await waitFor(async () => {
      const r = await runAgent(["alerts", "--json", "--config", config], { flagsFrom: config });
      listed = r.stdout;
      return r.code === 0 && listed.includes("Write under /etc inside a container") &&
        listed.includes(name);
    }, 10_000);
    assert(seen, `no alert for the container's /etc write:\n${listed}\n${log.text.slice(-2000)}`);
    assert(listed.includes(BUSYBOX_IMAGE), "the alert names the image");
  } finally {
    await removeContainers([name]);
    agent.kill("SIGTERM");
    await agent.status;
    await log.closed();
    await Deno.remove(dir, { recursive: true });
  }
});
