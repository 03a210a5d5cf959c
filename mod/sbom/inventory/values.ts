/**
 * Narrowing for parsed JSON/TOML/YAML values: lockfiles are input, so every field is checked
 * before use and a wrong type reads as absent rather than as a crash.
 */

/** A plain object (not an array, not null). */
export type Dict = Record<string, unknown>;

/** Whether `v` is a plain object. */
export function isDict(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `v` when it is a string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** `v` when it is a plain object, else an empty one. */
export function dict(v: unknown): Dict {
  return isDict(v) ? v : {};
}

/** `v` when it is an array, else an empty one. */
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** True for `true` and, from YAML read as text, `"true"`. */
export function flag(v: unknown): boolean {
  return v === true || v === "true";
}
