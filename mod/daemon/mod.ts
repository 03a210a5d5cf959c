/**
 * The orchestrator, its control API and the daemon lifecycle.
 * @module
 */
export { controlRequest, type ControlResponse } from "./control_client.ts";
export { controlStream } from "./control_stream.ts";
export { ControlApi, json, stagingPath } from "./control_api.ts";
export { type DaemonOptions, runDaemon } from "./daemon.ts";
export { log, setupLogging } from "./logging.ts";
export { renderPrometheus } from "./metrics.ts";
export {
  type ChannelMap,
  type ChannelName,
  type ModuleChannels,
  type ModuleSpec,
  Orchestrator,
  orderProducersFirst,
} from "./orchestrator.ts";
export { PidFile, readPid, runningAgentPid } from "./pidfile.ts";
export { agentPermissions, builtSections, enabledSpecs, sectionOf } from "./permissions.ts";
export { CAPABILITIES } from "./registry.ts";
