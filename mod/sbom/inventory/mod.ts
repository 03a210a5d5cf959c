/**
 * Software inventory: one extractor per format (lockfiles of npm, yarn, pnpm, Cargo, Go, pip,
 * Poetry, Pipenv, uv, Composer and Bundler; installed dpkg packages, `node_modules` and
 * Python distributions), each a cheap `fileRequired` name test and an `extract` that throws
 * only `InventoryError`, listed in `EXTRACTORS`; and a walker that runs them over a tree.
 *
 * ```ts ignore
 * import { inventoryDir } from "./mod.ts";
 * const { components, errors, files } = await inventoryDir("/", { maxFileBytes: 64 << 20 });
 * ```
 *
 * ```ts
 * import { EXTRACTORS } from "./mod.ts";
 * const text = 'version = 3\n\n[[package]]\nname = "addr2line"\nversion = "0.15.2"\n';
 * const cargo = EXTRACTORS.find((e) => e.fileRequired("Cargo.lock"));
 * console.assert(cargo?.extract("Cargo.lock", text)[0].version === "0.15.2");
 * ```
 * @module
 */
export { cargoLock } from "./cargo_lock.ts";
export { Collector } from "./collect.ts";
export { composerLock } from "./composer_lock.ts";
export { dpkgStatus } from "./dpkg_status.ts";
export { InventoryError, type InventoryErrorCode } from "./errors.ts";
export {
  DEFAULT_MAX_FILE_BYTES,
  extractFile,
  type ExtractFileOptions,
  readInventoryText,
  readInventoryTextSync,
} from "./extract_file.ts";
export type { ExtractContext, Extractor } from "./extractor.ts";
export { EXTRACTORS } from "./extractors.ts";
export { gemfileLock } from "./gemfile_lock.ts";
export { gitCommitOf } from "./git_commit.ts";
export { goMod } from "./go_mod.ts";
export { npmLock } from "./npm_lock.ts";
export { nodeModulesPackageJson } from "./package_json.ts";
export { INVENTORY_ENV_VARS } from "./parse_text.ts";
export { pipfileLock } from "./pipfile_lock.ts";
export { pnpmLock } from "./pnpm_lock.ts";
export { poetryLock } from "./poetry_lock.ts";
export { pythonMetadata } from "./python_metadata.ts";
export { requirementsTxt } from "./requirements_txt.ts";
export { uvLock } from "./uv_lock.ts";
export { inventoryDir, type InventoryOptions, type InventoryResult } from "./walk.ts";
export { yarnLock } from "./yarn_lock.ts";
