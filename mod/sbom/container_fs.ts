/**
 * A running container's root filesystem, as a directory the inventory walker can read: the
 * overlay2 merged directory Docker names (read in place, nothing copied), or else the files
 * the extractors want out of a `docker export` stream, written to a temporary directory.
 * Docker is reached through the shared container inventory (`ContainerLookup`), over the
 * Docker socket.
 */
import { dirname, join } from "node:path";
import {
  type ContainerFilesystem,
  type ContainerLookup,
  errorMessage,
  IronpostError,
} from "../core/mod.ts";
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

/** What Docker tells the scanner about one container. */
export type InspectedContainer = ContainerFilesystem;

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

/** How an export is kept. */
export interface ContainerFsOptions {
  /** Where an export's temporary directory is made (default: the system's). */
  tempDir?: string;
  /** Skip the merged directory and always export (the fallback, forced; for tests). */
  preferExport?: boolean;
  /** Which container paths (`/var/lib/dpkg/status`) an export keeps; default `wantedPath`. */
  wanted?: (path: string) => boolean;
  /** Largest file an export keeps (default 64 MiB, the walker's own cap). */
  maxFileBytes?: number;
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

/**
 * A typed scan error for what the container inventory threw: `E_SCAN_PERMISSION` when Deno's
 * permissions refused the Docker socket, else `E_DOCKER`.
 */
function dockerError(e: unknown, what: string): SbomScanError {
  if (e instanceof SbomScanError) return e;
  let cause: unknown = e;
  while (cause instanceof Error && !(cause instanceof Deno.errors.NotCapable)) cause = cause.cause;
  if (cause instanceof Deno.errors.NotCapable) {
    return new SbomScanError(
      "E_SCAN_PERMISSION",
      `${what}: talking to Docker is outside this agent's Deno permissions (${
        errorMessage(e)
      }); container scans need the container inventory's grants: --allow-read, ` +
        "--allow-write and --allow-net=unix: for the Docker socket, and --allow-env " +
        "([sbom] enabled with scan_containers = true grants them)",
      { flag: "--allow-net=unix:/var/run/docker.sock" },
      { cause: e },
    );
  }
  const code = e instanceof IronpostError ? ` (${e.code})` : "";
  return new SbomScanError("E_DOCKER", `${what}: ${errorMessage(e)}${code}`, {}, { cause: e });
}

/**
 * Docker's view of one container by name or id (a unique id prefix works too).
 *
 * @throws {SbomScanError} `E_CONTAINER_NOT_FOUND`, `E_DOCKER`, `E_SCAN_PERMISSION`.
 */
export async function inspectContainer(
  ref: string,
  containers: ContainerLookup,
): Promise<InspectedContainer> {
  let c: ContainerFilesystem | undefined;
  try {
    c = await containers.inspectFilesystem(ref);
  } catch (e) {
    throw dockerError(e, `inspecting container ${ref}`);
  }
  if (c === undefined) {
    throw new SbomScanError("E_CONTAINER_NOT_FOUND", `No container named or with id "${ref}"`, {
      container: ref,
    });
  }
  return c;
}

/**
 * The containers running now, as the shared inventory knows them.
 *
 * @example
 * ```ts ignore
 * import { listRunningContainers } from "./container_fs.ts";
 * for (const c of listRunningContainers(containers)) console.log(c.name, c.image);
 * ```
 */
export function listRunningContainers(
  containers: ContainerLookup,
): (ContainerIdentity & { running: true })[] {
  return containers.list().filter((c) => c.state === "running").map((c) => ({
    id: c.id,
    name: c.name,
    image: c.image,
    running: true,
  }));
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
 * const fs = await openContainerRoot("web-1", containers);
 * try {
 *   console.log(fs.method, fs.root, fs.container.image);
 * } finally {
 *   await fs.release();
 * }
 * ```
 */
export async function openContainerRoot(
  ref: string,
  containers: ContainerLookup,
  opts: ContainerFsOptions = {},
): Promise<ContainerRoot> {
  const c = await inspectContainer(ref, containers);
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
  return await exportRoot(identity, containers, opts);
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
  containers: ContainerLookup,
  opts: ContainerFsOptions,
): Promise<ContainerRoot> {
  const wanted = opts.wanted ?? wantedPath;
  const maxBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
  if (opts.tempDir !== undefined) await Deno.mkdir(opts.tempDir, { recursive: true });
  const root = await Deno.makeTempDir({ dir: opts.tempDir, prefix: "ironpost-export-" });
  const release = () => Deno.remove(root, { recursive: true }).catch(() => {});
  const skipped: string[] = [];
  const signal = AbortSignal.timeout(opts.exportTimeoutMs ?? 600_000);
  let tar: ReadableStream<Uint8Array>;
  try {
    tar = await containers.exportFilesystem(container.id, signal);
  } catch (e) {
    await release();
    throw dockerError(e, `docker export ${container.name}`);
  }
  const written = new Set<string>();
  try {
    for await (const item of readTar(tar)) {
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
    await release();
    if (e instanceof SbomScanError) throw e;
    throw new SbomScanError(
      "E_CONTAINER_EXPORT",
      `Exporting container ${container.name}: ${errorMessage(e)}`,
      { container: container.id },
      { cause: e },
    );
  }
  return { container, root, method: "export", skipped, release };
}
