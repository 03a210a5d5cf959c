/**
 * What modules share: event types, the channel between them, the module contract and
 * errors. Modules import only this, never each other.
 * @module
 */
export { Channel, ChannelClosedError, type ChannelStats } from "./channel.ts";
export { AggregateStopError, errorMessage, IronpostError } from "./errors.ts";
export { type Diagnostic, formatDiagnostic } from "./diagnostic.ts";
export { type KeyPosition, locateKeys } from "./toml_positions.ts";
export { describeTomlValue, isTomlTable } from "./toml_values.ts";
export {
  FacilityError,
  type FacilityStatus,
  KERNEL_FACILITIES,
  type KernelFacility,
} from "./facility.ts";
export {
  type ActionEvent,
  type ActionKind,
  type ActionOutcome,
  type AlertEvent,
  type ContainerRef,
  type DecisionEvent,
  type EventBase,
  type HostAction,
  type HostEvent,
  type IronpostEvent,
  localHost,
  newEvent,
  type PacketEvent,
  SEVERITIES,
  type Severity,
  severityAtLeast,
} from "./events.ts";
export {
  type ControlRoute,
  type Health,
  healthRank,
  type HealthState,
  jsonResponse,
  type MetricSample,
  type Module,
  worstHealth,
} from "./module.ts";
export { redact, redactText } from "./redact.ts";
export { sshClientAddress } from "./operator.ts";
export { counter, gauge, type MetricFamily, sample } from "./metrics.ts";
export {
  ContainerActionError,
  type ContainerControl,
  type ContainerFilesystem,
  type ContainerLookup,
  type ContainerNetwork,
  type ContainerStatus,
  type ContainerSummary,
} from "./containers.ts";
export type { AlertQuery, CheckpointStore, Store } from "./store.ts";
export {
  type BuildContext,
  type CapabilitySpec,
  CHANNEL_NAMES,
  type ChannelMap,
  type ChannelName,
  type DefaultContext,
  type DefinedSpec,
  defineSpec,
  field,
  type FieldSpec,
  type FieldType,
  type GrantContext,
  type Grants,
  type ModuleChannels,
  type SectionConfig,
  type SectionSpec,
  type ServiceName,
  type Services,
} from "./spec.ts";
export { type Cidr, cidrContains, formatIp, maskBytes, parseCidr, parseIp } from "./cidr.ts";
export { readCidrFile } from "./cidr_file.ts";
export { closest, editDistance } from "./suggest.ts";
