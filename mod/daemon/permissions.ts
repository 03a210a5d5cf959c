import { derivePermissions, type LoadedConfig } from "../config/mod.ts";
import type { Grants } from "../core/mod.ts";
import type { ModuleSpec } from "./orchestrator.ts";
import { CAPABILITIES } from "./registry.ts";
import { notifySocketFromEnv } from "./sd_notify.ts";

/** Config sections of the built modules (services are not modules: their `enabled` warns). */
export function builtSections(specs: readonly ModuleSpec[] = CAPABILITIES): Set<string> {
  return new Set(
    specs.filter((s) => s.kind !== "service").map((s) => s.section ?? s.name),
  );
}

/** The specs `loaded` runs: the enabled modules (a spec without a section always runs). */
export function enabledSpecs(
  config: LoadedConfig["config"],
  specs: readonly ModuleSpec[] = CAPABILITIES,
): ModuleSpec[] {
  return specs.filter((s) => s.kind !== "service" && (!s.section || sectionOf(config, s).enabled));
}

/** A spec's own section of the config. */
export function sectionOf(
  config: LoadedConfig["config"],
  spec: Pick<ModuleSpec, "section">,
): Record<string, unknown> {
  return (config as unknown as Record<string, Record<string, unknown>>)[spec.section ?? ""] ?? {};
}

/**
 * The Deno permission flags for an agent running `loaded`: the core's, those of each
 * enabled module, and those of the services they use. `selfExec` is what `ironpost start`
 * re-runs; `notifySocket` (default: this process's `NOTIFY_SOCKET`) is allowed for sd_notify.
 */
export function agentPermissions(
  loaded: LoadedConfig,
  selfExec: string,
  configPath = loaded.path,
  specs: readonly ModuleSpec[] = CAPABILITIES,
  notifySocket: string | undefined = notifySocketFromEnv(),
): string[] {
  const config = loaded.config;
  const ctx = { stateDir: config.general.state_dir };
  const grants: Grants[] = [];
  const services = new Set<string>();
  for (const s of enabledSpecs(config, specs)) {
    const section = sectionOf(config, s);
    if (s.grants) grants.push(s.grants(section, ctx));
    for (const name of s.services?.(section) ?? []) services.add(name);
  }
  for (const s of specs) {
    if (s.kind === "service" && services.has(s.name) && s.grants) {
      grants.push(s.grants(sectionOf(config, s), ctx));
    }
  }
  return derivePermissions(config, { configPath, selfExec, grants, notifySocket });
}
