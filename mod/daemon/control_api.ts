import { dirname } from "node:path";
import {
  errorMessage,
  type FacilityStatus,
  gauge,
  IronpostError,
  jsonResponse,
  type MetricSample,
  sample,
} from "../core/mod.ts";
import { VERSION } from "../version.ts";
import { renderPrometheus } from "./metrics.ts";
import type { Orchestrator } from "./orchestrator.ts";

/** The agent-level metric families the control API adds to every module's. */
const AGENT_METRICS = {
  buildInfo: gauge("ironpost_build_info", "Build information; always 1", [
    "version",
    "deno",
    "v8",
  ]),
  uptime: gauge("ironpost_uptime_seconds", "Seconds since the agent started"),
  healthy: gauge("ironpost_module_healthy", "1 when the module reports healthy, 0 otherwise", [
    "module",
    "state",
  ]),
};

/** What the control API reports and can do, supplied by the daemon. */
export interface ControlDeps {
  orchestrator: () => Orchestrator;
  configPath: () => string;
  configSha256: () => string;
  startedAt: number;
  /** The kernel facilities probed at start. */
  facilities: () => readonly FacilityStatus[];
  /** Agent-level samples (reloads, build info are added here). */
  extraMetrics: () => MetricSample[];
  /** Ask the daemon to stop gracefully (POST /shutdown, used by `ironpost stop`). */
  requestShutdown: () => void;
  /** Keys changed by SIGHUP that take effect only after a restart (`section.key`). */
  restartRequired?: () => readonly string[];
}

/** The socket the server binds before renaming into place; also needs `--allow-net`. */
export function stagingPath(socket: string): string {
  return `${socket}.new`;
}

/**
 * The control API: HTTP over a unix socket of mode 0600. The socket is bound under a
 * staging name, chmodded, then renamed into place, so no one can connect to it while it
 * still has the default mode.
 */
export class ControlApi {
  readonly socket: string;
  #server?: Deno.HttpServer<Deno.UnixAddr>;
  #deps: ControlDeps;

  constructor(socket: string, deps: ControlDeps) {
    this.socket = socket;
    this.#deps = deps;
  }

  async start(): Promise<void> {
    await Deno.mkdir(dirname(this.socket), { recursive: true, mode: 0o755 });
    await removeStaleSocket(this.socket);
    const staging = stagingPath(this.socket);
    await removeStaleSocket(staging);
    this.#server = Deno.serve(
      { path: staging, transport: "unix", onListen: () => {} },
      (req) => this.#handle(req),
    );
    await Deno.chmod(staging, 0o600);
    await Deno.rename(staging, this.socket);
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    await this.#server.shutdown();
    this.#server = undefined;
    await Deno.remove(this.socket).catch(() => {});
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const route = `${req.method} ${url.pathname}`;
    const moduleRoutes = this.#deps.orchestrator().routes();
    const own = moduleRoutes.find((r) => r.method === req.method && r.path === url.pathname);
    if (own) {
      try {
        return await own.handle(req);
      } catch (err) {
        return json(500, { error: errorMessage(err) });
      }
    }
    switch (route) {
      case "GET /health":
        return this.#health();
      case "GET /status":
        return json(200, this.#status());
      case "GET /metrics":
        return new Response(renderPrometheus(this.#metrics()), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      case "POST /shutdown":
        queueMicrotask(() => this.#deps.requestShutdown());
        return json(202, { status: "stopping" });
    }
    const known = [
      "/health",
      "/status",
      "/metrics",
      "/shutdown",
      ...moduleRoutes.map((r) => r.path),
    ];
    if (known.includes(url.pathname)) {
      return json(405, { error: `method ${req.method} not allowed on ${url.pathname}` });
    }
    return json(404, { error: `no such endpoint ${url.pathname}`, endpoints: known });
  }

  #health(): Response {
    const h = this.#deps.orchestrator().health();
    return json(h.state === "unhealthy" ? 503 : 200, { status: h.state, modules: h.modules });
  }

  #status() {
    const o = this.#deps.orchestrator();
    const h = o.health();
    return {
      version: VERSION,
      pid: Deno.pid,
      started_at: new Date(this.#deps.startedAt).toISOString(),
      uptime_secs: Math.round((Date.now() - this.#deps.startedAt) / 100) / 10,
      status: h.state,
      config: { path: this.#deps.configPath(), sha256: this.#deps.configSha256() },
      modules: Object.entries(h.modules).map(([name, m]) => ({ name, ...m })),
      channels: o.channelStats(),
      restart_required: this.#deps.restartRequired?.() ?? [],
      kernel: this.#deps.facilities().map((f) => ({
        name: f.name,
        state: f.state,
        path: f.path,
        detail: f.detail,
        needed_by: f.neededBy,
        ...(f.fix ? { fix: f.fix } : {}),
      })),
    };
  }

  #metrics(): MetricSample[] {
    const o = this.#deps.orchestrator();
    const h = o.health();
    const samples: MetricSample[] = [
      sample(AGENT_METRICS.buildInfo, 1, {
        version: VERSION,
        deno: Deno.version.deno,
        v8: Deno.version.v8,
      }),
      sample(AGENT_METRICS.uptime, (Date.now() - this.#deps.startedAt) / 1000),
    ];
    for (const [module, m] of Object.entries(h.modules)) {
      samples.push(
        sample(AGENT_METRICS.healthy, m.state === "healthy" ? 1 : 0, { module, state: m.state }),
      );
    }
    return [...samples, ...this.#deps.extraMetrics(), ...o.metrics()];
  }
}

/** A JSON response, as the control API and module routes answer. */
export const json = jsonResponse;

/**
 * Remove a socket file left by an agent that died, refusing to touch a live socket or
 * anything that is not a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!st.isSocket) {
    throw new IronpostError(
      "E_SOCKET_PATH",
      `${path} exists and is not a socket; refusing to replace it`,
      { path, hint: "set general.control_socket to another path or remove the file" },
    );
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    throw new IronpostError(
      "E_ALREADY_RUNNING",
      `Another process is serving the control socket ${path}`,
      { path },
    );
  } catch (err) {
    if (err instanceof IronpostError) throw err;
    await Deno.remove(path);
  }
}
