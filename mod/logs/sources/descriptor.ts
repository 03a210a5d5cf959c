/**
 * What a log source is, said once: the `[log_pipeline]` keys it owns, the Deno permissions
 * it needs and how it is built. `list.ts` holds one descriptor per source, and the log
 * pipeline's spec and module read that list only.
 * @module
 */
import type { Channel, CheckpointStore, FieldSpec, Grants } from "../../core/mod.ts";
import type { RawLine } from "./raw_line.ts";
import type { LineSource } from "./source_stats.ts";

/** Config keys by name. */
export type KeyTable = Record<string, FieldSpec>;

/** The values of a key table (what `SectionConfig` derives for a section). */
export type KeyValues<K extends KeyTable> = {
  -readonly [P in keyof K]: K[P] extends FieldSpec<infer T> ? T : never;
};

/**
 * `[log_pipeline]` keys every source may read besides its own: the pipeline's checkpoint
 * interval, the file source's line limit (journald's entries are lines too), and the
 * syslog message limit both syslog receivers share (`SHARED_SOURCE_KEYS`).
 */
export interface SharedSourceConfig {
  flush_interval_secs: number;
  max_line_bytes: number;
  syslog_max_message_bytes: number;
}

/** What a source is built with besides its config. */
export interface SourceContext {
  /** Where its lines go. */
  out: Channel<RawLine>;
  /** The agent's store, for resume positions. */
  store: CheckpointStore;
  /** `general.state_dir`, for state a source keeps in files (the journal cursor). */
  stateDir: string;
}

/**
 * One log source. `inputKeys` say where lines come from and are listed near the top of
 * `[log_pipeline]`, with the other sources' (`file_paths`, `syslog_udp_addr`, …); the rest of
 * its keys are `tuningKeys`, listed after the pipeline's own.
 */
export interface SourceDescriptor<I extends KeyTable = KeyTable, T extends KeyTable = KeyTable> {
  /** What the source is, for docs and errors. */
  readonly kind: string;
  readonly inputKeys: I;
  readonly tuningKeys: T;
  /** Whether the section asks for this source. */
  enabled(cfg: KeyValues<I & T> & SharedSourceConfig): boolean;
  /** The permissions it needs when enabled. */
  grants(cfg: KeyValues<I & T> & SharedSourceConfig): Grants;
  /** Build it (not started); its code is imported here, on demand. */
  create(cfg: KeyValues<I & T> & SharedSourceConfig, ctx: SourceContext): Promise<LineSource>;
}

/** Declare a source with its keys' types checked (an identity at run time). */
export function defineSource<I extends KeyTable, T extends KeyTable>(
  d: SourceDescriptor<I, T>,
): SourceDescriptor<I, T> {
  return d;
}

/** `host:port` or `[v6]:port` (validated by the config) as listen options. */
export function splitAddr(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(addr.slice(i + 1)) };
}

/**
 * `enabled` and `grants` of a source that listens on the `host:port` in key `key` ("" for
 * off): network access to that address, and `more`.
 */
export function listensOn<K extends string>(
  key: K,
  more: Grants = {},
): { enabled(cfg: Record<K, string>): boolean; grants(cfg: Record<K, string>): Grants } {
  return {
    enabled: (cfg) => cfg[key] !== "",
    grants: (cfg) => ({ net: [cfg[key]], ...more }),
  };
}
