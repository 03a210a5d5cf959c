/**
 * The one error class Ironpost throws on purpose. `code` is stable and machine-readable
 * (tests and `--format json` use it); `context` carries what a user needs to fix the cause.
 *
 * @example
 * ```ts
 * import { IronpostError } from "./errors.ts";
 * const err = new IronpostError("E_PIDFILE_LOCKED", "Another agent is running", { pid: 42 });
 * console.assert(err.code === "E_PIDFILE_LOCKED");
 * ```
 */
export class IronpostError extends Error {
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    context: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "IronpostError";
    this.code = code;
    this.context = context;
  }
}

/** Raised when some modules fail to stop; every failure is kept, none hides another. */
export class AggregateStopError extends IronpostError {
  readonly failures: readonly { module: string; error: unknown }[];

  constructor(failures: { module: string; error: unknown }[]) {
    super(
      "E_STOP_FAILED",
      `${failures.length} module(s) failed to stop: ` +
        failures.map((f) => `${f.module}: ${errorMessage(f.error)}`).join("; "),
      { modules: failures.map((f) => f.module) },
    );
    this.name = "AggregateStopError";
    this.failures = failures;
  }
}

/** The message of anything thrown, for logs and CLI output. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
