/**
 * A running container's root filesystem, as a directory the inventory walker can read: the
 * overlay2 merged directory `docker inspect` names (read in place, nothing copied), or else
 * the files the extractors want out of a `docker export` stream, written to a temporary
 * directory. Docker is driven through its CLI (an argv array, never a shell), so the agent
 * needs only `--allow-run=docker` for it.
 */
import { dirname, join } from "node:path";
import { EXTRACTORS } from "./inventory/mod.ts";
import { SbomScanError } from "./scan_error.ts";
import { readTar } from "./tar_stream.ts";

/** Which container a component was found in. */
export interface ContainerIdentity {
  /** Full 64-hex id. */
  id: string;
  /** Name without Docker's leading `/`. */
  name: string;
  /** Image reference as the container was created from (`nginx:1.25`). */
  image: string;
}

/** What `docker inspect` tells the scanner about one container. */
export interface InspectedContainer extends ContainerIdentity {
  running: boolean;
  /** Storage driver (`overlay2`), when Docker reports one. */
  driver?: string;
  /** The overlay merged directory, while the container runs on overlay2. */
  mergedDir?: string;
}

/** A container's root filesystem opened for a scan; `release()` when done. */
export interface ContainerRoot {
  container: ContainerIdentity;
  /** Directory to walk: the merged dir, or a temporary directory holding the export. */
  root: string;
  method: "merged" | "export";
  /** Export only: files left out for being over `maxFileBytes` (container paths). */
  skipped: string[];
  /** Removes an export's temporary directory; nothing for a merged dir. */
  release(): Promise<void>;
}

/** How Docker is reached and how an export is kept. */
export interface ContainerFsOptions {
  /** The docker CLI to run (default `docker`, found on PATH). */
  docker?: string;
  /** Where an export's temporary directory is made (default: the system's). */
  tempDir?: string;
  /** Skip the merged directory and always export (the fallback, forced; for tests). */
  preferExport?: boolean;
  /** Which container paths (`/var/lib/dpkg/status`) an export keeps; default `wantedPath`. */
  wanted?: (path: string) => boolean;
  /** Largest file an export keeps (default 64 MiB, the walker's own cap). */
  maxFileBytes?: number;
  /** For `inspect` and `ps` (default 30 s). */
  timeoutMs?: number;
  /** For a whole `docker export` (default 10 min). */
  exportTimeoutMs?: number;
}

const OS_RELEASE = ["/etc/os-release", "/usr/lib/os-release"];

/**
 * True for the container paths a scan reads: any extractor's file, and `os-release` (the
 * Debian release for matching).
 *
 * @example
 * ```ts
 * import { wantedPath } from "./container_fs.ts";
 * console.assert(wantedPath("/var/lib/dpkg/status") && wantedPath("/usr/lib/os-release"));
 * console.assert(!wantedPath("/bin/busybox"));
 * ```
 */
export function wantedPath(path: string): boolean {
  return OS_RELEASE.includes(path) || EXTRACTORS.some((e) => e.fileRequired(path));
}

interface DockerOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker <args>` to completion, failures typed. */
async function runDocker(
  args: string[],
  opts: ContainerFsOptions,
): Promise<DockerOutput> {
  const cli = opts.docker ?? "docker";
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cli, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    }).output();
  } catch (e) {
    throw dockerSpawnError(cli, e);
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr).trim() };
}

function dockerSpawnError(cli: string, e: unknown): SbomScanError {
  if (e instanceof Deno.errors.NotCapable) {
    return new SbomScanError(
      "E_SCAN_PERMISSION",
      `Running ${cli} is outside this agent's Deno permissions: container scans need ` +
        `--allow-run=${cli} ([sbom] enabled with scan_containers = true grants it)`,
      { flag: `--allow-run=${cli}` },
      { cause: e },
    );
  }
  if (e instanceof Deno.errors.NotFound) {
    return new SbomScanError(
      "E_DOCKER",
      `The docker CLI (${cli}) is not installed or not on PATH`,
      {},
      { cause: e },
    );
  }
  return new SbomScanError(
    "E_DOCKER",
    `Cannot run ${cli}: ${e instanceof Error ? e.message : String(e)}`,
    {},
    { cause: e },
  );
}

