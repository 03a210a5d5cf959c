/**
 * Runs last (files run in name order): nothing the suite created may outlive it — no
 * network namespace or veth of the harness, no XDP/TC program or map of Ironpost's still
 * loaded, attached or pinned.
 */
import { leftoverLinks, leftoverNamespaces } from "./helpers/netns.ts";
import { assertEquals } from "./helpers/assert.ts";
import { requirePart, requireRoot } from "./helpers/require.ts";

const OUR_PROGRAMS = new Set(["xdp_filter", "tc_ingress", "tc_egress"]);
const OUR_MAPS = new Set([
  "allow_v4",
  "allow_v6",
  "block_v4",
  "block_v6",
  "decisions_v4",
  "decisions_v6",
]);

async function bpftoolJson(args: string[]): Promise<{ name?: string }[] | undefined> {
  try {
    const out = await new Deno.Command("bpftool", {
      args: ["-j", ...args],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return JSON.parse(new TextDecoder().decode(out.stdout) || "[]");
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function pinnedUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (/ironpost|xdp_filter/.test(e.name)) found.push(`${dir}/${e.name}`);
    }
  } catch {
    // no bpffs mounted: nothing can be pinned
  }
  return found;
}

Deno.test("after the suite: no namespace, link, program or map is left behind", async (t) => {
  if (!requireRoot()) return;
  await t.step("no test namespace or veth", async () => {
    assertEquals(await leftoverNamespaces(), []);
    assertEquals(await leftoverLinks(), []);
  });
  await t.step("no Ironpost BPF program loaded or map alive", async () => {
    const progs = await bpftoolJson(["prog", "show"]);
    if (!requirePart("bpftool", progs !== undefined)) return;
    assertEquals(progs!.filter((p) => p.name && OUR_PROGRAMS.has(p.name)).map((p) => p.name), []);
    const maps = await bpftoolJson(["map", "show"]);
    assertEquals(maps!.filter((m) => m.name && OUR_MAPS.has(m.name)).map((m) => m.name), []);
  });
  await t.step("nothing pinned", async () => {
    assertEquals(await pinnedUnder("/sys/fs/bpf"), []);
  });
});
