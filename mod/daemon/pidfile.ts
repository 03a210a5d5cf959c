import { dirname } from "node:path";
import { IronpostError } from "../core/mod.ts";

/** Read the PID recorded in a PID file, or undefined when absent or not a PID. */
export async function readPid(path: string): Promise<number | undefined> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * The PID of the agent holding this PID file, or undefined when none does.
 *
 * A live agent keeps an exclusive lock on its PID file; the kernel drops it when the
 * process dies, even on `kill -9`. That answers "is it alive?" without /proc (which Deno
 * only opens under --allow-all) or signals, and a recycled PID cannot fool it.
 */
export async function runningAgentPid(path: string): Promise<number | undefined> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true, write: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    if (await f.tryLock(true)) return undefined;
    return await readPid(path) ?? -1;
  } finally {
    f.close();
  }
}

/**
 * The agent's PID file: created with an exclusive create, locked for the agent's lifetime,
 * refused while another agent holds it, replaced (with a warning) when stale.
 */
export class PidFile {
  readonly path: string;
  #file: Deno.FsFile | undefined;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Create and lock the PID file for this process.
   * @param onStale called with the dead agent's PID (undefined when unreadable) before the
   *   stale file is replaced
   */
  static async acquire(
    path: string,
    onStale: (pid: number | undefined) => void = () => {},
  ): Promise<PidFile> {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
    for (let attempt = 0; attempt < 50; attempt++) {
      let f: Deno.FsFile;
      try {
        f = await Deno.open(path, { createNew: true, read: true, write: true, mode: 0o644 });
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) {
          throw new IronpostError(
            "E_PIDFILE",
            `Cannot create PID file ${path}: ${err instanceof Error ? err.message : err}`,
            { path, hint: "set general.pid_file to a writable path, or run as root" },
            { cause: err },
          );
        }
        const holder = await runningAgentPid(path);
        if (holder === -1) {
          // Locked but not yet written: another agent is between create and write.
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        if (holder !== undefined) {
          throw new IronpostError(
            "E_ALREADY_RUNNING",
            `Ironpost is already running with PID ${holder} (PID file ${path}); ` +
              "stop it with `ironpost stop` first",
            { pid: holder, path },
          );
        }
        onStale(await readPid(path));
        await Deno.remove(path).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
        continue;
      }
      if (!(await f.tryLock(true))) {
        // Another agent locked the file we just created; let it win.
        f.close();
        continue;
      }
      await f.write(new TextEncoder().encode(`${Deno.pid}\n`));
      return new PidFile(path, f);
    }
    throw new IronpostError(
      "E_PIDFILE",
      `PID file ${path} keeps changing; another agent may be starting at the same time`,
      { path },
    );
  }

  /** Remove the file (if it still names this process) and drop the lock. */
  async release(): Promise<void> {
    const f = this.#file;
    if (!f) return;
    this.#file = undefined;
    if (await readPid(this.path) === Deno.pid) {
      await Deno.remove(this.path).catch(() => {});
    }
    f.close();
  }
}