interface InspectJson {
  Id?: string;
  Name?: string;
  Config?: { Image?: string };
  State?: { Running?: boolean };
  GraphDriver?: { Name?: string; Data?: Record<string, string> | null };
}

function toInspected(j: InspectJson): InspectedContainer {
  const c: InspectedContainer = {
    id: j.Id ?? "",
    name: (j.Name ?? "").replace(/^\//, ""),
    image: j.Config?.Image ?? "",
    running: j.State?.Running === true,
  };
  if (j.GraphDriver?.Name) c.driver = j.GraphDriver.Name;
  const merged = j.GraphDriver?.Data?.MergedDir;
  if (merged) c.mergedDir = merged;
  return c;
}

/**
 * `docker inspect` of one container by name or id (a unique id prefix works too).
 *
 * @throws {SbomScanError} `E_CONTAINER_NOT_FOUND`, `E_DOCKER`, `E_SCAN_PERMISSION`.
 */
export async function inspectContainer(
  ref: string,
  opts: ContainerFsOptions = {},
): Promise<InspectedContainer> {
  const out = await runDocker(["inspect", "--type", "container", "--", ref], opts);
  if (out.code !== 0) {
    if (/no such (object|container)/i.test(out.stderr)) {
      throw new SbomScanError("E_CONTAINER_NOT_FOUND", `No container named or with id "${ref}"`, {
        container: ref,
      });
    }
    throw new SbomScanError("E_DOCKER", `docker inspect ${ref} failed: ${out.stderr}`, {
      container: ref,
    });
  }
  const list = JSON.parse(out.stdout) as InspectJson[];
  if (list.length === 0) {
    throw new SbomScanError("E_CONTAINER_NOT_FOUND", `No container named or with id "${ref}"`, {
      container: ref,
    });
  }
  return toInspected(list[0]);
}

/**
 * The containers running now (`docker ps`, then one `docker inspect` for all of them).
 *
 * @throws {SbomScanError} `E_DOCKER` (the daemon is down), `E_SCAN_PERMISSION`.
 */
export async function listRunningContainers(
  opts: ContainerFsOptions = {},
): Promise<InspectedContainer[]> {
  const ps = await runDocker(["ps", "-q", "--no-trunc"], opts);
  if (ps.code !== 0) throw new SbomScanError("E_DOCKER", `docker ps failed: ${ps.stderr}`);
  const ids = ps.stdout.split("\n").map((s) => s.trim()).filter((s) => s !== "");
  if (ids.length === 0) return [];
  const out = await runDocker(["inspect", "--type", "container", "--", ...ids], opts);
  // A container that stopped between ps and inspect makes inspect exit 1 but still print
  // the others.
  let list: InspectJson[] = [];
  try {
    list = JSON.parse(out.stdout || "[]") as InspectJson[];
  } catch {
    throw new SbomScanError("E_DOCKER", `docker inspect failed: ${out.stderr}`);
  }
  return list.map(toInspected).filter((c) => c.running);
}

/**
 * The root filesystem of the running container `ref` (name or id): the overlay2 merged
 * directory when this process can read it, else an export of the files `wanted` selects
 * (`docker export`, streamed; nothing else is written, no link is recreated, and no path may
 * leave the temporary directory).
 *
 * @throws {SbomScanError} `E_CONTAINER_NOT_FOUND`, `E_CONTAINER_NOT_RUNNING`,
 * `E_CONTAINER_EXPORT`, `E_DOCKER`, `E_SCAN_PERMISSION`.
 * @example
 * ```ts ignore
 * import { openContainerRoot } from "./container_fs.ts";
 * const fs = await openContainerRoot("web-1");
 * try {
 *   console.log(fs.method, fs.root, fs.container.image);
 * } finally {
 *   await fs.release();
 * }
 * ```
 */
export async function openContainerRoot(
  ref: string,
  opts: ContainerFsOptions = {},
): Promise<ContainerRoot> {
  const c = await inspectContainer(ref, opts);
  if (!c.running) {
    throw new SbomScanError(
      "E_CONTAINER_NOT_RUNNING",
      `Container ${c.name} (${
        c.id.slice(0, 12)
      }) is not running; only running containers are scanned`,
      { container: ref },
    );
  }
  const identity: ContainerIdentity = { id: c.id, name: c.name, image: c.image };
  if (!opts.preferExport && c.mergedDir !== undefined && await readableDir(c.mergedDir)) {
    return {
      container: identity,
      root: c.mergedDir,
      method: "merged",
      skipped: [],
      release: () => Promise.resolve(),
    };
  }
  return await exportRoot(identity, opts);
}

/** Whether the merged dir can be listed here (root, and inside the read permissions). */
async function readableDir(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) break;
    return true;
  } catch {
    // NotCapable (outside --allow-read), PermissionDenied (not root), NotFound (another
    // mount namespace, or the container stopped): the export works in each case.
    return false;
  }
}

