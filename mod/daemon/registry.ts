import { derivePermissions, type LoadedConfig } from "../config/mod.ts";
import { EbpfModule, XDP_OBJECT_PATH } from "../ebpf/mod.ts";
import { libbpfPath } from "../../ffi/libbpf.ts";
import { firstExisting, LIBC_PATHS } from "../../ffi/libc.ts";
import type { ModuleSpec } from "./orchestrator.ts";

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
    build: ({ config, channels, store }) =>
      new EbpfModule(config.ebpf, {
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
];

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
