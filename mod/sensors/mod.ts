/**
 * Host sensors: CO-RE eBPF on tracepoints reporting process execution, file writes and
 * sensitive reads, and TCP connects and accepts as HostEvents.
 * @module
 */
export { type ContainerLookup, type SensorsChannels, SensorsModule } from "./module.ts";
export type { SensorsOptions } from "./module.ts";
export { Sensor, type SensorCounters, SensorError, type SensorOptions } from "./sensor.ts";
export { decodeRecord, type SensorDescriptor, type SensorRecord, SENSORS } from "./descriptors.ts";
export { normalizePath } from "./records.ts";
export { SENSOR_METRICS } from "./metrics.ts";
export * as layout from "./layout.ts";
export { SENSORS_OBJECT_PATH } from "./object_path.ts";
export { EventStreams } from "./event_streams.ts";
