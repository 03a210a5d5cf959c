/**
 * One timed run of a command: wall time and peak RSS. With GNU time (`/usr/bin/time`, the
 * Debian package `time`), peak RSS is its `%M`: the largest resident set of the process or
 * any descendant it waited for (wait4's ru_maxrss). Without it, the process tree's summed
 * VmRSS is sampled from /proc every 10 ms (which can miss a short spike).
 */

export interface Measured {
  code: number;
  wallS: number;
  peakRssMb: number;
  how: "gnu-time" | "sampled";
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs: number;
}

const GNU_TIME = "/usr/bin/time";

function hasGnuTime(): boolean {
  try {
    return Deno.statSync(GNU_TIME).isFile;
  } catch {
    return false;
  }
}

/** Runs `argv` to completion (killed at the timeout) and measures it. */
export async function measure(argv: string[], opts: MeasureOptions): Promise<Measured> {
  return hasGnuTime() ? await withGnuTime(argv, opts) : await sampled(argv, opts);
}

async function withGnuTime(argv: string[], opts: MeasureOptions): Promise<Measured> {
  const report = await Deno.makeTempFile({ prefix: "ironpost-bench-time-" });
  try {
    const child = new Deno.Command(GNU_TIME, {
      args: ["-f", "%e %M", "-o", report, ...argv],
      cwd: opts.cwd,
      env: opts.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const out = await child.output();
    const dec = new TextDecoder();
    const last = (await Deno.readTextFile(report)).trim().split("\n").pop() ?? "";
    const [wall, kb] = last.split(" ").map(Number);
    return {
      code: out.code,
      wallS: wall,
      peakRssMb: kb / 1024,
      how: "gnu-time",
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } finally {
    await Deno.remove(report).catch(() => {});
  }
}

/** Descendants of `pid` (its children, theirs, …) from /proc/<pid>/task/<tid>/children. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const t of Deno.readDirSync(`/proc/${out[i]}/task`)) {
        const kids = Deno.readTextFileSync(`/proc/${out[i]}/task/${t.name}/children`).trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch { /* exited */ }
  }
  return out;
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function sampled(argv: string[], opts: MeasureOptions): Promise<Measured> {
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs),
  }).spawn();
  let peak = 0;
  let done = false;
  const output = child.output().finally(() => done = true);
  while (!done) {
    peak = Math.max(peak, tree(child.pid).reduce((n, p) => n + rssKb(p), 0));
    await new Promise((r) => setTimeout(r, 10));
  }
  const out = await output;
  const dec = new TextDecoder();
  return {
    code: out.code,
    wallS: (performance.now() - started) / 1000,
    peakRssMb: peak / 1024,
    how: "sampled",
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
