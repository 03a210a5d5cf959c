import { type Channel, errorMessage, type Health, IronpostError } from "../../core/mod.ts";
import { LineSplitter, type SplitLine } from "./line_splitter.ts";
import { positiveInt } from "./options.ts";
import type { RawLine } from "./raw_line.ts";
import { settlesWithin, Sleeper } from "./sleeper.ts";
import { emptyStats, LineOutput, type LineSource, type SourceStats } from "./source_stats.ts";

export interface JournaldOptions {
  /** Directory of `journal.cursor` (the resume position), created 0700 if missing. */
  stateDir: string;
  /** Only these units (`--unit`, repeated); empty or absent: the whole journal. */
  units?: string[];
  /** Read journal files from this directory (`--directory`) instead of the system journal. */
  directory?: string;
  /** The journalctl executable. Default "journalctl" (found on PATH). */
  journalctl?: string;
  /** Longer JSON entries are cut and flagged (and will not parse). Default 1 MiB. */
  maxLineBytes?: number;
  /** First delay before restarting journalctl; doubles per quick exit. Default 500. */
  backoffMs?: number;
  /** Longest restart delay. Default 30000. */
  maxBackoffMs?: number;
  /** How often the cursor of the last accepted entry is written (and always on stop). Default 1000. */
  flushIntervalMs?: number;
  /** How long `stop()` waits for an entry the output channel has not yet accepted. Default 5000. */
  stopTimeoutMs?: number;
  /** Module-facing name. Default "journald". */
  name?: string;
}

/** journalctl's argv (no shell is involved): JSON entries, followed, resumed from the cursor file. */
export function journalctlArgs(o: {
  cursorFile: string;
  units?: readonly string[];
  directory?: string;
  /** `--since` value when the cursor file holds no cursor yet. */
  since?: string;
}): string[] {
  const args = ["--output=json", "--follow", "--no-pager", "--cursor-file", o.cursorFile];
  for (const u of o.units ?? []) args.push("--unit", u);
  if (o.directory) args.push("--directory", o.directory);
  if (o.since) args.push("--since", o.since);
  return args;
}

const CURSOR_RE = /"__CURSOR"\s*:\s*"([^"\\]*)"/;
/** A child that has run this long without exiting resets the backoff. */
const STABLE_MS = 10_000;
/** A restarted child counts as recovered after this long (or its first entry). */
const RECOVERED_MS = 2_000;

/**
 * Follows the systemd journal by running `journalctl --output=json --follow` and reading its
 * stdout, one JSON object per line (`format: "journal-json"`). journalctl is restarted with
 * exponential backoff when it exits; the source reports degraded until the new one runs.
 *
 * The cursor file is written by this source, with the cursor of the last entry the output
 * channel accepted: journalctl reads `--cursor-file` when it starts, but in `--follow` mode it
 * only writes it on a clean exit, and being killed (our stop) is not one. A restart therefore
 * resumes right after the last accepted entry. Without a cursor it starts at `--since now`.
 *
 * @example
 * ```ts ignore
 * import { Channel } from "../../core/mod.ts";
 * import { JournaldSource, type RawLine } from "./mod.ts";
 * const out = new Channel<RawLine>("raw", 1024);
 * const src = new JournaldSource({ stateDir: "/var/lib/ironpost", units: ["ssh.service"] }, out);
 * await src.start();
 * ```
 */
export class JournaldSource implements LineSource {
  readonly name: string;
  readonly cursorFile: string;
  readonly #stateDir: string;
  readonly #units: string[];
  readonly #directory?: string;
  readonly #journalctl: string;
  readonly #maxLineBytes: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #flushIntervalMs: number;
  readonly #stopTimeoutMs: number;
  readonly #out: LineOutput;
  readonly #sleeper = new Sleeper();
  #running = false;
  #stopping = false;
  #child?: Deno.ChildProcess;
  #childStartedAt = 0;
  #stderrTail = "";
  #stderrDone: Promise<void> = Promise.resolve();
  #loop?: Promise<void>;
  #flushTimer?: ReturnType<typeof setInterval>;
  #flushChain: Promise<void> = Promise.resolve();
  /** Cursor of the last accepted entry, and whether the file is behind it. */
  #cursor?: string;
  #dirty = false;
  /** When there was no cursor at start: the start time, so restarts do not skip entries. */
  #since?: string;
  #degraded?: string;
  #lastError?: string;
  #stats = emptyStats();

