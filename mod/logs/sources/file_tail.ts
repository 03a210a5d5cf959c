import { type Channel, errorMessage, type Health, IronpostError } from "../../core/mod.ts";
import { sniffFormat } from "../parsers/dispatch.ts";
import type { Checkpoints } from "./checkpoints.ts";
import { expandGlob, globRoot } from "./glob.ts";
import { LineSplitter, type SplitLine } from "./line_splitter.ts";
import type { LineFormat, RawLine } from "./raw_line.ts";
import { positiveInt } from "./options.ts";
import { emptyStats, LineOutput, type LineSource, type SourceStats } from "./source_stats.ts";
import { settlesWithin, Sleeper } from "./sleeper.ts";

export interface FileTailOptions {
  /** `file_paths`: absolute paths and globs (`*`, `?`, `[…]` in any component). */
  paths: string[];
  /** Where to begin in a file with no checkpoint that exists at start. Default "end". */
  startAt?: "end" | "start";
  /** Longer lines are cut to this many bytes and flagged `truncated`. Default 65536. */
  maxLineBytes?: number;
  /** How often files and globs are checked. Default 250. */
  pollMs?: number;
  /** Resume positions; without it a restart begins again per `startAt`. */
  checkpoints?: Checkpoints;
  /** Key prefix in `checkpoints`; the path follows it. Default "logs.files:". */
  checkpointPrefix?: string;
  /** How often positions are written to `checkpoints` (and always on stop). Default 5000. */
  flushIntervalMs?: number;
  /**
   * How long a file renamed away by rotation is still read: a daemon keeps writing to the
   * old file until it reopens its log (logrotate's postrotate signal). Default 5000.
   */
  rotateWaitMs?: number;
  /** Bytes per read call. Default 65536. */
  readChunkBytes?: number;
  /**
   * What the lines are. Default "auto": each file's format is read from its first line
   * (Linux audit records, else syslog; see `sniffFormat`).
   */
  format?: LineFormat | "auto";
  /** How long `stop()` waits for a line the output channel has not yet accepted. Default 5000. */
  stopTimeoutMs?: number;
  /** Module-facing name. Default "files". */
  name?: string;
}

/** Counters of the file source. */
export interface FileTailStats extends SourceStats {
  /** Files open now (current ones, not those draining after rotation). */
  files: number;
  /** Rotations seen: the path now names another file (rename + create, symlink swap). */
  rotations: number;
  /** Files seen shrinking under the read position (copytruncate). */
  truncations: number;
}

/**
 * A line of a file with where it is: `position` names the file (device, inode) and the end
 * offset of the line, so a line read again after a restart has the same position (the log
 * pipeline derives its alerts' ids from it). `ack`, set only after `checkpointOnAck()`, says
 * the consumer is done with the line: only then may the checkpoint pass it.
 */
export interface PositionedLine extends RawLine {
  /** `dev:ino:end` of the line in its file. */
  position: string;
  ack?: () => void;
}

/** A checkpoint: which file (device and inode) and how far its lines were accepted. */
interface Position {
  dev: number;
  ino: number;
  offset: number;
}

interface OpenFile {
  file: Deno.FsFile;
  dev: number;
  ino: number;
  splitter: LineSplitter;
}

interface Tailer {
  path: string;
  cur?: OpenFile;
  /** Files rotated away, still read until `until`. */
  retired: (OpenFile & { until: number })[];
  /** End of the last line of `cur` the output channel accepted. */
  accepted?: Position;
  dirty: boolean;
  missingSince?: number;
}

/**
 * Tails files and globs into `RawLine`s, surviving rotation in its usual forms:
 *
 * - rename + create (logrotate `create`): the old file is read to its end, and for
 *   `rotateWaitMs` more, before the new one is read from its start;
 * - copytruncate: a file shorter than the read position is read again from 0;
 * - symlink swap: the path resolving to another file is handled as a rotation;
 * - files appearing later (globs are expanded every poll) are read from their start;
 * - deleted files are read to their end and closed.
 *
 * Positions are checkpointed as (device, inode, offset) only up to lines the output channel
 * has accepted, so a restart neither loses nor repeats a line. Lines are read in chunks at
 * an offset, never a whole file at once; invalid UTF-8 becomes U+FFFD.
 *
 * @example
 * ```ts ignore
 * import { Channel } from "../../core/mod.ts";
 * import { FileTailSource, type RawLine } from "./mod.ts";
 * const out = new Channel<RawLine>("raw", 1024);
 * const src = new FileTailSource({ paths: ["/var/log/auth.log", "/var/log/nginx/*.log"] }, out);
 * await src.start();
 * ```
 */
