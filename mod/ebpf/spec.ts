/**
 * The XDP/TC packet filter as a capability: its `[ebpf]` section, grants, build and metrics.
 */
import { defineSpec, field, type SectionConfig } from "../core/mod.ts";
import { libbpfPath, libcPath } from "../../ffi/paths.ts";
import { EBPF_METRICS } from "./metrics.ts";
import { XDP_OBJECT_PATH } from "./object_path.ts";

const section = {
  doc: "XDP/TC packet filter (needs root or CAP_BPF+CAP_NET_ADMIN).",
  keys: {
    enabled: field.bool(false, "load the XDP/TC filter"),
    interface: field.list("name", ["eth0"], "interface name, or a list of names, to attach to"),
    mode: field.oneOf(["xdp", "tc"], "xdp", "xdp, or tc for links where XDP cannot run"),
    xdp_mode: field.oneOf(
      ["auto", "native", "generic"],
      "auto",
      "auto tries native then generic; native or generic force one",
    ),
    blocklist: field.list("cidr", [], "CIDRs (v4 or v6) dropped at the NIC"),
    allowlist: field.list("cidr", [], "CIDRs always passed; wins over every block"),
    blocklist_files: field.list("path", [], "files of CIDRs to drop, one a line, # comments"),
    allowlist_files: field.list("path", [], "files of CIDRs to always pass"),
    syn_rate_per_sec: field.int(1, 100_000_000, 200, "TCP SYNs a source may send per second"),
    syn_burst: field.int(1, 100_000_000, 400, "SYNs a source may send in a burst"),
    portscan_threshold: field.int(2, 65535, 50, "distinct destination ports that make a scan"),
    portscan_window_secs: field.int(1, 3600, 10, "window in which ports are counted"),
    portscan_action: field.oneOf(["alert", "block"], "alert", "alert only, or also drop"),
    event_sample_rate: field.int(1, 1_000_000, 1, "report one ring-buffer event in N (1: all)"),
    max_decisions: field.int(1, 10_000_000, 100_000, "most live block decisions held"),
    max_block_prefix_v4: field.int(
      0,
      32,
      8,
      "widest IPv4 block accepted without --force: one wider than /N (e.g. /0) is refused",
    ),
    max_block_prefix_v6: field.int(
      0,
      128,
      32,
      "widest IPv6 block accepted without --force: one wider than /N (e.g. ::/0) is refused",
    ),
  },
};

/** The `[ebpf]` section's values. */
export type EbpfConfig = SectionConfig<typeof section>;

export const EBPF_SPEC = defineSpec({
  section: "ebpf",
  liveKeys: [
    "allowlist",
    "blocklist",
    "allowlist_files",
    "blocklist_files",
    "max_block_prefix_v4",
    "max_block_prefix_v6",
  ],
  config: section,
  produces: ["packets", "actions"],
  consumes: ["decisions"],
  grants: (c) => ({
    // libbpf and libc are opened by absolute path; their files must be readable.
    read: [
      XDP_OBJECT_PATH,
      libbpfPath(),
      libcPath(),
      ...c.blocklist_files,
      ...c.allowlist_files,
    ],
    ffi: true,
    // The operator who started the agent over SSH stays unblockable (their client address).
    env: ["SSH_CONNECTION"],
  }),
  // Module code is imported only when the module is enabled and built.
  build: async ({ section, channels, store }) =>
    new (await import("./module.ts")).EbpfModule(section, {
      packets: channels.outputs.packets,
      actions: channels.outputs.actions,
      decisions: channels.inputs.decisions,
    }, store),
  metrics: EBPF_METRICS,
});