  constructor(opts: JournaldOptions, out: Channel<RawLine>) {
    this.name = opts.name ?? "journald";
    this.#stateDir = opts.stateDir;
    this.cursorFile = `${opts.stateDir}/journal.cursor`;
    this.#units = [...(opts.units ?? [])];
    this.#directory = opts.directory;
    this.#journalctl = opts.journalctl ?? "journalctl";
    this.#maxLineBytes = positiveInt("maxLineBytes", opts.maxLineBytes ?? 1024 * 1024);
    this.#backoffMs = positiveInt("backoffMs", opts.backoffMs ?? 500);
    this.#maxBackoffMs = Math.max(this.#backoffMs, opts.maxBackoffMs ?? 30_000);
    this.#flushIntervalMs = positiveInt("flushIntervalMs", opts.flushIntervalMs ?? 1000);
    this.#stopTimeoutMs = positiveInt("stopTimeoutMs", opts.stopTimeoutMs ?? 5000);
    this.#out = new LineOutput(out, this.#stats);
    for (const u of this.#units) {
      // Not a unit name: refuse it here, with the config's words, rather than let journalctl
      // fail at every restart.
      if (u === "" || u.startsWith("-")) {
        throw new IronpostError("E_SOURCE_OPTION", `Invalid journald unit "${u}"`, { unit: u });
      }
    }
  }

