/**
 * Small process and network helpers for bench/guard.ts: bounded commands, CPU ticks of a
 * pid from /proc, namespaces with veth pairs in 198.18.0.0/15, and the probe/listener
 * (bench/guard/probe.py) run inside them.
 */
import { fileURLToPath } from "node:url";

export const PROBE = fileURLToPath(new URL("./probe.py", import.meta.url));
const dec = new TextDecoder();

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run argv, killed after `timeoutMs` (code 124 then); a missing program gives 127. */
export async function run(argv: string[], timeoutMs = 30_000, stdin?: string): Promise<Out> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { code: 127, stdout: "", stderr: "not found" };
    throw e;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin)).catch(() => {});
    await w.close().catch(() => {});
  }
  const o = await child.output();
  clearTimeout(timer);
  return {
    code: timedOut ? 124 : o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  };
}

/** Run argv and throw with its stderr unless it exits 0. */
export async function must(argv: string[], timeoutMs = 15_000): Promise<string> {
  const r = await run(argv, timeoutMs);
  if (r.code !== 0) throw new Error(`\`${argv.join(" ")}\` failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Path of `name` on PATH (or the sbin dirs), else undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin"];
  for (const d of dirs) {
    if (!d) continue;
    try {
      if (Deno.statSync(`${d}/${name}`).isFile) return `${d}/${name}`;
    } catch { /* next */ }
  }
  return undefined;
}

/** utime + stime of `pid` in clock ticks (1/100 s on Linux), or undefined when it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

export const TICK_MS = 10;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` every `everyMs` until true or `ms` pass. */
export async function waitFor(
  fn: () => Promise<boolean> | boolean,
  ms: number,
  everyMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await sleep(everyMs);
  }
  return false;
}

/**
 * A veth pair between a defender side and an attacker namespace: the defender end in the
 * root namespace (`defenderNs` undefined: where XDP attaches) or in its own namespace (where
 * fail2ban's nftables table then lives). Defender 198.18.<n>.1/24, attacker
 * 198.18.<n>.2 to .<1 + sources>.
 */
export interface Pair {
  n: number;
  attackerNs: string;
  defenderNs?: string;
  /** The defender-side device. */
  dev: string;
  defenderIp: string;
  /** Attacker source addresses. */
  sources: string[];
  /** argv prefix to run a command on the defender side. */
  defender(argv: string[]): string[];
  attacker(argv: string[]): string[];
  destroy(): Promise<void>;
}

const live = new Set<Pair>();
globalThis.addEventListener("unload", () => {
  for (const p of live) {
    for (const args of [["link", "del", p.dev], ["netns", "del", p.attackerNs]]) {
      try {
        new Deno.Command("ip", { args, stdout: "null", stderr: "null" }).outputSync();
      } catch { /* best effort */ }
    }
    if (p.defenderNs) {
      try {
        new Deno.Command("ip", {
          args: ["netns", "del", p.defenderNs],
          stdout: "null",
          stderr: "null",
        }).outputSync();
      } catch { /* best effort */ }
    }
  }
});

async function usedThirdOctets(): Promise<Set<number>> {
  const used = new Set<number>();
  const out = await must(["ip", "-j", "-4", "addr", "show"]);
  for (const l of JSON.parse(out || "[]") as { addr_info?: { local?: string }[] }[]) {
    for (const a of l.addr_info ?? []) {
      const m = /^198\.18\.(\d+)\./.exec(a.local ?? "");
      if (m) used.add(Number(m[1]));
    }
  }
  return used;
}

let seq = 0;

/** Create a pair (see `Pair`); `tag` is 1 to 3 letters naming it. */
export async function createPair(
  tag: string,
  sources: number,
  defenderOwnNs: boolean,
  avoid: number[] = [],
): Promise<Pair> {
  const used = await usedThirdOctets();
  let n = 200 + (Deno.pid % 50);
  for (let i = 0; i < 250 && (used.has(n) || avoid.includes(n)); i++) n = (n % 250) + 1;
  const id = `${(Deno.pid % 46656).toString(36)}${++seq}`;
  const attackerNs = `ipg-${Deno.pid}-${tag}a`;
  const defenderNs = defenderOwnNs ? `ipg-${Deno.pid}-${tag}d` : undefined;
  const dev = `ipg${tag}${id}d`.slice(0, 15);
  const peer = `ipg${tag}${id}a`.slice(0, 15);
  const p: Pair = {
    n,
    attackerNs,
    defenderNs,
    dev,
    defenderIp: `198.18.${n}.1`,
    sources: Array.from({ length: sources }, (_, i) => `198.18.${n}.${i + 2}`),
    defender: (argv) => defenderNs ? ["ip", "netns", "exec", defenderNs, ...argv] : argv,
    attacker: (argv) => ["ip", "netns", "exec", attackerNs, ...argv],
    destroy: async () => {
      live.delete(p);
      if (!defenderNs) await run(["ip", "link", "del", dev]);
      await run(["ip", "netns", "del", attackerNs]);
      if (defenderNs) await run(["ip", "netns", "del", defenderNs]);
    },
  };
  live.add(p);
  try {
    await must(["ip", "netns", "add", attackerNs]);
    if (defenderNs) await must(["ip", "netns", "add", defenderNs]);
    await must([
      "ip",
      "link",
      "add",
      dev,
      "type",
      "veth",
      "peer",
      "name",
      peer,
      "netns",
      attackerNs,
    ]);
    const dIp = defenderNs ? ["ip", "-n", defenderNs] : ["ip"];
    if (defenderNs) {
      await must(["ip", "link", "set", dev, "netns", defenderNs]);
      await must([...dIp, "link", "set", "lo", "up"]);
    } else {
      await must(["sh", "-c", `echo 0 > /proc/sys/net/ipv4/conf/${dev}/forwarding`]);
    }
    await must([...dIp, "addr", "add", `${p.defenderIp}/24`, "dev", dev]);
    await must([...dIp, "link", "set", dev, "up"]);
    const aIp = ["ip", "-n", attackerNs];
    await must([...aIp, "link", "set", "lo", "up"]);
    for (const s of p.sources) await must([...aIp, "addr", "add", `${s}/24`, "dev", peer]);
    await must([...aIp, "link", "set", peer, "up"]);
    return p;
  } catch (e) {
    await p.destroy();
    throw e;
  }
}

/** A listener (probe.py listen) on the defender side, for up to `maxSecs`. */
export async function startListener(
  p: Pair,
  port: number,
  maxSecs: number,
): Promise<{ stop(): Promise<void> }> {
  const child = new Deno.Command(
    p.defender(["python3", PROBE, "listen", p.defenderIp, String(port), String(maxSecs)])[0],
    {
      args: p.defender(["python3", PROBE, "listen", p.defenderIp, String(port), String(maxSecs)])
        .slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    },
  ).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await Promise.race([reader.read(), sleep(5000).then(() => undefined)]);
  if (!first || first.done || !first.value.includes("listening")) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    throw new Error(`the listener on ${p.defenderIp}:${port} did not start`);
  }
  return {
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await reader.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
    },
  };
}

