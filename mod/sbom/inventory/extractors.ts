/**
 * Every inventory format Ironpost reads, in one explicit list: adding a format means adding
 * it here, and importing a format's file registers nothing.
 */
import { cargoLock } from "./cargo_lock.ts";
import { composerLock } from "./composer_lock.ts";
import { dpkgStatus } from "./dpkg_status.ts";
import type { Extractor } from "./extractor.ts";
import { gemfileLock } from "./gemfile_lock.ts";
import { goMod } from "./go_mod.ts";
import { npmLock } from "./npm_lock.ts";
import { nodeModulesPackageJson } from "./package_json.ts";
import { pipfileLock } from "./pipfile_lock.ts";
import { pnpmLock } from "./pnpm_lock.ts";
import { poetryLock } from "./poetry_lock.ts";
import { pythonMetadata } from "./python_metadata.ts";
import { requirementsTxt } from "./requirements_txt.ts";
import { uvLock } from "./uv_lock.ts";
import { yarnLock } from "./yarn_lock.ts";

/**
 * The extractors `inventoryDir` runs by default: lockfiles first, then installed software.
 *
 * @example
 * ```ts
 * import { EXTRACTORS } from "./extractors.ts";
 * const which = EXTRACTORS.filter((e) => e.fileRequired("/srv/app/poetry.lock"));
 * console.assert(which.length === 1 && which[0].name === "pypi/poetry-lock");
 * ```
 */
export const EXTRACTORS: readonly Extractor[] = [
  npmLock,
  yarnLock,
  pnpmLock,
  cargoLock,
  goMod,
  requirementsTxt,
  poetryLock,
  pipfileLock,
  uvLock,
  composerLock,
  gemfileLock,
  dpkgStatus,
  nodeModulesPackageJson,
  pythonMetadata,
];