  /** Start journalctl; throws `E_JOURNALCTL` when it cannot be run at all. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#stopping = false;
    this.#out.closed = false;
    this.#degraded = undefined;
    this.#lastError = undefined;
    await Deno.mkdir(this.#stateDir, { recursive: true, mode: 0o700 });
    this.#cursor = await readCursor(this.cursorFile);
    this.#dirty = false;
    this.#since = this.#cursor ? undefined : "now";
    let child: Deno.ChildProcess;
    try {
      child = this.#spawn();
    } catch (err) {
      throw new IronpostError(
        "E_JOURNALCTL",
        `Cannot run ${this.#journalctl}: ${errorMessage(err)}`,
        { journalctl: this.#journalctl, hint: "install systemd (journalctl) or disable journald" },
        { cause: err },
      );
    }
    // Restarts before any entry was accepted resume from here, not from their own "now".
    this.#since = `@${(Date.now() / 1000).toFixed(3)}`;
    this.#running = true;
    this.#flushTimer = setInterval(() => void this.#flush(), this.#flushIntervalMs);
    this.#loop = this.#run(child);
  }

  /** Kill journalctl and write the cursor of the last accepted entry. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#stopping = true;
    this.#sleeper.wake();
    clearInterval(this.#flushTimer);
    this.#kill("SIGTERM");
    if (this.#loop && !(await settlesWithin(this.#loop, this.#stopTimeoutMs))) {
      this.#lastError = "an entry was still waiting for the output channel at stop";
    }
    const child = this.#child;
    if (child && !(await settlesWithin(child.status, 2000))) {
      this.#kill("SIGKILL");
      await child.status;
    }
    await this.#stderrDone;
    this.#child = undefined;
    await this.#flush();
    this.#running = false;
  }

  health(): Health {
    if (!this.#running) return { state: "unhealthy", reason: "not running" };
    const closed = this.#out.health();
    if (closed) return closed;
    if (this.#degraded && this.#child && Date.now() - this.#childStartedAt >= RECOVERED_MS) {
      this.#degraded = undefined;
    }
    if (this.#degraded) return { state: "degraded", reason: this.#degraded };
    if (this.#lastError) return { state: "degraded", reason: this.#lastError };
    return { state: "healthy" };
  }

  stats(): SourceStats {
    return { ...this.#stats };
  }

  #spawn(): Deno.ChildProcess {
    const args = journalctlArgs({
      cursorFile: this.cursorFile,
      units: this.#units,
      directory: this.#directory,
      since: this.#cursor ? undefined : this.#since,
    });
    const child = new Deno.Command(this.#journalctl, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#childStartedAt = Date.now();
    this.#stderrTail = "";
    this.#stderrDone = this.#collectStderr(child);
    return child;
  }

  async #run(first: Deno.ChildProcess): Promise<void> {
    let child: Deno.ChildProcess | undefined = first;
    let backoff = this.#backoffMs;
    while (!this.#stopping && !this.#out.closed) {
      if (!child) {
        try {
          child = this.#spawn();
        } catch (err) {
          this.#degraded = `cannot restart ${this.#journalctl}: ${errorMessage(err)}`;
          this.#child = undefined;
          await this.#sleeper.sleep(backoff);
          backoff = Math.min(backoff * 2, this.#maxBackoffMs);
          continue;
        }
      }
      await this.#pump(child);
      if (this.#stopping || this.#out.closed) break;
      const status = await child.status;
      await this.#stderrDone;
      const ranMs = Date.now() - this.#childStartedAt;
      this.#child = undefined;
      child = undefined;
      // Write the cursor now: the next journalctl reads it when it starts.
      await this.#flush();
      const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
      const tail = this.#stderrTail.trim();
      this.#degraded = `${this.#journalctl} exited with ${how}${
        tail ? `: ${tail}` : ""
      }; restarting`;
      this.#stats.restarts++;
      backoff = ranMs >= STABLE_MS ? this.#backoffMs : backoff;
      await this.#sleeper.sleep(backoff);
      backoff = Math.min(backoff * 2, this.#maxBackoffMs);
    }
    // Nobody reads the channel any more: journalctl need not keep running.
    if (this.#out.closed) this.#kill("SIGTERM");
  }

  /** Hand every entry journalctl prints to the channel, until its stdout ends or we stop. */
  async #pump(child: Deno.ChildProcess): Promise<void> {
    const reader = child.stdout.getReader();
    const splitter = new LineSplitter(this.#maxLineBytes);
    let done = false;
    try {
      while (!done) {
        const r = await reader.read();
        done = r.done;
        if (r.done) break;
        for (const line of splitter.push(r.value)) {
          if (!(await this.#emit(line))) return;
        }
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  async #emit(l: SplitLine): Promise<boolean> {
    if (this.#stopping) return false;
    const line = this.#out.decoder.decode(l.bytes);
    const raw: RawLine = {
      source: "journald",
      line,
      receivedAt: Date.now(),
      format: "journal-json",
    };
    if (l.truncated) raw.truncated = true;
    if (!(await this.#out.send(raw, l.bytes.length))) return false;
    this.#degraded = undefined;
    const cursor = CURSOR_RE.exec(line)?.[1];
    if (cursor) {
      this.#cursor = cursor;
      this.#dirty = true;
    }
    return true;
  }

  /** Keep the end of journalctl's stderr for the health reason; read it all so it never blocks. */
  async #collectStderr(child: Deno.ChildProcess): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of child.stderr) {
        this.#stderrTail = (this.#stderrTail + dec.decode(chunk, { stream: true })).slice(-500);
      }
    } catch {
      // the pipe closes with the process
    }
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.#child?.kill(signal);
    } catch {
      // already exited
    }
  }

  /** Write the cursor atomically (temp file + rename, 0600); writes never overlap. */
  #flush(): Promise<void> {
    this.#flushChain = this.#flushChain.then(async () => {
      if (!this.#dirty || !this.#cursor) return;
      const cursor = this.#cursor;
      this.#dirty = false;
      const tmp = `${this.cursorFile}.tmp`;
      try {
        await Deno.writeTextFile(tmp, cursor + "\n", { mode: 0o600 });
        await Deno.rename(tmp, this.cursorFile);
        if (this.#lastError?.startsWith("cursor:")) this.#lastError = undefined;
      } catch (err) {
        if (this.#cursor === cursor) this.#dirty = true;
        this.#lastError = `cursor: cannot write ${this.cursorFile}: ${errorMessage(err)}`;
      }
    });
    return this.#flushChain;
  }
}

async function readCursor(path: string): Promise<string | undefined> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return text === "" ? undefined : text;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