export class FileTailSource implements LineSource {
  readonly name: string;
  readonly #paths: string[];
  readonly #startAt: "end" | "start";
  readonly #maxLineBytes: number;
  readonly #pollMs: number;
  readonly #checkpoints?: Checkpoints;
  readonly #prefix: string;
  readonly #flushIntervalMs: number;
  readonly #rotateWaitMs: number;
  readonly #format: LineFormat | "auto";
  /** Each path's format, decided by its first line when `format` is "auto". */
  readonly #formats = new Map<string, LineFormat>();
  readonly #stopTimeoutMs: number;
  readonly #out: LineOutput;
  readonly #buf: Uint8Array;
  readonly #sleeper = new Sleeper();
  #watcher?: Deno.FsWatcher;
  #tailers = new Map<string, Tailer>();
  /** Problems by path or pattern; cleared when that path reads fine again. */
  #errors = new Map<string, string>();
  #running = false;
  #stopping = false;
  #loop?: Promise<void>;
  #flushTimer?: ReturnType<typeof setInterval>;
  #flushChain: Promise<void> = Promise.resolve();
  #stats = { ...emptyStats(), rotations: 0, truncations: 0 };
  /** Checkpoints follow the consumer's acks rather than the channel's acceptance. */
  #ackMode = false;
  /** Bumped by copytruncate: an ack for a line of the file's previous content is stale. */
  #epochs = new WeakMap<OpenFile, number>();

  constructor(opts: FileTailOptions, out: Channel<RawLine>) {
    this.name = opts.name ?? "files";
    this.#paths = [...opts.paths];
    this.#startAt = opts.startAt ?? "end";
    this.#maxLineBytes = positiveInt("maxLineBytes", opts.maxLineBytes ?? 65536);
    this.#pollMs = positiveInt("pollMs", opts.pollMs ?? 250);
    this.#checkpoints = opts.checkpoints;
    this.#prefix = opts.checkpointPrefix ?? "logs.files:";
    this.#flushIntervalMs = positiveInt("flushIntervalMs", opts.flushIntervalMs ?? 5000);
    this.#rotateWaitMs = Math.max(0, opts.rotateWaitMs ?? 5000);
    this.#format = opts.format ?? "auto";
    this.#stopTimeoutMs = positiveInt("stopTimeoutMs", opts.stopTimeoutMs ?? 5000);
    this.#buf = new Uint8Array(positiveInt("readChunkBytes", opts.readChunkBytes ?? 65536));
    this.#out = new LineOutput(out, this.#stats);
    for (const p of this.#paths) {
      if (!p.startsWith("/")) {
        throw new IronpostError("E_FILE_PATH", `File path "${p}" must be absolute`, { path: p });
      }
    }
  }

