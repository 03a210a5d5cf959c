/**
 * Loading, validating and describing Ironpost's TOML config.
 * @module
 */
export { ConfigError, type Diagnostic, formatDiagnostic } from "./diagnostics.ts";
export {
  addrProblem,
  type CliOverride,
  loadConfig,
  type LoadedConfig,
  type LoadOptions,
  type Origin,
} from "./load.ts";
export { derivePermissions, type Grants, type PermissionOptions } from "./permissions.ts";
export {
  REFERENCE_MARKERS,
  renderConfigReference,
  renderJson,
  renderShippedToml,
  renderToml,
  withConfigReference,
} from "./render.ts";
export { allEnvNames, describeType, envName, SCHEMA } from "./schema.ts";
export { locateKeys } from "../core/mod.ts";
export * from "./types.ts";
