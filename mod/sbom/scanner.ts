/**
 * The scan pipeline: inventory a directory or a running container's root filesystem, look
 * every component up in the local OSV index, keep the records that match it (each
 * ecosystem's own version order; Debian narrowed to the release in the scanned root's
 * `os-release`), rate them, and merge the findings that are one vulnerability under several
 * ids. The CLI (`ironpost scan`) and the agent's module both run this.
 */
import type { Component } from "./component.ts";
import type { Finding } from "./finding.ts";
import {
  type Extractor,
  EXTRACTORS,
  inventoryDir,
  type InventoryOptions,
} from "./inventory/mod.ts";
import { nodeModulesPackageJson } from "./inventory/package_json.ts";
import {
  type IndexedRecord,
  matchRecord,
  mergeAliases,
  type OsvRecord,
  packageKey,
} from "./osv/mod.ts";
import { type ScanError, type ScanResult, toScanError } from "./report/json.ts";
import type { ScanSubject } from "./report/subject.ts";
import { type ContainerFsOptions, type ContainerRoot, openContainerRoot } from "./container_fs.ts";
import { type ContainerLookup, errorMessage } from "../core/mod.ts";
import { SbomScanError } from "./scan_error.ts";

/** A path inside an installed npm package's own folder (`node_modules/x/…`). */
const INSIDE_NPM_PACKAGE = /(^|\/)node_modules\/(@[^/]+\/)?[^/.][^/]*\//;

/**
 * The extractors a scan runs: every format, except that files inside an installed npm
 * package other than its `package.json` are left alone. Packages publish their own
 * development lockfiles (`uri-js` ships a `yarn.lock` of 300 packages), which describe
 * nothing installed; the packages that are installed each have their own `package.json`,
 * and npm's hidden lockfile `node_modules/.package-lock.json` is still read.
 *
 * @example
 * ```ts
 * import { SCAN_EXTRACTORS } from "./scanner.ts";
 * const wants = (p: string) => SCAN_EXTRACTORS.some((e) => e.fileRequired(p));
 * console.assert(wants("/srv/app/yarn.lock") && wants("/srv/app/node_modules/.package-lock.json"));
 * console.assert(wants("/srv/app/node_modules/uri-js/package.json"));
 * console.assert(!wants("/srv/app/node_modules/uri-js/yarn.lock"));
 * ```
 */
export const SCAN_EXTRACTORS: readonly Extractor[] = EXTRACTORS.map((e) =>
  e === nodeModulesPackageJson ? e : {
    ...e,
    fileRequired: (path: string) => !INSIDE_NPM_PACKAGE.test(path) && e.fileRequired(path),
  }
);

/** What the scanner needs of the vulnerability index (`VulnDb` from `osv/` is one). */
export interface VulnLookup {
  /** Records naming the package, each with its severity, withdrawn ones left out. */
  entriesFor(ecosystem: string, name: string): IndexedRecord[];
}

/** Options of `findVulnerabilities`. */
export interface FindOptions {
  /** Debian release the components come from (`"12"`); unset, every release's records apply. */
  debianRelease?: string;
}

/**
 * The findings of `components` against `db`: every record `matchRecord` says affects a
 * component, rated with the severity the index computed for it (`severityOf` at build time),
 * then merged by alias (`mergeAliases`). Each package is looked up once however many
 * versions or files name it.
 *
 * @example
 * ```ts
 * import { findVulnerabilities } from "./scanner.ts";
 * const record = { id: "GHSA-x", modified: "2024-01-01T00:00:00Z", aliases: ["CVE-2024-1"],
 *   affected: [{ package: { ecosystem: "npm", name: "left-pad" },
 *     ranges: [{ type: "SEMVER" as const, events: [{ introduced: "0" }, { fixed: "1.3.0" }] }] }] };
 * const db = { entriesFor: () => [{ record, severity: "high" as const }] };
 * const [f] = findVulnerabilities([{ name: "left-pad", version: "1.1.0", ecosystem: "npm",
 *   origin: { file: "package-lock.json", line: 7 }, groups: [] }], db);
 * console.assert(f.id === "GHSA-x" && f.fixedVersion === "1.3.0" && f.aliases[0] === "CVE-2024-1");
 * ```
 */
export function findVulnerabilities(
  components: readonly Component[],
  db: VulnLookup,
  options: FindOptions = {},
): Finding[] {
  const cache = new Map<string, IndexedRecord[]>();
  const findings: Finding[] = [];
  const match = options.debianRelease !== undefined ? { debianRelease: options.debianRelease } : {};
  for (const component of components) {
    if (component.version === "" && component.commit === undefined) continue;
    const key = packageKey(component.ecosystem, component.name);
    let entries = cache.get(key);
    if (entries === undefined) {
      entries = db.entriesFor(component.ecosystem, component.name);
      cache.set(key, entries);
    }
    for (const entry of entries) {
      const m = matchRecord(entry.record, component, match);
      if (m === null) continue;
      const f: Finding = {
        id: entry.record.id,
        aliases: [...(entry.record.aliases ?? [])],
        summary: summaryOf(entry.record),
        component,
        severity: entry.severity,
      };
      if (entry.score !== undefined) f.score = entry.score;
      if (entry.vector !== undefined) f.vector = entry.vector;
      if (m.fixedVersion !== undefined) f.fixedVersion = m.fixedVersion;
      const url = advisoryUrl(entry.record);
      if (url !== undefined) f.url = url;
      findings.push(f);
    }
  }
  return mergeAliases(findings);
}

