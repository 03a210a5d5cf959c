/**
 * What the fuzz tests share: run counts scaled by `FUZZ_RUNS_SCALE` (CI runs the defaults; a
 * longer hunt sets e.g. 10), and `fc.check` with a short report: the error and the start of
 * the counterexample (a grown input is megabytes), without shrinking grown inputs
 * (`endOnFailure`), which would take minutes at that size.
 */
import fc from "fast-check";

const SCALE = Number(Deno.env.get("FUZZ_RUNS_SCALE") ?? "1");

/** `n` runs times `FUZZ_RUNS_SCALE`, at least one. */
export const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

/** Check a property; throw with the seed, the path and the counterexample's start. */
export function check<Ts extends [unknown, ...unknown[]]>(
  prop: fc.IProperty<Ts>,
  numRuns: number,
  endOnFailure = false,
): void {
  const r = fc.check(prop, { numRuns, endOnFailure });
  if (!r.failed) return;
  const err = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
  throw new Error(
    `property failed (seed ${r.seed}, path "${r.counterexamplePath?.slice(0, 80)}"): ${
      err.slice(0, 2000)
    }\n` +
      `counterexample: ${fc.stringify(r.counterexample).slice(0, 600)}`,
  );
}
