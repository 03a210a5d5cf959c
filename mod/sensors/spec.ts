/**
 * The host sensors as a capability: the `[sensors]` section, the kernel facilities and
 * grants they need, how the module is built, and its metrics.
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { libbpfPath } from "../../ffi/paths.ts";
import { SENSOR_METRICS } from "./metrics.ts";
import { SENSORS_OBJECT_PATH } from "./object_path.ts";

const MIB = 1024 * 1024;

const section = {
  doc: "CO-RE eBPF host sensors (process, file, network).",
  keys: {
    enabled: field.bool(false, "load the host sensors"),
    exec: field.bool(true, "report process executions"),
    file: field.bool(true, "report file writes and sensitive reads"),
    network: field.bool(true, "report TCP connects and accepts"),
    trusted_exec_prefixes: field.list(
      "path",
      [],
      "executables under these prefixes are not reported",
    ),
    watch_paths: field.list(
      "path",
      [
        "/etc/passwd",
        "/etc/shadow",
        "/etc/sudoers",
        "/etc/sudoers.d",
        "/root/.ssh/authorized_keys",
        "/etc/systemd/system",
        "/etc/cron.d",
        "/var/spool/cron",
      ],
      "critical files and dirs whose changes are always reported",
    ),
    sensitive_read_prefixes: field.list(
      "path",
      ["/etc/shadow", "/root/.ssh"],
      "reads under these are reported",
    ),
    ignore_paths: field.list(
      "path",
      ["/proc", "/sys", "/dev"],
      "file events under these are dropped",
    ),
    ignore_comms: field.list("string", [], "process names whose events are dropped in the kernel"),
    // A create/write/unlink storm makes ~100k records/s for a moment; 32 MiB holds ~45k of
    // them while the reader catches up.
    ringbuf_bytes: field.int(
      4096,
      1024 * MIB,
      32 * MIB,
      "ring buffer size in bytes (a power of two)",
      { powerOfTwo: true },
    ),
    process_table_size: field.int(
      1024,
      10_000_000,
      32768,
      "processes remembered for parent lookup",
    ),
    loss_threshold_percent: field.int(0, 100, 1, "lost-record rate that turns health degraded"),
  },
};

/** The `[sensors]` section's values. */
export type SensorsConfig = SectionConfig<typeof section>;

export const SENSORS_SPEC = defineSpec({
  section: "sensors",
  config: section,
  liveKeys: [], // reload() applies nothing: the programs and switches are set at start
  produces: ["host"],
  consumes: [],
  services: () => ["containers"],
  // CO-RE relocations need the kernel's BTF; syscall tracepoints need tracefs.
  facilities: () => ["btf", "tracefs"],
  grants: () => ({
    // /proc and /sys are read through libc (Deno refuses them without --allow-all), so only
    // the object, libbpf and /etc/passwd (uid → User) need read access.
    read: [SENSORS_OBJECT_PATH, libbpfPath(), "/etc/passwd"],
    ffi: true,
  }),
  build: async ({ section, channels, services }) =>
    new (await import("./module.ts")).SensorsModule(section, {
      host: channels.outputs.host,
    }, { containers: await services.containers() }),
  metrics: SENSOR_METRICS,
});
