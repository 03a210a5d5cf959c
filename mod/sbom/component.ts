/**
 * A software component found by an inventory extractor: one package at one version, with the
 * file that declared it. Every extractor, the OSV matcher and the CycloneDX writer share it.
 */

/** OSV ecosystem names, spelt as OSV spells them (`Debian` may carry a release: `Debian:12`). */
export type Ecosystem =
  | "npm"
  | "PyPI"
  | "Go"
  | "crates.io"
  | "Packagist"
  | "RubyGems"
  | "Debian"
  | "Hex";

/** Where a component was declared: the file, and the 1-based line when the format gives one. */
export interface Origin {
  file: string;
  line?: number;
}

/** One package found by an extractor. */
export interface Component {
  name: string;
  /** Empty when the source gives none (an unpinned requirement, a malformed dpkg entry). */
  version: string;
  ecosystem: Ecosystem;
  origin: Origin;
  /** Dependency groups as the lockfile names them (`dev`, `optional`, a requirements file…). */
  groups: string[];
  /** VCS commit when the lockfile pins one instead of a registry version. */
  commit?: string;
  /** Debian: the binary package this source package was installed as. */
  binaryName?: string;
  /** Debian: the binary package's own version when the source version differs. */
  binaryVersion?: string;
  /** Names (`name@version` keys) of the components this one depends on, when the lockfile says. */
  dependsOn?: string[];
  /** Set on components found inside a container's filesystem. */
  container?: { id: string; name: string; image: string };
  /** Why a requirement could not be pinned (`unpinned: >=1.0`), kept so reports can say so. */
  note?: string;
}

/** The key by which components are deduplicated and linked in the dependency graph. */
export function componentKey(c: Pick<Component, "ecosystem" | "name" | "version">): string {
  return `${c.ecosystem}:${c.name}@${c.version}`;
}
