/**
 * Startup to healthy, with no modules enabled: spawn the agent the way `deno task start`
 * does (deno run + derived flags), poll GET /health on its socket until 200, then SIGTERM
 * and time the graceful exit. The peer in the same run is the floor every Deno program
 * pays: `deno run` of a script that opens a unix socket server and nothing else.
 *
 * Run: deno task bench:startup [--runs 20]
 * Target: startup to healthy under 300 ms.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { agentPermissions, controlRequest } from "../mod/daemon/mod.ts";
import { loadConfig } from "../mod/config/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "20" } },
});
const runs = Math.min(200, Math.max(1, Number(values.runs)));
const main = fileURLToPath(new URL("../main.ts", import.meta.url));
const dir = await Deno.makeTempDir({ prefix: "ironpost-bench-" });
const config = `${dir}/ironpost.toml`;
await Deno.writeTextFile(
  config,
  `[general]\nstate_dir = "${dir}/state"\npid_file = "${dir}/run/ironpost.pid"\n` +
    `control_socket = "${dir}/run/ironpost.sock"\n`,
);
const loaded = await loadConfig({ path: config });
const flags = agentPermissions(loaded, Deno.execPath());
const socket = loaded.config.general.control_socket;

// The floor: a Deno program that serves HTTP on a unix socket and does nothing else.
const floorScript = `${dir}/floor.ts`;
const floorSocket = `${dir}/floor.sock`;
await Deno.writeTextFile(
  floorScript,
  `try { Deno.removeSync(${JSON.stringify(floorSocket)}); } catch { /* first run */ }
   Deno.serve({ path: ${
    JSON.stringify(floorSocket)
  }, transport: "unix", onListen() {} }, () => new Response("ok"));
   Deno.addSignalListener("SIGTERM", () => Deno.exit(0));`,
);

async function waitHealthy(path: string, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline && !exited) {
    try {
      if ((await controlRequest(path, "GET", "/health", 1000)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`not healthy within 10 s (${path})`);
}

async function measure(args: string[], path: string): Promise<{ up: number; down: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" }).spawn();
  await waitHealthy(path, child);
  const up = performance.now() - t0;
  const t1 = performance.now();
  child.kill("SIGTERM");
  const st = await child.status;
  if (st.code !== 0) throw new Error(`exit ${st.code}`);
  return { up, down: performance.now() - t1 };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

const ours: { up: number; down: number }[] = [];
const floor: { up: number; down: number }[] = [];
// Warm the module cache once so neither side pays a first compile.
await measure(["run", ...flags, main, "run", "--config", config], socket);
await measure([
  "run",
  `--allow-read=${dir}`,
  `--allow-write=${dir}`,
  `--allow-net=unix:${floorSocket}`,
  floorScript,
], floorSocket);
for (let i = 0; i < runs; i++) {
  ours.push(await measure(["run", ...flags, main, "run", "--config", config], socket));
  floor.push(
    await measure(
      [
        "run",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        `--allow-net=unix:${floorSocket}`,
        floorScript,
      ],
      floorSocket,
    ),
  );
}
const o = stats(ours.map((x) => x.up));
const f = stats(floor.map((x) => x.up));
const od = stats(ours.map((x) => x.down));
const fmt = (n: number) => n.toFixed(1).padStart(8);
console.log(`startup to healthy, ${runs} runs, deno ${Deno.version.deno} (ms)`);
console.log(`${"".padEnd(34)}${"p50".padStart(8)}${"p95".padStart(8)}${"max".padStart(8)}`);
console.log(`${"ironpost (no modules)".padEnd(34)}${fmt(o.p50)}${fmt(o.p95)}${fmt(o.max)}`);
console.log(
  `${"deno floor (bare unix HTTP server)".padEnd(34)}${fmt(f.p50)}${fmt(f.p95)}${fmt(f.max)}`,
);
console.log(`${"ironpost SIGTERM to exit".padEnd(34)}${fmt(od.p50)}${fmt(od.p95)}${fmt(od.max)}`);
console.log(
  `ratio ironpost/floor at p50: ${(o.p50 / f.p50).toFixed(2)}x; target p95 < 300 ms: ${
    o.p95 < 300 ? "met" : "NOT met"
  }`,
);
await Deno.remove(dir, { recursive: true });
