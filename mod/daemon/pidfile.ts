import { dirname } from "node:path";
import { IronpostError } from "../core/mod.ts";

/** Whether a process with this PID exists (reads /proc, needs no signal permission). */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Read the PID recorded in a PID file, or undefined when absent or unreadable as a PID. */
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
 * The agent's PID file: created with an exclusive create so two agents can never both
 * believe they own it, refused while the recorded PID is alive, replaced when stale.
 */
export class PidFile {
  readonly path: string;
  #released = false;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Create the PID file for this process.
   * @param onStale called with the dead PID (or undefined for garbage) before replacing it
   */
  static async acquire(
    path: string,
    onStale: (pid: number | undefined) => void = () => {},
  ): Promise<PidFile> {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const f = await Deno.open(path, { createNew: true, write: true, mode: 0o644 });
        try {
          await f.write(new TextEncoder().encode(`${Deno.pid}\n`));
        } finally {
          f.close();
        }
        return new PidFile(path);
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) {
          throw new IronpostError(
            "E_PIDFILE",
            `Cannot create PID file ${path}: ${err instanceof Error ? err.message : err}`,
            { path, hint: "set general.pid_file to a writable path, or run as root" },
            { cause: err },
          );
        }
      }
      const pid = await readPid(path);
      if (pid !== undefined && pid !== Deno.pid && await processAlive(pid)) {
        throw new IronpostError(
          "E_ALREADY_RUNNING",
          `Ironpost is already running with PID ${pid} (PID file ${path}); ` +
            "stop it with `ironpost stop` first",
          { pid, path },
        );
      }
      onStale(pid);
      try {
        await Deno.remove(path);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    throw new IronpostError(
      "E_PIDFILE",
      `PID file ${path} keeps reappearing; another agent may be starting at the same time`,
      { path },
    );
  }

  /** Remove the file if it still names this process. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (await readPid(this.path) === Deno.pid) {
      await Deno.remove(this.path).catch(() => {});
    }
  }
}
