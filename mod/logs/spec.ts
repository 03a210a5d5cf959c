/**
 * The log pipeline as a capability: the `[log_pipeline]` section (its sources' keys come
 * from the sources' own descriptors), grants, build and metrics.
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { LOG_METRICS } from "./metrics.ts";
import { SOURCE_INPUT_KEYS, SOURCE_TUNING_KEYS, sourceGrants } from "./sources/list.ts";

const section = {
  doc: "Log sources, parsers and the Sigma rule engine.",
  keys: {
    enabled: field.bool(false, "run the log pipeline"),
    // Each source's keys come from its descriptor (sources/list.ts), in the shipped order.
    ...SOURCE_INPUT_KEYS,
    rules_dir: field.path("/etc/ironpost/rules", "Sigma rules directory", {
      mustExist: "dir",
      trusted: true,
    }),
    extra_rules_dirs: field.list(
      "path",
      [],
      "more rule directories (e.g. a SigmaHQ checkout)",
      { trusted: true },
    ),
    flush_interval_secs: field.int(1, 3600, 5, "how often checkpoints are flushed"),
    buffer_capacity: field.int(
      1,
      10_000_000,
      10000,
      "log lines buffered between sources and rules",
    ),
    ...SOURCE_TUNING_KEYS,
    suppress_window_secs: field.int(0, 86400, 60, "repeats of one alert per group are counted"),
    correlation_max_groups: field.int(100, 100_000_000, 100_000, "correlation groups held"),
  },
};

/** The `[log_pipeline]` section's values. */
export type LogPipelineConfig = SectionConfig<typeof section>;

export const LOGS_SPEC = defineSpec({
  section: "log_pipeline",
  config: section,
  liveKeys: ["rules_dir", "extra_rules_dirs"],
  produces: ["alerts"],
  consumes: ["packets", "host"],
  // The rules, plus what each enabled source needs (its files, sockets, journalctl, FFI).
  grants: (lp) => {
    const g = sourceGrants(lp);
    return { ...g, read: [lp.rules_dir, ...lp.extra_rules_dirs, ...(g.read ?? [])] };
  },
  // Every error of every rule file, as file:line:col diagnostics.
  validate: async (lp) => {
    const { loadConfiguredRules } = await import("./module.ts");
    const { errors } = await loadConfiguredRules(lp);
    return errors.map((e) => ({
      severity: "error" as const,
      code: e.code,
      file: e.file,
      ...(e.line > 0 ? { line: e.line, col: e.col } : {}),
      key: "rule",
      message: e.message,
      expected: "a valid Sigma rule (ironpost rules validate shows every rule error)",
    }));
  },
  build: async ({ section, channels, store, stateDir }) =>
    new (await import("./module.ts")).LogPipelineModule(
      section,
      {
        alerts: channels.outputs.alerts,
        packets: channels.inputs.packets,
        host: channels.inputs.host,
      },
      store,
      { stateDir },
    ),
  metrics: LOG_METRICS,
});
