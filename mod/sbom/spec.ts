/**
 * The SBOM and vulnerability scanner as a capability: the `[sbom]` section, grants, build
 * and metrics.
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { SBOM_METRICS } from "./metrics.ts";

const section = {
  doc: "SBOM and vulnerability scanner (CycloneDX + OSV).",
  keys: {
    enabled: field.bool(false, "run the scanner"),
    scan_dirs: field.list("path", [], "directories to inventory"),
    scan_interval_secs: field.int(60, 604800, 3600, "time between full scans"),
    vuln_db_path: field.path(
      (c) => `${c.stateDir}/vulndb.sqlite`,
      "local OSV database (SQLite index)",
    ),
    min_severity: field.oneOf(
      ["critical", "high", "medium", "low"],
      "medium",
      "least severity that raises an alert",
    ),
    scan_containers: field.bool(true, "also scan running containers"),
  },
};

/** The `[sbom]` section's values. */
export type SbomConfig = SectionConfig<typeof section>;

/** Docker's data root, where a container's overlay2 merged directory lives. */
const DOCKER_ROOT = "/var/lib/docker";

export const SBOM_SPEC = defineSpec({
  section: "sbom",
  config: section,
  liveKeys: ["scan_dirs", "scan_interval_secs", "vuln_db_path", "min_severity", "scan_containers"],
  produces: ["alerts"],
  consumes: [],
  services: (s) => s.scan_containers ? ["containers"] : [],
  /**
   * Read of its scan dirs and database; write of the database's directory (`ironpost vulndb
   * update` swaps a new file in; the same flags serve the CLI); OSV's bucket for that update;
   * for container scans Docker's data root (overlay2 merged dirs are read in place; an
   * export goes under state_dir). Docker itself is reached through the container inventory,
   * whose grants come with the service.
   */
  grants: (s) => {
    const dbDir = s.vuln_db_path.slice(0, s.vuln_db_path.lastIndexOf("/")) || "/";
    return {
      read: [...s.scan_dirs, dbDir, ...(s.scan_containers ? [DOCKER_ROOT] : [])],
      write: [dbDir],
      net: ["osv-vulnerabilities.storage.googleapis.com"],
    };
  },
  build: async ({ section, channels, store, stateDir, services }) =>
    new (await import("./module.ts")).SbomModule(
      section,
      { alerts: channels.outputs.alerts },
      store,
      { stateDir, containers: section.scan_containers ? await services.containers() : undefined },
    ),
  metrics: SBOM_METRICS,
});
