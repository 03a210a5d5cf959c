/**
 * Every log source, in one list: each entry is the source's descriptor (its keys, grants
 * and how it is built; its code is imported only when it is built, so reading the config
 * loads none of it). A new source is its code file, its entry here and its test: its keys
 * join `[log_pipeline]`, its grants the agent's flags, and the pipeline builds it when the
 * section asks for it.
 * @module
 */
import { field, type Grants } from "../../core/mod.ts";
import { checkpointsFromStore } from "./checkpoints.ts";
import {
  defineSource,
  type KeyValues,
  listensOn,
  type SourceDescriptor,
  splitAddr,
} from "./descriptor.ts";
import { globRoot } from "./glob.ts";

const MIB = 1024 * 1024;

/** `file_paths`: files and globs tailed, with checkpoints in the store. */
export const fileSource = defineSource({
  kind: "files",
  inputKeys: { file_paths: field.list("string", [], "files and globs to tail") },
  tuningKeys: {
    start_at: field.oneOf(["end", "start"], "end", "where a file never seen before is read from"),
    max_line_bytes: field.int(256, 16 * MIB, 65536, "longer lines are cut and flagged"),
  },
  enabled: (cfg) => cfg.file_paths.length > 0,
  grants: (cfg) => ({ read: cfg.file_paths.map(globRoot) }),
  create: async (cfg, ctx) =>
    new (await import("./file_tail.ts")).FileTailSource({
      paths: cfg.file_paths,
      startAt: cfg.start_at,
      maxLineBytes: cfg.max_line_bytes,
      checkpoints: checkpointsFromStore(ctx.store),
      flushIntervalMs: cfg.flush_interval_secs * 1000,
    }, ctx.out),
});

/** `journald = true`: the systemd journal through journalctl, resumed from a cursor file. */
export const journaldSource = defineSource({
  kind: "journald",
  inputKeys: {},
  tuningKeys: {
    journald: field.bool(false, "follow the systemd journal with journalctl"),
    journald_units: field.list("name", [], "only these units (empty: all)"),
  },
  enabled: (cfg) => cfg.journald,
  grants: () => ({ run: ["journalctl"] }),
  create: async (cfg, ctx) =>
    new (await import("./journald.ts")).JournaldSource({
      stateDir: ctx.stateDir,
      units: cfg.journald_units,
      maxLineBytes: cfg.max_line_bytes,
      flushIntervalMs: cfg.flush_interval_secs * 1000,
    }, ctx.out),
});

/** `syslog_udp_addr`: RFC 5426 syslog, read with recvmmsg through libc. */
export const syslogUdpSource = defineSource({
  kind: "syslog-udp",
  inputKeys: { syslog_udp_addr: field.addr("UDP syslog") },
  tuningKeys: {
    syslog_udp_recv_buffer_bytes: field.int(
      65536,
      256 * MIB,
      4 * MIB,
      "UDP socket receive buffer",
    ),
    syslog_udp_drop_threshold_percent: field.int(
      0,
      100,
      1,
      "kernel-dropped share of UDP datagrams (last 60 s) that turns health degraded",
    ),
  },
  // SO_RCVBUF for UDP syslog is set with setsockopt through libc (Deno has no API).
  ...listensOn("syslog_udp_addr", { ffi: true }),
  create: async (cfg, ctx) =>
    new (await import("./syslog_udp.ts")).SyslogUdpSource({
      ...splitAddr(cfg.syslog_udp_addr),
      recvBufferBytes: cfg.syslog_udp_recv_buffer_bytes,
      maxMessageBytes: cfg.syslog_max_message_bytes,
      dropThresholdPercent: cfg.syslog_udp_drop_threshold_percent,
    }, ctx.out),
});

/** `syslog_tcp_addr`: RFC 6587 syslog, LF-framed or octet-counted per connection. */
export const syslogTcpSource = defineSource({
  kind: "syslog-tcp",
  inputKeys: { syslog_tcp_addr: field.addr("TCP syslog") },
  tuningKeys: {
    syslog_tcp_max_connections: field.int(1, 65535, 256, "concurrent TCP syslog connections"),
    syslog_tcp_max_connections_per_source: field.int(
      1,
      65535,
      16,
      "concurrent TCP syslog connections from one address",
    ),
    syslog_tcp_idle_timeout_secs: field.int(
      1,
      86400,
      300,
      "a TCP syslog connection silent this long is closed",
    ),
  },
  ...listensOn("syslog_tcp_addr"),
  create: async (cfg, ctx) =>
    new (await import("./syslog_tcp.ts")).SyslogTcpSource({
      ...splitAddr(cfg.syslog_tcp_addr),
      maxMessageBytes: cfg.syslog_max_message_bytes,
      maxConnections: cfg.syslog_tcp_max_connections,
      maxConnectionsPerSource: cfg.syslog_tcp_max_connections_per_source,
      idleTimeoutMs: cfg.syslog_tcp_idle_timeout_secs * 1000,
    }, ctx.out),
});

/** The sources, in the order they are built (and their keys listed). */
export const SOURCES = [
  fileSource,
  journaldSource,
  syslogUdpSource,
  syslogTcpSource,
] as const satisfies readonly SourceDescriptor[];

/** Keys read by more than one source, listed after all the sources' own. */
export const SHARED_SOURCE_KEYS = {
  syslog_max_message_bytes: field.int(480, 16 * MIB, 65536, "largest syslog message accepted"),
};

type Source = (typeof SOURCES)[number];
type Merge<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I
  : never;

function merged<P extends "inputKeys" | "tuningKeys">(part: P): Merge<Source[P]> {
  return Object.assign({}, ...SOURCES.map((s) => s[part]));
}

/** Where lines come from (`file_paths`, `syslog_udp_addr`, …), in `SOURCES` order. */
export const SOURCE_INPUT_KEYS = merged("inputKeys");

/** The sources' other keys, in `SOURCES` order, then `SHARED_SOURCE_KEYS`. */
export const SOURCE_TUNING_KEYS = { ...merged("tuningKeys"), ...SHARED_SOURCE_KEYS };

/** Every key of every source: `SOURCE_INPUT_KEYS`, then `SOURCE_TUNING_KEYS`. */
export const SOURCE_KEYS = { ...SOURCE_INPUT_KEYS, ...SOURCE_TUNING_KEYS };

/** The part of `[log_pipeline]` the sources read. */
export type SourceSection = KeyValues<typeof SOURCE_KEYS> & { flush_interval_secs: number };

/** The sources the section asks for. */
export function enabledSources(cfg: SourceSection): SourceDescriptor[] {
  return SOURCES.filter((s) => s.enabled(cfg));
}

/**
 * What the enabled sources need, merged: read roots of the tailed files, listen addresses,
 * `journalctl`, FFI for UDP's socket options.
 */
export function sourceGrants(
  cfg: SourceSection,
): Grants & { read: string[]; net: string[]; run: string[]; ffi: boolean } {
  const out = { read: [] as string[], net: [] as string[], run: [] as string[], ffi: false };
  const more: Grants = {};
  for (const s of enabledSources(cfg)) {
    const g = s.grants(cfg);
    out.read.push(...g.read ?? []);
    out.net.push(...g.net ?? []);
    out.run.push(...g.run ?? []);
    out.ffi ||= g.ffi === true;
    if (g.write) (more.write ??= []).push(...g.write);
    if (g.sys) (more.sys ??= []).push(...g.sys);
    if (g.allEnv) more.allEnv = true;
  }
  return { ...out, ...more };
}