function summaryOf(r: OsvRecord): string {
  if (r.summary !== undefined && r.summary.trim() !== "") return r.summary.trim();
  const first = (r.details ?? "").trim().split("\n")[0] ?? "";
  return first.length > 200 ? `${first.slice(0, 197)}...` : first;
}

/** The record's own advisory page; unset lets reports name the publishing database's page. */
function advisoryUrl(r: OsvRecord): string | undefined {
  return r.references?.find((ref) => ref.type === "ADVISORY")?.url;
}

/**
 * The Debian release of the system rooted at `root`: `VERSION_ID` of its `os-release` when
 * `ID` is `debian`, else undefined (another distribution, Debian testing, or no file). A
 * link is not followed (in a container's filesystem an absolute link would lead onto the
 * host): `/etc/os-release` is usually a link to `../usr/lib/os-release`, read directly.
 *
 * @example
 * ```ts ignore
 * import { readDebianRelease } from "./scanner.ts";
 * console.log(await readDebianRelease("/")); // "12" on bookworm
 * ```
 */
export async function readDebianRelease(root: string): Promise<string | undefined> {
  for (const rel of ["etc/os-release", "usr/lib/os-release"]) {
    const path = `${root.replace(/\/+$/, "")}/${rel}`;
    try {
      if (!(await Deno.lstat(path)).isFile) continue;
      const fields = parseOsRelease(await Deno.readTextFile(path));
      if (fields.get("ID") !== "debian") return undefined;
      return fields.get("VERSION_ID") || undefined;
    } catch {
      continue;
    }
  }
  return undefined;
}

/**
 * `KEY=value` lines of os-release(5), quotes removed.
 *
 * @example
 * ```ts
 * import { parseOsRelease } from "./scanner.ts";
 * const f = parseOsRelease('ID=debian\nVERSION_ID="12"\n# note\n');
 * console.assert(f.get("ID") === "debian" && f.get("VERSION_ID") === "12");
 * ```
 */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, "$1");
    out.set(m[1], v);
  }
  return out;
}

/** What to scan. */
export type ScanTarget =
  | { type: "directory"; path: string }
  | { type: "container"; ref: string };

/** Options of a scan. */
export interface ScanOptions {
  db: VulnLookup;
  /** Passed to the walker (`maxFileBytes`, `crossMounts`, …; `extractors` default `SCAN_EXTRACTORS`). */
  inventory?: InventoryOptions;
  /**
   * The Debian release to match against: a string, `null` to match every release's records,
   * or unset to read it from the scanned root's `os-release`.
   */
  debianRelease?: string | null;
  /** How a container's export is kept. */
  container?: ContainerFsOptions;
  /** The shared container inventory; container scans need it. */
  containers?: ContainerLookup;
}

/** One target's result: a `ScanResult` with what was read. */
export interface TargetResult extends ScanResult {
  /** Inventory files read (container paths for a container). */
  files: string[];
  /** The Debian release matching used, when one was known. */
  debianRelease?: string;
  /** For a container: how its filesystem was read. */
  method?: ContainerRoot["method"];
  durationMs: number;
}

/**
 * Inventories the directory `path` (the host when it is `/`) and matches what it holds.
 * Files that cannot be read or parsed are returned as `errors`; the scan goes on.
 *
 * @throws {SbomScanError} `E_SCAN_TARGET` (missing, not a directory) and `E_SCAN_PERMISSION`
 * (outside the Deno read permissions; `context.flag` is the flag that would allow it).
 * @example
 * ```ts ignore
 * import { scanDirectory } from "./scanner.ts";
 * import { openVulnDb } from "./osv/mod.ts";
 * const db = openVulnDb("/var/lib/ironpost/vulndb.sqlite");
 * const r = await scanDirectory("/srv/app", { db });
 * console.log(r.components.length, r.findings.map((f) => f.id));
 * db.close();
 * ```
 */
export async function scanDirectory(path: string, options: ScanOptions): Promise<TargetResult> {
  const started = performance.now();
  const root = await checkDirectory(path);
  const inv = await inventoryDir(root, { extractors: SCAN_EXTRACTORS, ...options.inventory });
  const subject: ScanSubject = root === "/"
    ? { type: "host", name: hostName() }
    : { type: "directory", name: root };
  return await finish(started, root, options, {
    subject,
    components: inv.components,
    errors: inv.errors.map(toScanError),
    files: inv.files,
  });
}

/**
 * A target's result from what its inventory found: the findings (matched against the Debian
 * release the options give, or else the one the root's `os-release` names) and the time taken.
 */
