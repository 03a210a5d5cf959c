import { IronpostError } from "../core/mod.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Longest duration `parseTtl` accepts: 100 years (a `--since` reaches no further back). */
export const MAX_DURATION_SECS = 100 * 365 * 86400;

/** Longest block TTL: 365 days. Longer blocks are `permanent` ones, said so explicitly. */
export const MAX_BLOCK_TTL_SECS = 365 * 86400;

/** The TTL word for a block without expiry (`ironpost block … --ttl permanent`). */
export const PERMANENT = "permanent";

/**
 * Parse a duration such as `90`, `30s`, `10m`, `1h`, `7d` into seconds (at most 100 years,
 * so a date computed from it is always valid).
 *
 * @example
 * ```ts
 * import { parseTtl } from "./ttl.ts";
 * console.assert(parseTtl("1h") === 3600);
 * ```
 */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) {
    throw new IronpostError(
      "E_TTL",
      `TTL "${text}" is not a duration; expected seconds or a number with s, m, h or d (e.g. 10s, 1h)`,
      { ttl: text },
    );
  }
  const secs = Number(m[1]) * UNITS[m[2] || "s"];
  if (secs > MAX_DURATION_SECS) {
    throw new IronpostError(
      "E_TTL",
      `TTL "${text}" is too long; expected at most ${MAX_DURATION_SECS / 86400}d`,
      { ttl: text },
    );
  }
  return secs;
}

/**
 * Parse the TTL of a block decision into seconds, with 0 meaning no expiry. A block's TTL is
 * a duration from 1 s to 365 d, or the word `permanent`; `0` is refused rather than read as
 * permanent, and anything longer than 365 d too, before anything is applied.
 *
 * @example
 * ```ts
 * import { parseBlockTtl } from "./ttl.ts";
 * console.assert(parseBlockTtl("10m") === 600 && parseBlockTtl("permanent") === 0);
 * ```
 */
export function parseBlockTtl(text: string): number {
  const t = text.trim();
  if (t.toLowerCase() === PERMANENT) return 0;
  const m = /^(\d+)([smhd]?)$/.exec(t);
  if (!m) {
    throw new IronpostError(
      "E_TTL",
      `TTL "${text}" is not a duration; expected seconds or a number with s, m, h or d (e.g. 10s, 1h), up to 365d, or "${PERMANENT}"`,
      { ttl: text },
    );
  }
  const secs = Number(m[1]) * UNITS[m[2] || "s"];
  if (secs === 0) {
    throw new IronpostError(
      "E_TTL",
      `TTL "${text}" is zero; a block needs a TTL from 1s to 365d, or "--ttl ${PERMANENT}" for one without expiry`,
      { ttl: text },
    );
  }
  if (secs > MAX_BLOCK_TTL_SECS) {
    throw new IronpostError(
      "E_TTL",
      `TTL "${text}" is longer than 365d (the most a block may last); use "--ttl ${PERMANENT}" for one without expiry`,
      { ttl: text },
    );
  }
  return secs;
}

/**
 * Check a TTL in seconds given by another module (0: no expiry): an integer from 0 to 365 d.
 * Throws `E_TTL` naming the bound.
 */
export function checkBlockTtlSecs(secs: number): number {
  if (!Number.isSafeInteger(secs) || secs < 0 || secs > MAX_BLOCK_TTL_SECS) {
    throw new IronpostError(
      "E_TTL",
      `TTL ${secs} s is out of range; expected whole seconds from 1 to ${MAX_BLOCK_TTL_SECS} (365d), or 0 for no expiry`,
      { ttl: secs },
    );
  }
  return secs;
}
