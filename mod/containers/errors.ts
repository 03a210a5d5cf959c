import { IronpostError } from "../core/mod.ts";

/**
 * A problem talking to the Docker Engine. The inventory never throws these at its callers
 * (Docker being absent is a health state, not a failure); they are what its health reason
 * and logs are made of.
 *
 * Codes: `E_DOCKER_UNAVAILABLE` (no daemon on the socket: absent, refused, not permitted),
 * `E_DOCKER_API` (the daemon answered with an error), `E_DOCKER_STREAM_ENDED` (the events
 * stream closed, as when dockerd stops or restarts), `E_DOCKER_TIMEOUT`.
 *
 * @example
 * ```ts
 * import { ContainerError } from "./errors.ts";
 * const e = new ContainerError("E_DOCKER_UNAVAILABLE", "No socket", { socketPath: "/x" });
 * console.assert(e.code === "E_DOCKER_UNAVAILABLE" && e.context.socketPath === "/x");
 * ```
 */
export class ContainerError extends IronpostError {
  override readonly name: string = "ContainerError";
}