export interface ProbeResult {
  attempts: number;
  firstBlockedNs: number | null;
  how: string | null;
  okAfter: number;
}

/**
 * Start a probe from `src` to the listener; resolves `ready` once it connects, and `result`
 * when it has seen the source blocked (or gave up after `maxSecs`).
 */
export function startProbe(
  p: Pair,
  src: string,
  port: number,
  opts: { intervalMs: number; timeoutMs: number; maxSecs: number },
): { ready: Promise<void>; result: Promise<ProbeResult> } {
  const argv = p.attacker([
    "python3",
    PROBE,
    "probe",
    src,
    p.defenderIp,
    String(port),
    String(opts.intervalMs),
    String(opts.timeoutMs),
    String(opts.maxSecs),
  ]);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, (opts.maxSecs + 10) * 1000);
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  const result = (async () => {
    let text = "";
    let isReady = false;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (!isReady && /^ready$/m.test(text)) {
        isReady = true;
        readyResolve();
      }
    }
    const err = await new Response(child.stderr).text();
    await child.status;
    clearTimeout(killer);
    const last = text.trim().split("\n").at(-1) ?? "";
    let parsed: ProbeResult & { error?: string };
    try {
      parsed = JSON.parse(last);
    } catch {
      const e = new Error(`probe from ${src}: no result (${text.trim()} ${err.trim()})`);
      readyReject(e);
      throw e;
    }
    if (parsed.error) {
      const e = new Error(`probe from ${src}: ${parsed.error}`);
      readyReject(e);
      throw e;
    }
    return parsed;
  })();
  result.catch(() => {});
  ready.catch(() => {});
  return { ready, result };
}

/** p50 and p99 (nearest rank) of `xs`. */
export function pct(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** A plain text table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join("  ");
  return [line(cells[0]), w.map((x) => "-".repeat(x)).join("  "), ...cells.slice(1).map(line)]
    .join("\n");
}
