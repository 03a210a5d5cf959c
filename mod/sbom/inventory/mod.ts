/**
 * Software inventory: one extractor per format (lockfiles of npm, yarn, pnpm, Cargo, Go, pip,
 * Poetry, Pipenv, uv, Composer and Bundler; installed dpkg packages, `node_modules` and
 * Python distributions), each a cheap `fileRequired` name test, an `extract` that throws
 * only `InventoryError` and an optional `sniff` content test, listed in `EXTRACTORS`; and a
 * walker that runs them over a tree. Import a format's own file to use it alone.
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
export { Collector } from "./collect.ts";
export { InventoryError, type InventoryErrorCode } from "./errors.ts";
export {
  DEFAULT_MAX_FILE_BYTES,
  extractFile,
  type ExtractFileOptions,
  readInventoryText,
  readInventoryTextSync,
} from "./extract_file.ts";
export {
  type ExtractContext,
  type Extractor,
  type LockEntry,
  lockfile,
  type LockfileFormat,
} from "./extractor.ts";
export { EXTRACTORS } from "./extractors.ts";
export { gitCommitOf } from "./git_commit.ts";
export { INVENTORY_ENV_VARS } from "./parse_text.ts";
export { inventoryDir, type InventoryOptions, type InventoryResult } from "./walk.ts";
