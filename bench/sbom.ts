/**
 * SBOM scan of one tree: Ironpost (`ironpost scan`: inventory, OSV matching, CycloneDX 1.6)
 * against cdxgen 12 (`@cyclonedx/cdxgen`, from the npm registry, offline with
 * `--no-install-deps`), one run each, same tree: wall time, peak RSS, components found, and
 * how the component sets differ.
 *
 * The tree (bench/sbom/tree.ts): the osv-scanner lockfile fixtures, a Debian 12 host's dpkg
 * status as `var/lib/dpkg/status` (with os-release), and a web app of about 470 npm packages
 * installed with `npm install`. Ironpost runs as users run it: `deno run` of main.ts with the
 * permission flags its config derives, against an OSV index built beforehand from
 * `../shared/data/osv` (build time reported, not counted). cdxgen runs twice: `-t js` (the
 * npm packages only) and `-t rootfs` (OS packages through the trivy it bundles, and the
 * language packages: the same types Ironpost reads). osv-scanner is not measured: it is a Go
 * binary released outside the npm registry and Debian, which are all this machine reaches.
 *
 * Run: deno task bench:sbom [--cdxgen 12.8.4] [--timeout 600] [--keep]
 * Needs npm (Node 20+) and the npm registry; GNU time (`apt-get install time`) for peak RSS,
 * else the process tree's RSS is sampled. Removes its temporary files unless --keep.
 * Targets (issue 7): at least 10× faster than cdxgen while also matching against OSV, peak
 * RSS under 150 MB, the same component set up to documented differences.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../mod/daemon/mod.ts";
import { buildIndex } from "../mod/sbom/osv/mod.ts";
import { compareKeys, componentKeys, type TypeComparison } from "./sbom/compare.ts";
import { measure, type Measured } from "./sbom/measure.ts";
import { buildTree, installCdxgen } from "./sbom/tree.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    cdxgen: { type: "string", default: "12.8.4" },
    timeout: { type: "string", default: "600" },
    keep: { type: "boolean", default: false },
  },
});
const TIMEOUT_MS = Math.max(60, Number(values.timeout) || 600) * 1000;
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DATA = fileURLToPath(new URL("../../shared/data", import.meta.url));

try {
  Deno.statSync(`${DATA}/osv`);
} catch {
  console.error(`shared data not found at ${DATA}: the benchmark needs ../shared/data`);
  Deno.exit(2);
}

const work = await Deno.makeTempDir({ prefix: "ironpost-bench-sbom-" });
const tree = `${work}/tree`;
const state = `${work}/state`;

interface Run {
  label: string;
  m: Measured;
  bom: string;
  keys: Set<string>;
  vulns: number | "-";
}

function log(s: string) {
  console.error(s);
}

function count(keys: Set<string>, type?: string): number {
  return [...keys].filter((k) => type === undefined || k.startsWith(`${type}:`)).length;
}

async function runIronpost(): Promise<Run> {
  const config = `${work}/ironpost.toml`;
  await Deno.writeTextFile(
    config,
    `[general]\nstate_dir = "${state}"\npid_file = "${work}/run/ironpost.pid"\n` +
      `control_socket = "${work}/run/ironpost.sock"\n` +
      `[sbom]\nenabled = true\nscan_dirs = ["${tree}"]\nvuln_db_path = "${state}/vulndb.sqlite"\n` +
      `scan_containers = false\n`,
  );
  const loaded = await loadConfig({ path: config, builtModules: builtSections() });
  const flags = agentPermissions(loaded, Deno.execPath());
  const out = `${state}/ironpost.cdx.json`;
  const m = await measure([
    Deno.execPath(),
    "run",
    ...flags,
    MAIN,
    "scan",
    "--config",
    config,
    "--dir",
    tree,
    "--format",
    "cyclonedx",
    "--output",
    out,
    "--fail-on",
    "never",
  ], { timeoutMs: TIMEOUT_MS, env: { NO_COLOR: "1" } });
  if (m.code !== 0) throw new Error(`ironpost scan failed (${m.code}):\n${m.stderr}`);
  const bom = await Deno.readTextFile(out);
  const vulns = (JSON.parse(bom).vulnerabilities ?? []).length;
  return { label: "Ironpost (inventory + OSV matching)", m, bom, keys: componentKeys(bom), vulns };
}

async function runCdxgen(cdxgen: string, type: string): Promise<Run> {
  const out = `${work}/cdxgen-${type}.cdx.json`;
  const m = await measure(
    [cdxgen, "-t", type, "--no-install-deps", "--spec-version", "1.6", "-o", out, tree],
    {
      timeoutMs: TIMEOUT_MS,
      cwd: work,
      env: { FETCH_LICENSE: "false", NO_COLOR: "1", CDXGEN_TEMP_DIR: `${work}/cdxgen-tmp` },
    },
  );
  if (m.code !== 0) {
    throw new Error(`cdxgen -t ${type} failed (${m.code}):\n${m.stderr.slice(-2000)}`);
  }
  const bom = await Deno.readTextFile(out);
  return {
    label: `cdxgen ${values.cdxgen} -t ${type}`,
    m,
    bom,
    keys: componentKeys(bom),
    vulns: "-",
  };
}

function table(headers: string[], rows: string[][]): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(" | ")} |`;
  return [line(headers), `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

function differences(c: TypeComparison, a: string, b: string): string {
  const ex = (xs: string[]) =>
    xs.length === 0 ? "none" : `${xs.slice(0, 6).join(", ")}${xs.length > 6 ? ", …" : ""}`;
  return `  ${c.type}: ${a} ${c.a}, ${b} ${c.b}, both ${c.both}\n` +
    `    only ${a} (${c.onlyA.length}): ${ex(c.onlyA)}\n` +
    `    only ${b} (${c.onlyB.length}): ${ex(c.onlyB)}`;
}

try {
  log(`work dir ${work}`);
  let t = performance.now();
  const { npmPackages } = await buildTree(tree, DATA, TIMEOUT_MS);
  log(
    `tree: npm install of ${npmPackages} packages, dpkg status, lockfile fixtures ` +
      `(${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  t = performance.now();
  const built = await buildIndex(`${DATA}/osv`, `${state}/vulndb.sqlite`);
  log(
    `OSV index: ${built.records} records (${((performance.now() - t) / 1000).toFixed(1)} s, ` +
      "setup, not counted)",
  );
  t = performance.now();
  const cdxgen = await installCdxgen(`${work}/cdxgen`, values.cdxgen!, TIMEOUT_MS);
  log(`cdxgen ${values.cdxgen} installed (${((performance.now() - t) / 1000).toFixed(1)} s)`);

  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  log(`load average before the runs: ${load}`);
  const ironpost = await runIronpost();
  log(`ironpost: ${ironpost.m.wallS.toFixed(2)} s`);
  const js = await runCdxgen(cdxgen, "js");
  log(`cdxgen -t js: ${js.m.wallS.toFixed(2)} s`);
  const rootfs = await runCdxgen(cdxgen, "rootfs");
  log(`cdxgen -t rootfs: ${rootfs.m.wallS.toFixed(2)} s`);

  const runs = [ironpost, js, rootfs];
  console.log(
    `\nSBOM scan of one tree (${npmPackages} npm packages installed + package-lock.json, ` +
      `a Debian 12 dpkg status, the osv-scanner lockfile fixtures); one run each, ` +
      `load average ${load}\n`,
  );
  console.log(table(
    ["run", "wall s", "peak RSS MB", "keys", "npm", "deb (binary)", "deb-src", "vulns"],
    runs.map((r) => {
      return [
        r.label,
        r.m.wallS.toFixed(2),
        r.m.peakRssMb.toFixed(0),
        String(r.keys.size),
        String(count(r.keys, "npm")),
        String(count(r.keys, "deb")),
        String(count(r.keys, "deb-src")),
        String(r.vulns),
      ];
    }),
  ));
  const ratio = (r: Run) =>
    `${(r.m.wallS / ironpost.m.wallS).toFixed(1)}× the time, ` +
    `${(r.m.peakRssMb / ironpost.m.peakRssMb).toFixed(1)}× the peak RSS`;
  console.log(`\ncdxgen -t js     / Ironpost: ${ratio(js)}`);
  console.log(`cdxgen -t rootfs / Ironpost: ${ratio(rootfs)}`);
  console.log(
    `peak RSS: ${
      ironpost.m.how === "gnu-time" ? "GNU time %M (largest process)" : "sampled /proc tree sum"
    }`,
  );
  console.log(
    "osv-scanner: not measured; it is not installable here (a Go binary released " +
      "outside the npm registry and Debian's archive, the only registries this machine reaches).",
  );

  console.log("\nComponent sets (type:name@version keys; deb: binary, deb-src: source packages):");
  for (const c of compareKeys(ironpost.keys, rootfs.keys)) {
    console.log(differences(c, "Ironpost", "cdxgen-rootfs"));
  }
  const npmJs = compareKeys(ironpost.keys, js.keys).find((c) => c.type === "npm");
  if (npmJs) console.log(differences(npmJs, "Ironpost", "cdxgen-js"));
  console.log(`
Documented differences:
- npm: Ironpost reports installed packages from node_modules/<name>/package.json and the
  app's package-lock.json; it ignores files inside an installed package other than its
  package.json (lockfiles a package ships describe its own development, not what is
  installed). cdxgen also lists the app itself and package.json files found in packages'
  test fixtures (e.g. resolve's test/ tree), which are not installed packages.
- Debian: compared on binary packages (deb:), where the two should agree, and source
  packages (deb-src:) apart. Ironpost reports one component per source package, with its
  binary packages as properties (advisories are keyed by source package); cdxgen lists
  each binary (from trivy) and adds a source package only for some (those that build
  binaries of other names).
- npm fsevents: an optional macOS-only dependency, in package-lock.json but not installed
  here; Ironpost reports the lockfile's entry (group optional), cdxgen's rootfs mode does not.
- lockfiles/: the osv-scanner fixtures carry test names (one-package.json, …), which
  neither tool recognises as lockfiles.
- Ironpost's run includes matching every component against ${built.records} OSV records;
  cdxgen matches nothing.`);
} finally {
  if (values.keep) log(`kept ${work}`);
  else await Deno.remove(work, { recursive: true }).catch(() => {});
}
