/**
 * Whether a file the agent takes instructions from (its config, its rules, its response
 * policies) may be trusted. A file anyone else can write is a way to turn the agent (often
 * root) against the host, so it is refused rather than warned about.
 *
 * This file imports nothing, so any part of Ironpost may share it.
 * @module
 */

/**
 * Why a path must not be trusted, from its `stat`, or undefined when it may be: writable by
 * group or others, or (when the agent runs as root) owned by another user.
 *
 * @example
 * ```ts
 * import { unsafeStat } from "./file_safety.ts";
 * const st = { mode: 0o100666, uid: 0 } as Deno.FileInfo;
 * console.assert(unsafeStat("/r.yml", st, true) === "/r.yml is writable by group and others (mode 0666)");
 * ```
 */
export function unsafeStat(
  path: string,
  st: Pick<Deno.FileInfo, "mode" | "uid">,
  runningAsRoot: boolean,
): string | undefined {
  const mode = (st.mode ?? 0) & 0o777;
  const writers = [mode & 0o020 ? "group" : "", mode & 0o002 ? "others" : ""].filter(Boolean);
  if (writers.length > 0) {
    return `${path} is writable by ${writers.join(" and ")} (mode ${octal(mode)})`;
  }
  if (runningAsRoot && st.uid !== null && st.uid !== undefined && st.uid !== 0) {
    return `${path} is owned by uid ${st.uid}, not root, while the agent runs as root`;
  }
  return undefined;
}

/**
 * Why a config file or a rules/policies directory must not be trusted, or undefined when it
 * may be (or does not exist).
 */
export async function unsafeReason(
  path: string,
  runningAsRoot: boolean,
): Promise<string | undefined> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  return unsafeStat(path, st, runningAsRoot);
}

/** One untrusted path found under a trusted directory. */
export interface UnsafeEntry {
  path: string;
  reason: string;
}

/** How many files and directories `unsafeTree` looks at before it stops, by default. */
export const TREE_MAX_ENTRIES = 50_000;

/**
 * Every file and directory at or under `root` (recursively, as rules load) that must not be
 * trusted, in sorted order; empty when all may be, or when `root` does not exist. Symbolic
 * links are judged by what they point to and not followed into. A tree of more than
 * `maxEntries` entries is itself refused (one entry for `root`), so the walk is bounded.
 * Entries that cannot be read are left to the loader, which reports them with its own error.
 *
 * @example
 * ```ts ignore
 * import { unsafeTree } from "./file_safety.ts";
 * for (const e of await unsafeTree("/etc/ironpost/rules", Deno.uid() === 0)) {
 *   console.error(`refused: ${e.reason}`);
 * }
 * ```
 */
export async function unsafeTree(
  root: string,
  runningAsRoot: boolean,
  maxEntries = TREE_MAX_ENTRIES,
): Promise<UnsafeEntry[]> {
  const out: UnsafeEntry[] = [];
  let seen = 0;
  const judge = (path: string, st: Deno.FileInfo) => {
    const reason = unsafeStat(path, st, runningAsRoot);
    if (reason) out.push({ path, reason });
  };
  const walk = async (dir: string): Promise<boolean> => {
    const names: { name: string; isSymlink: boolean; isDirectory: boolean }[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (++seen > maxEntries) return false;
        names.push(e);
      }
    } catch {
      return true;
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of names) {
      const p = `${dir.replace(/\/+$/, "")}/${e.name}`;
      let st: Deno.FileInfo;
      try {
        st = await Deno.stat(p);
      } catch {
        continue;
      }
      judge(p, st);
      if (e.isDirectory && !e.isSymlink && !(await walk(p))) return false;
    }
    return true;
  };
  let top: Deno.FileInfo;
  try {
    top = await Deno.stat(root);
  } catch {
    return [];
  }
  judge(root, top);
  if (top.isDirectory && !(await walk(root))) {
    out.push({
      path: root,
      reason: `${root} holds more than ${maxEntries} files and directories`,
    });
  }
  return out;
}

/** What a safe path looks like, with the commands that make it so. */
export function safeExpectation(path: string): string {
  return `owned by root and not writable by group or others (chown root ${path}; chmod go-w ${path})`;
}

/** A mode as four octal digits: `0644`. */
export function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}