async function finish(
  started: number,
  root: string,
  options: ScanOptions,
  found: Omit<TargetResult, "findings" | "durationMs">,
): Promise<TargetResult> {
  const debianRelease = options.debianRelease === undefined
    ? await readDebianRelease(root)
    : options.debianRelease ?? undefined;
  const result: TargetResult = {
    ...found,
    findings: findVulnerabilities(found.components, options.db, { debianRelease }),
    durationMs: 0,
  };
  if (debianRelease !== undefined) result.debianRelease = debianRelease;
  result.durationMs = performance.now() - started;
  return result;
}

/** `path` made absolute and checked to be a readable directory. */
async function checkDirectory(path: string): Promise<string> {
  // Relative paths are left to Deno to resolve: `Deno.cwd()` itself needs read access to
  // the working directory, which the agent's permissions need not grant.
  const root = path.length > 1 ? path.replace(/\/+$/, "") : path;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new SbomScanError(
        "E_SCAN_PERMISSION",
        `Reading ${root} is outside this agent's Deno read permissions`,
        { path: root, flag: `--allow-read=${root}` },
        { cause: e },
      );
    }
    if (e instanceof Deno.errors.NotFound) {
      throw new SbomScanError("E_SCAN_TARGET", `${root}: no such directory`, { path: root }, {
        cause: e,
      });
    }
    throw new SbomScanError(
      "E_SCAN_TARGET",
      `${root}: ${errorMessage(e)}`,
      { path: root },
      { cause: e },
    );
  }
  if (!info.isDirectory) {
    throw new SbomScanError("E_SCAN_TARGET", `${root}: not a directory`, { path: root });
  }
  // Normalise `a/../b` and links in the root itself, so origins are stable paths.
  return await Deno.realPath(root);
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/**
 * Inventories the root filesystem of the running container `ref` (name or id; see
 * `openContainerRoot`) and matches it. Every component is tagged with the container's id,
 * name and image, and its origin is the path inside the container (`/var/lib/dpkg/status`).
 *
 * @throws {SbomScanError} as `openContainerRoot`.
 * @example
 * ```ts ignore
 * import { scanContainer } from "./scanner.ts";
 * import { openVulnDb } from "./osv/mod.ts";
 * const r = await scanContainer("web-1", { db: openVulnDb("/var/lib/ironpost/vulndb.sqlite") });
 * console.log(r.subject.image, r.components.length);
 * ```
 */
export async function scanContainer(ref: string, options: ScanOptions): Promise<TargetResult> {
  const started = performance.now();
  if (options.containers === undefined) {
    throw new SbomScanError(
      "E_DOCKER",
      `Cannot scan container ${ref}: no container inventory (the containers service) was given`,
      { container: ref },
    );
  }
  const fs = await openContainerRoot(ref, options.containers, options.container);
  try {
    const root = fs.root;
    const inv = await inventoryDir(root, {
      extractors: SCAN_EXTRACTORS,
      ...options.inventory,
      skipPaths: [`${root}/proc`, `${root}/sys`, `${root}/dev`],
      followSymlinks: false,
    });
    const inside = (p: string) => p.startsWith(`${root}/`) ? p.slice(root.length) : p;
    const container = { ...fs.container };
    const errors: ScanError[] = inv.errors.map((e) => {
      const s = toScanError(e);
      return s.file !== undefined ? { ...s, file: inside(s.file) } : s;
    });
    for (const file of fs.skipped) {
      errors.push({ code: "E_TOO_LARGE", message: "File over the export's size cap", file });
    }
    return await finish(started, root, options, {
      subject: {
        type: "container",
        name: container.name,
        image: container.image,
        id: container.id,
      },
      components: inv.components.map((c) => ({
        ...c,
        origin: { ...c.origin, file: inside(c.origin.file) },
        container,
      })),
      errors,
      files: inv.files.map(inside),
      method: fs.method,
    });
  } finally {
    await fs.release();
  }
}

/** `scanDirectory` or `scanContainer`, by the target's type. */
export async function scanTarget(target: ScanTarget, options: ScanOptions): Promise<TargetResult> {
  return target.type === "directory"
    ? await scanDirectory(target.path, options)
    : await scanContainer(target.ref, options);
}

/**
 * Several targets' results as one (for a report of several `--dir`s and containers): the
 * subject is the one target's, or the host when there are several.
 *
 * @example
 * ```ts
 * import { combineResults } from "./scanner.ts";
 * const r = combineResults([], { type: "host", name: "web-1" });
 * console.assert(r.components.length === 0 && r.subject.name === "web-1");
 * ```
 */
export function combineResults(
  results: readonly ScanResult[],
  hostSubject: ScanSubject = { type: "host", name: hostName() },
): ScanResult {
  return {
    subject: results.length === 1 ? results[0].subject : hostSubject,
    components: results.flatMap((r) => r.components),
    findings: results.flatMap((r) => r.findings),
    errors: results.flatMap((r) => r.errors),
  };
}
