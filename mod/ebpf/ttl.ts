import { IronpostError } from "../core/mod.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parse a TTL such as `90`, `30s`, `10m`, `1h`, `7d` into seconds; `0` means no expiry.
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
  return Number(m[1]) * UNITS[m[2] || "s"];
}
