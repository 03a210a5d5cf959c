import { redactText } from "./redact.ts";

/**
 * A parsed TOML table (smol-toml gives tables as plain objects, dates as `Date`).
 *
 * @example
 * ```ts
 * import { isTomlTable } from "./toml_values.ts";
 * console.assert(isTomlTable({ a: 1 }) && !isTomlTable([1]) && !isTomlTable(new Date()));
 * ```
 */
export function isTomlTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * What a parsed TOML value is, for "got …" in diagnostics, credentials in strings masked.
 * Integers are parsed as bigint, so a JavaScript number is always a TOML float.
 *
 * @example
 * ```ts
 * import { describeTomlValue } from "./toml_values.ts";
 * console.assert(describeTomlValue(10n) === "integer 10");
 * console.assert(describeTomlValue(10) === "float 10.0");
 * ```
 */
export function describeTomlValue(v: unknown): string {
  if (typeof v === "string") return `string "${redactText(v)}"`;
  if (typeof v === "number") return `float ${Number.isInteger(v) ? v.toFixed(1) : v}`;
  if (typeof v === "bigint") return `integer ${v}`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date-time";
  if (isTomlTable(v)) return "a table";
  return String(v);
}
