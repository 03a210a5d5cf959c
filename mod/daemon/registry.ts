import type { ModuleSpec } from "./orchestrator.ts";

/**
 * The modules built into this binary, in registry order. Each later capability adds its
 * spec here (an explicit list: nothing registers itself on import). A section enabled in
 * the config but absent here is reported by validation as not part of this build.
 */
export const BUILT_MODULES: readonly ModuleSpec[] = [];

/** Config sections of the built modules, for validation of their paths. */
export function builtSections(specs: readonly ModuleSpec[] = BUILT_MODULES): Set<string> {
  return new Set(specs.map((s) => s.section ?? s.name));
}
