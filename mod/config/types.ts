import type { SectionConfig } from "../core/mod.ts";
import type { CAPABILITIES } from "../daemon/registry.ts";
import type { ChannelsConfig, GeneralConfig, StorageConfig } from "./schema.ts";

export type { ChannelsConfig, GeneralConfig, StorageConfig };

type Capability = (typeof CAPABILITIES)[number];

/** Each capability's section, typed from its spec's key table. */
export type CapabilityConfigs = {
  [C in Capability as C["section"]]: SectionConfig<C["config"]>;
};

/** The effective configuration after defaults, TOML, environment and CLI are merged. */
export type IronpostConfig =
  & { general: GeneralConfig; channels: ChannelsConfig; storage: StorageConfig }
  & CapabilityConfigs;

export type LogLevel = GeneralConfig["log_level"];
export type LogFormat = GeneralConfig["log_format"];
