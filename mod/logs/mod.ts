/**
 * The log pipeline: sources, parsers, the Sigma engine and what turns matches into alerts.
 * @module
 */
export { hostToLog, packetToLog } from "./from_events.ts";
export type { LogEvent, LogSource } from "./log_event.ts";
export { type LineFormat, LineParser, parseLine } from "./parsers/mod.ts";
export { Pipeline, type PipelineOptions, type PipelineStats } from "./pipeline.ts";
export { loadRules, RuleError, YAML_ENV_VARS } from "./sigma/mod.ts";
