/** The sensors' Prometheus metric families; `SensorsModule.metrics()` samples them. */
import { counter, gauge, type MetricFamily } from "../core/mod.ts";
import type { SensorCounters } from "./sensor.ts";

type RecordKind = keyof Omit<SensorCounters, "type">;

function records(kind: RecordKind): MetricFamily<"type"> {
  return counter(
    `ironpost_sensor_records_${kind}_total`,
    `Kernel sensor records ${kind} (lost: ring buffer full)`,
    ["type"],
  );
}

/** Kernel records per record type and counter kind (bpf/sensors.h `enum counter_kind`). */
export const RECORDS = {
  emitted: records("emitted"),
  filtered: records("filtered"),
  lost: records("lost"),
} as const satisfies Record<RecordKind, MetricFamily<"type">>;

export const EVENTS_DELIVERED = counter(
  "ironpost_sensor_events_delivered_total",
  "HostEvents handed to the host channel",
);
export const PROCESS_TABLE_ENTRIES = gauge(
  "ironpost_sensor_process_table_entries",
  "Processes in the sensors' process table",
);
export const MASQUERADES = counter(
  "ironpost_sensor_masquerades_total",
  "Processes whose /proc view disagreed with the kernel's record",
);
export const STREAM_DROPPED = counter(
  "ironpost_sensor_stream_dropped_total",
  "Events not written to a slow /events reader",
);

/** Every family the sensors report. */
export const SENSOR_METRICS: readonly MetricFamily<string>[] = [
  RECORDS.emitted,
  RECORDS.filtered,
  RECORDS.lost,
  EVENTS_DELIVERED,
  PROCESS_TABLE_ENTRIES,
  MASQUERADES,
  STREAM_DROPPED,
];
