import { IronpostError } from "../../core/mod.ts";

/** Validate a numeric option, naming it in the error (sources get options from config). */
export function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) {
    throw new IronpostError("E_SOURCE_OPTION", `${name} must be an integer >= ${min}, got ${v}`, {
      option: name,
      value: v,
    });
  }
  return v;
}
