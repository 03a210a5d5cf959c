import type { MetricSample } from "./module.ts";

/**
 * One Prometheus metric family: its name, type, help and label names, declared once in a
 * capability's spec; the module turns its current values into samples with `sample`.
 */
export interface MetricFamily<L extends string = string> {
  readonly name: string;
  readonly type: "counter" | "gauge";
  readonly help: string;
  readonly labels: readonly L[];
}

function family(type: "counter" | "gauge") {
  return <L extends string = never>(
    name: string,
    help: string,
    labels: readonly L[] = [],
  ): MetricFamily<L> => ({ name, type, help, labels });
}

/**
 * A counter family (the name ends in `_total`).
 *
 * @example
 * ```ts
 * import { counter, sample } from "./metrics.ts";
 * const lost = counter("ironpost_sensor_records_lost_total", "Records lost", ["type"]);
 * const s = sample(lost, 3, { type: "exec" });
 * console.assert(s.value === 3 && s.labels?.type === "exec");
 * ```
 */
export const counter = family("counter");

/** A gauge family. */
export const gauge = family("gauge");

/** One sample of `family` with its labels (every label the family names). */
export function sample<L extends string>(
  family: MetricFamily<L>,
  value: number | bigint,
  labels?: Record<L, string>,
): MetricSample {
  const s: MetricSample = {
    name: family.name,
    type: family.type,
    help: family.help,
    value: Number(value),
  };
  if (labels && family.labels.length > 0) s.labels = labels;
  return s;
}
