/**
 * Process and /proc helpers for bench/xdp.ts: run a tool, read counters from sysfs and
 * /proc, find and pin the threaded-NAPI kthread of a device.
 */

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Children still running, so a cleanup can stop them (by their own pid, nothing else). */
export const children = new Set<Deno.ChildProcess>();

/** Run `cmd args…` to completion; never throws for a non-zero exit (see `must`). */
export async function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.add(child);
  const timer = setTimeout(() => killTree(child.pid, "SIGKILL"), opts.timeoutMs ?? 60_000);
  try {
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const o = await child.output();
    const dec = new TextDecoder();
    return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
  } finally {
    clearTimeout(timer);
    children.delete(child);
  }
}

/** Run and return stdout; throw with the command and its stderr on a non-zero exit. */
export async function must(
  cmd: string,
  args: string[],
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${(r.err || r.out).trim()}`);
  }
  return r.out;
}

/** Pids of the processes below `pid` (from /proc/<pid>/task/<tid>/children), deepest last. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    try {
      for (const t of Deno.readDirSync(`/proc/${p}/task`)) {
        for (const c of readText(`/proc/${p}/task/${t.name}/children`).split(/\s+/)) {
          if (c === "") continue;
          out.push(Number(c));
          walk(Number(c));
        }
      }
    } catch {
      // exited meanwhile
    }
  };
  walk(pid);
  return out;
}

/**
 * Signal a process we started and everything it started, children first. trafgen's parent
 * only waits for its forked worker, so a signal to the parent alone does not stop it.
 */
export function killTree(pid: number, signal: Deno.Signal): void {
  for (const p of [...descendants(pid).reverse(), pid]) {
    try {
      Deno.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

export async function have(tool: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${tool}`])).code === 0;
}

export function readText(path: string): string {
  return Deno.readTextFileSync(path).trim();
}

export function writeText(path: string, value: string | number): void {
  Deno.writeTextFileSync(path, String(value));
}

export function readBig(path: string): bigint {
  return BigInt(readText(path));
}

/** CPU time (ns) a task has run: first field of /proc/<pid>/schedstat (sum_exec_runtime). */
export function taskRuntimeNs(pid: number): bigint {
  return BigInt(readText(`/proc/${pid}/schedstat`).split(/\s+/)[0]);
}

/** Busy jiffies of one CPU from /proc/stat: user+nice+system+irq+softirq+steal. */
export function cpuBusyTicks(cpu: number): number {
  const line = readText("/proc/stat").split("\n").find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) throw new Error(`no cpu${cpu} in /proc/stat`);
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
}

/**
 * Total time (us) some runnable task waited for a CPU (/proc/pressure/cpu "some"), or NaN
 * without PSI. During a window only trafgen (CPU 0) and the NAPI thread (CPU 1) should run,
 * so growth here means other work competed with them.
 */
export function cpuPressureUs(): number {
  try {
    const m = /^some .*total=(\d+)/m.exec(readText("/proc/pressure/cpu"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Pids of threads whose comm starts with `prefix` (kernel comms are cut at 15 chars). */
export function threadsNamed(prefix: string): number[] {
  const want = prefix.slice(0, 15);
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (readText(`/proc/${e.name}/comm`).startsWith(want)) out.push(Number(e.name));
    } catch {
      // exited meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** Threaded-NAPI kthreads of `dev` (napi/<dev>-<id>). */
export function napiThreads(dev: string): number[] {
  return threadsNamed(`napi/${dev}-`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
