/**
 * Log sources: producers of raw lines for the log pipeline. Each is constructed from its
 * options and an output `Channel<RawLine>`, and waits on the channel when it is full.
 * @module
 */
export type { LineFormat, RawLine } from "./raw_line.ts";
export { emptyStats, type LineSource, type SourceStats } from "./source_stats.ts";
export { type Checkpoints, checkpointsFromStore, type CheckpointStore } from "./checkpoints.ts";
export { type FileTailOptions, FileTailSource, type FileTailStats } from "./file_tail.ts";
export { journalctlArgs, type JournaldOptions, JournaldSource } from "./journald.ts";
export { type SyslogUdpOptions, SyslogUdpSource, type SyslogUdpStats } from "./syslog_udp.ts";
export { type SyslogTcpOptions, SyslogTcpSource, type SyslogTcpStats } from "./syslog_tcp.ts";
export { type LocalUdpAddress, type ReceiveBuffer, UdpSocketControl } from "./socket_buffer.ts";
export { MmsgReceiver, type MmsgReceiverOptions } from "./mmsg_receiver.ts";
export { DgramReceiver } from "./dgram_receiver.ts";
export type { DatagramReceiver, DatagramReceiverOptions, OnDatagram } from "./datagram_receiver.ts";
export { expandGlob, globRoot, globToRegExp } from "./glob.ts";
export {
  defineSource,
  type KeyTable,
  type KeyValues,
  type SharedSourceConfig,
  type SourceContext,
  type SourceDescriptor,
  splitAddr,
} from "./descriptor.ts";
export {
  enabledSources,
  fileSource,
  journaldSource,
  SHARED_SOURCE_KEYS,
  SOURCE_INPUT_KEYS,
  SOURCE_KEYS,
  SOURCE_TUNING_KEYS,
  sourceGrants,
  SOURCES,
  type SourceSection,
  syslogTcpSource,
  syslogUdpSource,
} from "./list.ts";
