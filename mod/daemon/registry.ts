import { derivePermissions, type LoadedConfig } from "../config/mod.ts";
import { XDP_OBJECT_PATH } from "../ebpf/object_path.ts";
import { SENSORS_OBJECT_PATH } from "../sensors/object_path.ts";
import { libbpfPath } from "../../ffi/libbpf.ts";
import { firstExisting, LIBC_PATHS } from "../../ffi/libc.ts";
import type { ModuleSpec, ServiceFactories } from "./orchestrator.ts";
import type { Grants, IronpostConfig } from "../config/mod.ts";

/**
 * The modules built into this binary, in registry order. Each capability adds its spec
 * here (an explicit list: nothing registers itself on import). A section enabled in the
 * config but absent here is reported by validation as not part of this build.
 */
export const BUILT_MODULES: readonly ModuleSpec[] = [
  {
    name: "ebpf",
    section: "ebpf",
    produces: ["packets", "actions"],
    consumes: ["decisions"],
    // Module code is imported only when the module is enabled and built.
    build: async ({ config, channels, store }) =>
      new (await import("../ebpf/module.ts")).EbpfModule(config.ebpf, {
        packets: channels.outputs.packets,
        actions: channels.outputs.actions,
        decisions: channels.inputs.decisions,
      }, store),
    grants: (config) => ({
      // libbpf and libc are opened by absolute path; their files must be readable.
      read: [
        XDP_OBJECT_PATH,
        libbpfPath(),
        firstExisting(LIBC_PATHS),
        ...config.ebpf.blocklist_files,
        ...config.ebpf.allowlist_files,
      ],
      ffi: true,
    }),
  },
  {
    name: "sensors",
    section: "sensors",
    produces: ["host"],
    consumes: [],
    // CO-RE relocations need the kernel's BTF; syscall tracepoints need tracefs.
    facilities: () => ["btf", "tracefs"],
    build: async ({ config, channels, services }) =>
      new (await import("../sensors/module.ts")).SensorsModule(config.sensors, {
        host: channels.outputs.host,
      }, { containers: await services.containers() }),
    grants: (config) => {
      const c = containerGrants(config);
      return {
        ...c,
        // /proc is read through libc (Deno refuses /proc paths without --allow-all), so only
        // the object, the libraries and /etc/passwd (uid → User) need read access.
        read: [...c.read!, SENSORS_OBJECT_PATH, libbpfPath(), "/etc/passwd"],
      };
    },
  },
  {
    name: "log_pipeline",
    section: "log_pipeline",
    produces: ["alerts"],
    consumes: ["packets", "host"],
    build: async ({ config, channels, store }) =>
      new (await import("../logs/module.ts")).LogPipelineModule(
        config.log_pipeline,
        {
          alerts: channels.outputs.alerts,
          packets: channels.inputs.packets,
          host: channels.inputs.host,
        },
        store,
        { stateDir: config.general.state_dir },
      ),
    grants: (config) => {
      const lp = config.log_pipeline;
      const net = [lp.syslog_udp_addr, lp.syslog_tcp_addr].filter((a) => a !== "");
      return {
        read: [lp.rules_dir, ...lp.extra_rules_dirs, ...lp.file_paths.map(globRoot)],
        net,
        run: lp.journald ? ["journalctl"] : [],
        // SO_RCVBUF for UDP syslog is set with setsockopt through libc (Deno has no API).
        ffi: lp.syslog_udp_addr !== "",
      };
    },
  },
  {
    name: "sbom",
    section: "sbom",
    produces: ["alerts"],
    consumes: [],
    build: async ({ config, channels, store }) =>
      new (await import("../sbom/module.ts")).SbomModule(
        config.sbom,
        { alerts: channels.outputs.alerts },
        store,
        { stateDir: config.general.state_dir },
      ),
    grants: (config) => sbomGrants(config),
  },
];

/** Docker's data root, where a container's overlay2 merged directory lives. */
const DOCKER_ROOT = "/var/lib/docker";

/**
 * What the SBOM scanner needs: read of its scan dirs and database; write of the database's
 * directory (`ironpost vulndb update` swaps a new file in; the same flags serve the CLI);
 * OSV's bucket for that update; and for container scans the docker CLI and Docker's data
 * root (a container's export goes under state_dir, already granted).
 */
export function sbomGrants(config: IronpostConfig): Grants {
  const s = config.sbom;
  const dbDir = s.vuln_db_path.slice(0, s.vuln_db_path.lastIndexOf("/")) || "/";
  return {
    read: [...s.scan_dirs, dbDir, ...(s.scan_containers ? [DOCKER_ROOT] : [])],
    write: [dbDir],
    net: ["osv-vulnerabilities.storage.googleapis.com"],
    run: s.scan_containers ? ["docker"] : [],
  };
}

/** Shared services, built once when a module first asks for one. */
export const SERVICE_FACTORIES: ServiceFactories = {
  containers: async (config) =>
    new (await import("../containers/mod.ts")).ContainerInventory({
      socketPath: config.container.docker_socket,
    }),
};

/** What the container inventory needs: the Docker socket, /proc via libc, dockerode's env. */
export function containerGrants(config: IronpostConfig): Grants {
  const socket = config.container.docker_socket;
  return {
    read: [socket, firstExisting(LIBC_PATHS)],
    write: [socket],
    net: [`unix:${socket}`],
    ffi: true,
    allEnv: true,
  };
}

/**
 * The directory a tailed path needs read access to: up to the first wildcard segment of a
 * glob, and a plain file's own directory (rotation replaces the file by a new one there).
 */
export function globRoot(pattern: string): string {
  const parts = pattern.split("/");
  const i = parts.findIndex((p) => /[*?[]/.test(p));
  return (i < 0 ? parts.slice(0, -1) : parts.slice(0, i)).join("/") || "/";
}

/** Config sections of the built modules, for validation of their paths. */
export function builtSections(specs: readonly ModuleSpec[] = BUILT_MODULES): Set<string> {
  return new Set(specs.map((s) => s.section ?? s.name));
}

/**
 * The Deno permission flags for an agent running `loaded`: the core's plus those of each
 * enabled module. `selfExec` is what `ironpost start` re-runs.
 */
export function agentPermissions(
  loaded: LoadedConfig,
  selfExec: string,
  configPath = loaded.path,
  specs: readonly ModuleSpec[] = BUILT_MODULES,
): string[] {
  const enabled = specs.filter((s) =>
    !s.section || (loaded.config[s.section] as { enabled?: boolean }).enabled
  );
  return derivePermissions(loaded.config, {
    configPath,
    selfExec,
    grants: enabled.flatMap((s) => s.grants ? [s.grants(loaded.config)] : []),
  });
}
