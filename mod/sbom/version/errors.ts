import { IronpostError } from "../../core/mod.ts";

/**
 * Raised when asked to order versions of an ecosystem Ironpost has no ordering for. Matching
 * against such an ecosystem would otherwise guess, and a guessed order hides findings.
 *
 * @example
 * ```ts
 * import { UnknownEcosystemError } from "./errors.ts";
 * const e = new UnknownEcosystemError("Maven");
 * console.assert(e.code === "E_UNKNOWN_ECOSYSTEM" && e.ecosystem === "Maven");
 * ```
 */
export class UnknownEcosystemError extends IronpostError {
  readonly ecosystem: string;

  constructor(ecosystem: string) {
    super("E_UNKNOWN_ECOSYSTEM", `No version ordering for ecosystem "${ecosystem}"`, {
      ecosystem,
    });
    this.name = "UnknownEcosystemError";
    this.ecosystem = ecosystem;
  }
}

/**
 * Raised when a version cannot be ordered at all under its scheme. The orderings are lenient
 * (as OSV's are), so only a few inputs get here: a Debian epoch that is not a number.
 *
 * @example
 * ```ts
 * import { InvalidVersionError } from "./errors.ts";
 * const e = new InvalidVersionError("debian", "x:1.0", "the epoch is not a number");
 * console.assert(e.code === "E_INVALID_VERSION" && e.version === "x:1.0");
 * ```
 */
export class InvalidVersionError extends IronpostError {
  readonly scheme: string;
  readonly version: string;

  constructor(scheme: string, version: string, reason: string) {
    super("E_INVALID_VERSION", `Invalid ${scheme} version "${version}": ${reason}`, {
      scheme,
      version,
    });
    this.name = "InvalidVersionError";
    this.scheme = scheme;
    this.version = version;
  }
}