/** A path inside the archive that stays inside the directory it is written to. */
function safeRelative(path: string): string | undefined {
  if (path === "" || path.split("/").some((s) => s === ".." || s === "")) return undefined;
  return path;
}

async function exportRoot(
  container: ContainerIdentity,
  opts: ContainerFsOptions,
): Promise<ContainerRoot> {
  const wanted = opts.wanted ?? wantedPath;
  const maxBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
  const cli = opts.docker ?? "docker";
  if (opts.tempDir !== undefined) await Deno.mkdir(opts.tempDir, { recursive: true });
  const root = await Deno.makeTempDir({ dir: opts.tempDir, prefix: "ironpost-export-" });
  const release = () => Deno.remove(root, { recursive: true }).catch(() => {});
  const skipped: string[] = [];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cli, {
      args: ["export", "--", container.id],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.exportTimeoutMs ?? 600_000),
    }).spawn();
  } catch (e) {
    await release();
    throw dockerSpawnError(cli, e);
  }
  const stderr = new Response(child.stderr).text();
  const written = new Set<string>();
  try {
    for await (const item of readTar(child.stdout)) {
      const rel = safeRelative(item.entry.path);
      if (rel === undefined || !wanted(`/${rel}`)) continue;
      const dest = join(root, rel);
      if (item.entry.type === "file") {
        if (item.entry.size > maxBytes) {
          skipped.push(`/${rel}`);
          continue;
        }
        const body = await item.read();
        await Deno.mkdir(dirname(dest), { recursive: true });
        await Deno.writeFile(dest, body, { mode: 0o600 });
        written.add(rel);
      } else if (item.entry.type === "hardlink") {
        // A hard link names an earlier member; copy it when that one was kept.
        const target = safeRelative(item.entry.linkName.replace(/^(\.\/|\/)+/, ""));
        if (target !== undefined && written.has(target)) {
          await Deno.mkdir(dirname(dest), { recursive: true });
          await Deno.copyFile(join(root, target), dest);
          written.add(rel);
        }
      }
    }
  } catch (e) {
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.status;
    await stderr;
    await release();
    if (e instanceof SbomScanError) throw e;
    throw new SbomScanError(
      "E_CONTAINER_EXPORT",
      `Exporting container ${container.name}: ${e instanceof Error ? e.message : String(e)}`,
      { container: container.id },
      { cause: e },
    );
  }
  const status = await child.status;
  const why = await stderr;
  if (!status.success) {
    await release();
    throw new SbomScanError(
      "E_CONTAINER_EXPORT",
      `docker export ${container.name} failed (${status.code}): ${why.trim()}`,
      { container: container.id },
    );
  }
  return { container, root, method: "export", skipped, release };
}