  /**
   * Open the files that exist now and place each at its checkpoint or per `startAt`, then
   * poll. Positions are taken here, not in the first poll, so a line written right after
   * `start()` resolves is read even with `startAt: "end"`.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#out.closed = false;
    this.#tailers = new Map();
    this.#errors.clear();
    await this.#scan(true);
    this.#flushTimer = setInterval(() => void this.#flush(), this.#flushIntervalMs);
    this.#watch();
    this.#loop = this.#run();
  }

  /**
   * Wake the poll loop when a watched directory changes (inotify), so a line is read within
   * milliseconds of being written instead of at the next poll; polling stays the fallback
   * (filesystems without inotify, directories that appear later).
   */
  #watch(): void {
    const dirs = [...new Set(this.#paths.map(globRoot))];
    try {
      const w = Deno.watchFs(dirs, { recursive: false });
      this.#watcher = w;
      void (async () => {
        try {
          for await (const _ of w) this.#sleeper.wake(true);
        } catch {
          // closed at stop, or the directory went away: polling carries on
        }
      })();
    } catch {
      // a directory that does not exist yet: polling finds the files when they appear
    }
  }

  /**
   * Stop polling, write the checkpoints and close the files. A line being handed to a full
   * channel is waited for (up to `stopTimeoutMs`) so the checkpoint includes it when accepted.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#stopping = true;
    this.#sleeper.wake();
    clearInterval(this.#flushTimer);
    try {
      this.#watcher?.close();
    } catch {
      // already closed
    }
    this.#watcher = undefined;
    if (this.#loop && !(await settlesWithin(this.#loop, this.#stopTimeoutMs))) {
      this.#errors.set("stop", "a line was still waiting for the output channel at stop");
    }
    await this.#flush();
    for (const t of this.#tailers.values()) {
      for (const f of [t.cur, ...t.retired]) if (f) closeQuietly(f.file);
      t.cur = undefined;
      t.retired = [];
    }
    this.#running = false;
  }

  /**
   * Checkpoint a line only once the consumer calls its `ack` (see `PositionedLine`), not
   * when the channel accepts it: a crash then re-reads what was queued but not yet handled
   * instead of losing it. Call before `start()`; the consumer must ack every line, in order.
   */
  checkpointOnAck(): void {
    this.#ackMode = true;
  }

  /** Write the positions acked since the last write (e.g. after the consumer drained). */
  flushCheckpoints(): Promise<void> {
    return this.#flush();
  }

  health(): Health {
    if (!this.#running) return { state: "unhealthy", reason: "not running" };
    const closed = this.#out.health();
    if (closed) return closed;
    if (this.#errors.size > 0) {
      return {
        state: "degraded",
        reason: [...this.#errors].map(([k, v]) => `${k}: ${v}`).join("; "),
      };
    }
    return { state: "healthy" };
  }

  stats(): FileTailStats {
    let files = 0;
    for (const t of this.#tailers.values()) if (t.cur) files++;
    return { ...this.#stats, files };
  }

  async #run(): Promise<void> {
    while (!this.#stopping && !this.#out.closed) {
      await this.#scan(false);
      for (const t of [...this.#tailers.values()]) {
        if (this.#stopping || this.#out.closed) break;
        try {
          await this.#poll(t);
          this.#errors.delete(t.path);
        } catch (err) {
          this.#errors.set(t.path, errorMessage(err));
        }
      }
      if (this.#stopping) break;
      await this.#sleeper.sleep(this.#pollMs);
    }
  }

  /** Expand the patterns; start tailing new matches, forget gone ones with nothing open. */
  async #scan(initial: boolean): Promise<void> {
    const matched = new Set<string>();
    for (const pattern of this.#paths) {
      try {
        for (const p of await expandGlob(pattern)) matched.add(p);
        this.#errors.delete(pattern);
      } catch (err) {
        this.#errors.set(pattern, errorMessage(err));
      }
    }
    for (const path of matched) {
      if (this.#tailers.has(path)) continue;
      try {
        await this.#track(path, initial);
      } catch (err) {
        this.#errors.set(path, errorMessage(err));
      }
    }
    for (const [path, t] of this.#tailers) {
      if (!matched.has(path) && !t.cur && t.retired.length === 0) this.#tailers.delete(path);
    }
  }

  /**
   * Start tailing a newly matched path, unless it names a file already open under another
   * name. That happens when a glob also matches rotated names (`app.log*`): after
   * `app.log` → `app.log.1` the file must go on from where it was, not be read again. A file
   * another tailer has rotated away (or whose path vanished) is handed over with its
   * position; one still current elsewhere (not yet seen rotated, or an alias such as a
   * symlink to it) is left alone this round.
   */
  async #track(path: string, initial: boolean): Promise<void> {
    let st: Deno.FileInfo | undefined;
    try {
      st = await Deno.stat(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    const t: Tailer = { path, retired: [], dirty: false };
    if (st?.isFile) {
      const ino = st.ino ?? 0;
      for (const other of this.#tailers.values()) {
        const i = other.retired.findIndex((f) => f.dev === st.dev && f.ino === ino);
        const isCur = other.cur?.dev === st.dev && other.cur.ino === ino;
        if (i === -1 && !isCur) continue;
        if (isCur && other.missingSince === undefined) return;
        const f = isCur ? other.cur! : other.retired.splice(i, 1)[0];
        if (isCur) other.cur = undefined;
        t.cur = { file: f.file, dev: f.dev, ino: f.ino, splitter: f.splitter };
        // Up to the start of a partial last line: that is what was handed over.
        t.accepted = { dev: f.dev, ino: f.ino, offset: f.splitter.position - f.splitter.pending };
        t.dirty = true;
        this.#tailers.set(path, t);
        return;
      }
    }
    this.#tailers.set(path, t);
    await this.#openCurrent(t, initial);
  }

  /**
   * Take the file the path names now as the current one. At start a checkpoint for the same
   * inode resumes it; any other file is new to us and read from 0, except at start without
   * a checkpoint, where `startAt` decides.
   */
  async #openCurrent(t: Tailer, initial: boolean): Promise<void> {
    const saved = initial ? await this.#loadCheckpoint(t.path) : undefined;
    const opened = await openRegular(t.path);
    if (saved && (!opened || !sameFile(saved, opened[1]))) {
      // Rotated while we were down: the checkpointed file, now under a rotated name, is
      // resumed as the current one, so the next poll reads it to its end, sees the path
      // name another file and reads that one from its start (as a rotation seen live).
      const rotated = await findRotated(t.path, saved);
      if (rotated) {
        if (opened) closeQuietly(opened[0]);
        const [file, st] = rotated;
        try {
          await file.seek(saved.offset, Deno.SeekMode.Start);
          this.#adopt(t, file, st, saved.offset);
        } catch (err) {
          closeQuietly(file);
          throw err;
        }
        return;
      }
    }
    if (!opened) return;
    const [file, st] = opened;
    try {
      let offset = 0;
      if (initial) {
        if (saved && sameFile(saved, st)) {
          // Shorter than the checkpoint: truncated while we were down; all of it is new.
          offset = saved.offset <= st.size ? saved.offset : 0;
        } else if (!saved && this.#startAt === "end") {
          offset = st.size;
        }
      }
      if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
      this.#adopt(t, file, st, offset);
    } catch (err) {
      closeQuietly(file);
      throw err;
    }
  }

  #adopt(t: Tailer, file: Deno.FsFile, st: Deno.FileInfo, offset: number): void {
    const dev = st.dev;
    const ino = st.ino ?? 0;
    t.cur = { file, dev, ino, splitter: new LineSplitter(this.#maxLineBytes, { start: offset }) };
    t.accepted = { dev, ino, offset };
    t.dirty = true;
  }

  async #poll(t: Tailer): Promise<void> {
    const now = Date.now();
    for (const r of [...t.retired]) {
      await this.#drain(t, r);
      if (this.#stopping) return;
      if (now >= r.until) {
        await this.#flushPartial(t, r);
        closeQuietly(r.file);
        t.retired.splice(t.retired.indexOf(r), 1);
      }
    }
    if (!t.cur) {
      await this.#openCurrent(t, false);
      if (!t.cur) return;
    }
    const cur = t.cur;
    // Open what the path names rather than stat it: if it is another file we then hold it,
    // even if it is renamed away again while we finish the old one.
    const named = await openRegular(t.path);
    if (named && (named[1].dev !== cur.dev || (named[1].ino ?? 0) !== cur.ino)) {
      // Rotated: finish what the old file holds before anything of the new one.
      try {
        await this.#drain(t, cur);
      } catch (err) {
        closeQuietly(named[0]);
        throw err;
      }
      this.#stats.rotations++;
      t.retired.push({ ...cur, until: now + this.#rotateWaitMs });
      this.#adopt(t, named[0], named[1], 0);
      t.missingSince = undefined;
      if (!this.#stopping) await this.#drain(t, t.cur!);
      return;
    }
    if (named) closeQuietly(named[0]);
    const st = await cur.file.stat();
    if (st.size < cur.splitter.position) {
      // copytruncate: the file was emptied under us; what is there now is new.
      this.#stats.truncations++;
      this.#epochs.set(cur, (this.#epochs.get(cur) ?? 0) + 1);
      await cur.file.seek(0, Deno.SeekMode.Start);
      cur.splitter.reset(0);
      t.accepted = { dev: cur.dev, ino: cur.ino, offset: 0 };
      t.dirty = true;
    }
    await this.#drain(t, cur);
    if (named) {
      t.missingSince = undefined;
      return;
    }
    // The path is gone: deleted (no links left) or renamed with nothing created yet.
    t.missingSince ??= now;
    if (st.nlink === 0 || now - t.missingSince >= this.#rotateWaitMs) {
      await this.#flushPartial(t, cur);
      closeQuietly(cur.file);
      t.cur = undefined;
      t.missingSince = undefined;
    }
  }

  /** Read `of` to its current end, handing each complete line to the channel. */
  async #drain(t: Tailer, of: OpenFile): Promise<void> {
    while (!this.#stopping && !this.#out.closed) {
      const n = await of.file.read(this.#buf);
      if (n === null || n === 0) return;
      for (const line of of.splitter.push(this.#buf.subarray(0, n))) {
        if (!(await this.#emit(t, of, line))) return;
      }
    }
  }

  /** A file that will not grow any more: its unterminated last line is a line too. */
  async #flushPartial(t: Tailer, of: OpenFile): Promise<void> {
    const line = of.splitter.flush();
    if (line) await this.#emit(t, of, line);
  }

  #formatOf(path: string, line: string): LineFormat {
    if (this.#format !== "auto") return this.#format;
    let f = this.#formats.get(path);
    if (f === undefined) this.#formats.set(path, f = sniffFormat(line));
    return f;
  }

  async #emit(t: Tailer, of: OpenFile, l: SplitLine): Promise<boolean> {
    // Checked per line: lines not handed over stay after the checkpoint and are read again.
    if (this.#stopping) return false;
    const line = this.#out.decoder.decode(l.bytes);
    const raw: PositionedLine = {
      source: `file:${t.path}`,
      line,
      receivedAt: Date.now(),
      format: this.#formatOf(t.path, line),
      position: `${of.dev}:${of.ino}:${l.end}`,
    };
    if (l.truncated) raw.truncated = true;
    const advance = () => {
      if (t.cur === of) {
        t.accepted = { dev: of.dev, ino: of.ino, offset: l.end };
        t.dirty = true;
      }
    };
    if (this.#ackMode) {
      const epoch = this.#epochs.get(of) ?? 0;
      raw.ack = () => {
        if ((this.#epochs.get(of) ?? 0) === epoch) advance();
      };
    }
    if (!(await this.#out.send(raw, l.bytes.length))) return false;
    if (!this.#ackMode) advance();
    return true;
  }

  async #loadCheckpoint(path: string): Promise<Position | undefined> {
    if (!this.#checkpoints) return undefined;
    const raw = await this.#checkpoints.get(this.#prefix + path);
    if (raw === undefined) return undefined;
    try {
      const p = JSON.parse(raw) as Partial<Position>;
      if ([p.dev, p.ino, p.offset].every((v) => Number.isSafeInteger(v) && v! >= 0)) {
        return p as Position;
      }
    } catch {
      // fall through: a damaged checkpoint is reported and ignored
    }
    this.#errors.set(`checkpoint ${path}`, `ignored invalid value ${JSON.stringify(raw)}`);
    return undefined;
  }

  /** Write changed positions; flushes run one after another, never overlapping. */
  #flush(): Promise<void> {
    this.#flushChain = this.#flushChain.then(async () => {
      if (!this.#checkpoints) return;
      for (const t of this.#tailers.values()) {
        if (!t.dirty || !t.accepted) continue;
        t.dirty = false;
        try {
          await this.#checkpoints.set(this.#prefix + t.path, JSON.stringify(t.accepted));
          this.#errors.delete(`checkpoint ${t.path}`);
        } catch (err) {
          t.dirty = true;
          this.#errors.set(`checkpoint ${t.path}`, errorMessage(err));
        }
      }
    });
    return this.#flushChain;
  }
}

function sameFile(p: Position, st: Deno.FileInfo): boolean {
  return p.dev === st.dev && p.ino === (st.ino ?? 0);
}

/** Suffixes of rotated files that were compressed: a new file, never the checkpointed one. */
const COMPRESSED = /\.(gz|xz|bz2|zst|lz4|lzma|z|zip)$/i;

/**
 * The file checkpointed at `p`, if it is now under a rotated name beside `path`
 * (`auth.log.1`, `auth.log-20240101`; compressed siblings are not looked at) and not shorter
 * than the checkpoint: opened, with its info.
 */
async function findRotated(
  path: string,
  p: Position,
): Promise<[Deno.FsFile, Deno.FileInfo] | undefined> {
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash) || "/";
  const base = path.slice(slash + 1);
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.length > base.length && e.name.startsWith(base) && !COMPRESSED.test(e.name)) {
        names.push(e.name);
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotCapable) {
      return undefined;
    }
    throw err;
  }
  // Nearest rotation first: auth.log.1 before auth.log.2.
  names.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const sib = `${dir === "/" ? "" : dir}/${name}`;
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(sib);
    } catch {
      continue;
    }
    if (!st.isFile || !sameFile(p, st) || st.size < p.offset) continue;
    const opened = await openRegular(sib);
    if (opened && sameFile(p, opened[1])) return opened;
    if (opened) closeQuietly(opened[0]);
  }
  return undefined;
}

function closeQuietly(f: Deno.FsFile): void {
  try {
    f.close();
  } catch {
    // already closed
  }
}

/** Open `path` for reading if it is a regular file now; undefined if missing or not a file. */
async function openRegular(path: string): Promise<[Deno.FsFile, Deno.FileInfo] | undefined> {
  let file: Deno.FsFile;
  try {
    // stat first: opening a FIFO a glob happened to match would block until a writer came.
    if (!(await Deno.stat(path)).isFile) return undefined;
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const st = await file.stat();
    if (st.isFile) return [file, st];
    file.close();
    return undefined;
  } catch (err) {
    closeQuietly(file);
    throw err;
  }
}
