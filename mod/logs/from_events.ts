import type { HostEvent, PacketEvent } from "../core/mod.ts";
import type { LogEvent } from "./log_event.ts";

/**
 * A packet filter event as a log event, so the same Sigma rules run over it. Its logsource
 * is Ironpost's own (`product: ironpost`, `category: network_filter`); the shipped port-scan
 * and SYN-flood rules use it.
 */
export function packetToLog(e: PacketEvent): LogEvent {
  const fields: LogEvent["fields"] = {
    Reason: e.reason,
    Verdict: e.verdict,
    SourceIp: e.srcIp,
    Protocol: e.protocol,
    Interface: e.interface,
    Count: e.count,
  };
  if (e.dstIp) fields.DestinationIp = e.dstIp;
  if (e.dstPort !== undefined) fields.DestinationPort = e.dstPort;
  if (e.ports !== undefined) fields.Ports = e.ports;
  return {
    source: "packet",
    logsource: { product: "ironpost", category: "network_filter" },
    ts: e.ts,
    host: e.host,
    program: "ironpost-xdp",
    message: `${e.reason} ${e.verdict} ${e.protocol} from ${e.srcIp}` +
      (e.ports !== undefined ? ` (${e.ports} ports)` : ""),
    fields,
  };
}

const CATEGORY: Record<HostEvent["sensor"], string> = {
  process: "process_creation",
  file: "file_event",
  network: "network_connection",
};

/**
 * The Sigma category of a host event. A process that renamed itself or masquerades is not
 * a process creation: it goes to Ironpost's own `process_anomaly`, so SigmaHQ's
 * `process_creation` rules do not fire twice for one process.
 */
function categoryOf(e: HostEvent): string {
  if (e.sensor === "process" && e.action !== "exec") return "process_anomaly";
  return CATEGORY[e.sensor];
}

/**
 * A host sensor event as a log event with the Sigma taxonomy's category and field names
 * (`Image`, `CommandLine`, `ProcessId`, … plus the sensor's own Sigma fields), and the
 * container it ran in (`ContainerId`, `ContainerName`, `ContainerImage`) when known.
 */
export function hostToLog(e: HostEvent): LogEvent {
  const fields: LogEvent["fields"] = { Image: e.image, ProcessId: e.pid, ...e.fields };
  if (e.commandLine !== undefined) fields.CommandLine = e.commandLine;
  if (e.ppid !== undefined) fields.ParentProcessId = e.ppid;
  if (e.container) {
    fields.ContainerId = e.container.id;
    fields.ContainerName = e.container.name;
    fields.ContainerImage = e.container.image;
  }
  return {
    source: "host",
    logsource: { product: "linux", category: categoryOf(e) },
    ts: e.ts,
    host: e.host,
    pid: e.pid,
    message: e.commandLine ?? e.image,
    fields,
  };
}
