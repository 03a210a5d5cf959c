import { IronpostError } from "../core/mod.ts";

/**
 * Why a scan could not run at all (as opposed to one file that could not be read, which a
 * scan reports and goes on).
 *
 * - `E_SCAN_TARGET`: the directory does not exist or is not a directory.
 * - `E_SCAN_PERMISSION`: Deno's permissions refuse the read (`NotCapable`); `flag` in the
 *   context names the flag that would allow it.
 * - `E_DOCKER`: the `docker` CLI cannot be run, or failed (the daemon is down).
 * - `E_CONTAINER_NOT_FOUND`: no container has that name or id.
 * - `E_CONTAINER_NOT_RUNNING`: the container exists but is not running.
 * - `E_CONTAINER_EXPORT`: `docker export` failed or its tar stream is malformed.
 *
 * @example
 * ```ts
 * import { SbomScanError } from "./scan_error.ts";
 * const e = new SbomScanError("E_SCAN_TARGET", "/srv/app: not a directory", { path: "/srv/app" });
 * console.assert(e.code === "E_SCAN_TARGET" && e.context.path === "/srv/app");
 * ```
 */
export class SbomScanError extends IronpostError {
  constructor(
    code:
      | "E_SCAN_TARGET"
      | "E_SCAN_PERMISSION"
      | "E_DOCKER"
      | "E_CONTAINER_NOT_FOUND"
      | "E_CONTAINER_NOT_RUNNING"
      | "E_CONTAINER_EXPORT",
    message: string,
    context: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
    this.name = "SbomScanError";
  }
}
