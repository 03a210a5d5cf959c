import { controlRequest } from "../daemon/mod.ts";
import { IronpostError } from "../core/mod.ts";
import { loadOrReport, type Values } from "./args.ts";
import { err, out, table } from "./output.ts";

interface StatusBody {
  version: string;
  pid: number;
  uptime_secs: number;
  status: string;
  config: { path: string; sha256: string };
  modules: { name: string; state: string; reason?: string }[];
  channels: { name: string; depth: number; capacity: number; sent: number; dropped: number }[];
  kernel?: { name: string; state: string; path: string; detail: string; needed_by: string[] }[];
  /** Keys changed by SIGHUP that take effect only after a restart. */
  restart_required?: string[];
}

/** `ironpost status`: the running agent's health, modules and channels. */
export async function statusCommand(values: Values): Promise<number> {
  const loaded = await loadOrReport(values);
  if (!loaded) return 1;
  let body: StatusBody;
  try {
    const r = await controlRequest(loaded.config.general.control_socket, "GET", "/status");
    body = JSON.parse(r.body);
  } catch (e) {
    if (e instanceof IronpostError && e.code === "E_NOT_RUNNING") {
      if (values.json) out(JSON.stringify({ status: "not running" }));
      else err(`ironpost: ${e.message}`);
      return 3;
    }
    throw e;
  }
  if (values.json) {
    out(JSON.stringify(body, null, 2));
  } else {
    out(`ironpost ${body.version}: ${body.status.toUpperCase()}`);
    out(`  PID ${body.pid}, up ${body.uptime_secs} s`);
    out(`  config ${body.config.path} (sha256 ${body.config.sha256.slice(0, 12)}…)`);
    if (body.restart_required?.length) {
      out(`  RESTART REQUIRED to apply: ${body.restart_required.join(", ")}`);
    }
    out();
    out(table(
      ["MODULE", "STATE", "REASON"],
      body.modules.map((m) => [m.name, m.state, m.reason ?? ""]),
    ));
    out();
    out(table(
      ["CHANNEL", "DEPTH", "CAPACITY", "SENT", "DROPPED"],
      body.channels.map((c) => [
        c.name,
        String(c.depth),
        String(c.capacity),
        String(c.sent),
        String(c.dropped),
      ]),
    ));
    if (body.kernel) {
      out();
      out(table(
        ["KERNEL", "STATE", "PATH", "NEEDED BY", "DETAIL"],
        body.kernel.map((k) => [k.name, k.state, k.path, k.needed_by.join(",") || "-", k.detail]),
      ));
    }
  }
  return body.status === "unhealthy" ? 1 : 0;
}
