import type { SectionConfig, SectionSpec } from "../core/mod.ts";
import type { CAPABILITIES } from "../daemon/registry.ts";
import type { ChannelsConfig, GeneralConfig, StorageConfig } from "./schema.ts";

export type { ChannelsConfig, GeneralConfig, StorageConfig };

type Capability = (typeof CAPABILITIES)[number];

type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I
  : never;

/** Each capability's section, typed from its spec's key table (shared sections merged). */
export type CapabilityConfigs = {
  [N in Capability["section"]]: Intersect<
    Capability extends infer C
      ? C extends { section: N; config: infer S extends SectionSpec } ? SectionConfig<S>
      : never
      : never
  >;
};

/** The effective configuration after defaults, TOML, environment and CLI are merged. */
export type IronpostConfig =
  & { general: GeneralConfig; channels: ChannelsConfig; storage: StorageConfig }
  & CapabilityConfigs;

export type LogLevel = GeneralConfig["log_level"];
export type LogFormat = GeneralConfig["log_format"];
