import {
  type CliOverride,
  ConfigError,
  formatDiagnostic,
  type IronpostConfig,
  loadConfig,
  type LoadedConfig,
} from "../config/mod.ts";
import {
  counter,
  errorMessage,
  type FacilityStatus,
  type MetricSample,
  sample,
} from "../core/mod.ts";
import { SqliteStore, type Store } from "../store/mod.ts";
import { VERSION } from "../version.ts";
import { ControlApi } from "./control_api.ts";
import { log, setupLogging } from "./logging.ts";
import { type ModuleSpec, Orchestrator } from "./orchestrator.ts";
import { PidFile } from "./pidfile.ts";
import { probeFacilities, requireFacilities } from "../kernel/mod.ts";
import { CAPABILITIES } from "./registry.ts";
import { builtSections, sectionOf } from "./permissions.ts";
import { notifyBindPath, SdNotifier } from "./sd_notify.ts";

const RELOADS = counter("ironpost_config_reloads_total", "SIGHUP config reloads by result", [
  "result",
]);

export interface DaemonOptions {
  loaded: LoadedConfig;
  /** CLI overrides, re-applied when SIGHUP re-reads the file. */
  cli: CliOverride[];
  /** Modules to run; the built-in registry by default (tests pass their own). */
  specs?: readonly ModuleSpec[];
  /** Resolves when the daemon should stop; signals are wired by default. */
  stopSignal?: Promise<void>;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (off in tests that drive the daemon). */
  handleSignals?: boolean;
}

/**
 * Run the agent in the foreground until SIGTERM/SIGINT or `POST /shutdown`.
 * Returns the process exit code: 0 after a clean stop, 1 when start or stop failed.
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  let loaded = opts.loaded;
  const specs = opts.specs ?? CAPABILITIES;
  const g = loaded.config.general;
  await setupLogging({ level: g.log_level, format: g.log_format, file: g.log_file || undefined });
  const logger = log("daemon");
  for (const w of loaded.warnings) logger.warn(formatDiagnostic(w));

  const startedAt = Date.now();
  const reloads = { ok: 0, failed: 0 };
  let pidFile: PidFile | undefined;
  let store: Store | undefined;
  let api: ControlApi | undefined;
  let orchestrator: Orchestrator | undefined;
  let facilities: FacilityStatus[] = [];
  // systemd (Type=notify): READY after the control API is up, RELOADING/READY around SIGHUP,
  // STOPPING, STATUS and WATCHDOG (see sd_notify.ts); undefined outside systemd.
  const sd: { notifier?: SdNotifier } = {};

  let requestStop!: () => void;
  const stopRequested = new Promise<void>((r) => (requestStop = r));
  let stopping = false;
  const onTerm = (signal: string) => () => {
    if (stopping) {
      logger.warn("{signal} again while stopping: exiting now", { signal });
      Deno.exit(1);
    }
    logger.info("{signal} received: stopping", { signal });
    requestStop();
  };
  const reload = async () => {
    await sd.notifier?.reloading();
    try {
      await reloadOnce();
    } finally {
      if (orchestrator) await sd.notifier?.ready(statusText(orchestrator));
    }
  };
  const reloadOnce = async () => {
    const result = await reloadConfig(loaded, opts.cli, specs);
    if (result instanceof ConfigError) {
      reloads.failed++;
      logger.error("SIGHUP: new config is invalid, keeping the running one", {
        diagnostics: result.diagnostics.map(formatDiagnostic),
      });
      return;
    }
    const before = loaded.config;
    loaded = result;
    reloads.ok++;
    const ng = loaded.config.general;
    await setupLogging({
      level: ng.log_level,
      format: ng.log_format,
      file: ng.log_file || undefined,
    });
    for (const key of restartOnlyChanges(before, loaded.config, specs)) {
      logger.warn("SIGHUP: {key} changed; it takes effect after a restart", { key });
    }
    await orchestrator?.reload(loaded.config);
    logger.info("SIGHUP: config reloaded (sha256 {sha256})", { sha256: loaded.sha256 });
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", onTerm("SIGTERM")],
    ["SIGINT", onTerm("SIGINT")],
    [
      "SIGHUP",
      () => void reload().catch((e) => logger.error("SIGHUP failed: {e}", { e: errorMessage(e) })),
    ],
  ];
  if (opts.handleSignals !== false) {
    for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);
  }

  const cleanup = async () => {
    sd.notifier?.close();
    await api?.stop().catch((e) => logger.error("control API stop: {e}", { e: errorMessage(e) }));
    await store?.close().catch((e) => logger.error("store close: {e}", { e: errorMessage(e) }));
    await pidFile?.release();
    if (opts.handleSignals !== false) {
      for (const [sig, fn] of handlers) Deno.removeSignalListener(sig, fn);
    }
  };

  try {
    pidFile = await PidFile.acquire(
      g.pid_file,
      (pid) =>
        logger.warn("replacing stale PID file {path} (PID {pid} is not running)", {
          path: g.pid_file,
          pid: pid ?? "unreadable",
        }),
    );
    store = await SqliteStore.open(loaded.config.storage.sqlite_path);
    orchestrator = new Orchestrator(loaded.config, specs, store);
    // Probed once, before any module loads a program: libbpf decides where tracefs is on
    // its first tracepoint attach and keeps that answer.
    facilities = await probeFacilities({ needs: orchestrator.facilityNeeds, mount: true });
    for (const f of facilities) {
      if (f.state === "mounted") logger.info("mounted {name} at {path}", { ...f });
    }
    requireFacilities(facilities);
    await orchestrator.start();
    const o = orchestrator;
    api = new ControlApi(g.control_socket, {
      orchestrator: () => o,
      configPath: () => loaded.path,
      configSha256: () => loaded.sha256,
      startedAt,
      facilities: () => facilities,
      requestShutdown: () => requestStop(),
      extraMetrics: (): MetricSample[] => [
        sample(RELOADS, reloads.ok, { result: "ok" }),
        sample(RELOADS, reloads.failed, { result: "failed" }),
      ],
    });
    await api.start();
  } catch (err) {
    logger.error("start failed: {error}", { error: errorMessage(err) });
    await cleanup();
    throw err;
  }

  logger.info("ironpost {version} running (PID {pid}), modules: {modules}", {
    version: VERSION,
    pid: Deno.pid,
    modules: orchestrator.planned.length ? orchestrator.planned.join(", ") : "none",
    socket: g.control_socket,
  });
  const running = orchestrator;
  sd.notifier = SdNotifier.fromEnv(notifyBindPath(g.control_socket));
  await sd.notifier?.ready(statusText(running));
  // A keep-alive needs the event loop to run this and every module's health() to answer.
  sd.notifier?.startWatchdog(() => {
    void sd.notifier?.status(statusText(running));
    return true;
  });
  const healthTimer = watchHealth(
    orchestrator,
    loaded.config.general.health_interval_secs,
    () => void sd.notifier?.status(statusText(running)),
  );

  await Promise.race([stopRequested, opts.stopSignal ?? new Promise<never>(() => {})]);
  stopping = true;
  clearInterval(healthTimer);
  await sd.notifier?.stopping();
  let code = 0;
  try {
    await orchestrator.stop();
  } catch (err) {
    code = 1;
    logger.error("stop failed: {error}", { error: errorMessage(err) });
  }
  await cleanup();
  logger.info("stopped (exit {code})", { code });
  return code;
}

async function reloadConfig(
  current: LoadedConfig,
  cli: CliOverride[],
  specs: readonly ModuleSpec[],
): Promise<LoadedConfig | ConfigError> {
  try {
    return await loadConfig({ path: current.path, cli, builtModules: builtSections(specs) });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

/** Keys whose new value only a restart applies (paths held open, sockets bound). */
function restartOnlyChanges(
  a: IronpostConfig,
  b: IronpostConfig,
  specs: readonly ModuleSpec[],
): string[] {
  const keys: [keyof IronpostConfig, string][] = [
    ["general", "pid_file"],
    ["general", "state_dir"],
    ["general", "control_socket"],
    ["storage", "sqlite_path"],
    ["channels", "packet_capacity"],
    ["channels", "host_capacity"],
    ["channels", "alert_capacity"],
    ["channels", "action_capacity"],
  ];
  const changed = keys.filter(([s, k]) =>
    JSON.stringify((a[s] as unknown as Record<string, unknown>)[k]) !==
      JSON.stringify((b[s] as unknown as Record<string, unknown>)[k])
  ).map(([s, k]) => `${s}.${k}`);
  for (const spec of specs) {
    if (spec.section && sectionOf(a, spec).enabled !== sectionOf(b, spec).enabled) {
      changed.push(`${spec.section}.enabled`);
    }
  }
  return changed;
}

/** STATUS= for systemd: overall health and each module that is not healthy. */
function statusText(o: Orchestrator): string {
  const h = o.health();
  const modules = Object.entries(h.modules).map(([name, m]) =>
    m.state === "healthy" ? name : `${name} ${m.state}${m.reason ? ` (${m.reason})` : ""}`
  );
  return `${h.state}; modules: ${modules.join(", ") || "none"}`;
}

/** Log each module's health when it changes, so a degraded module is seen in the logs. */
function watchHealth(
  o: Orchestrator,
  intervalSecs: number,
  onTick: () => void = () => {},
): ReturnType<typeof setInterval> {
  const logger = log("health");
  let last = new Map<string, string>();
  return setInterval(() => {
    onTick();
    const now = new Map<string, string>();
    for (const [name, h] of Object.entries(o.health().modules)) {
      const key = `${h.state}:${h.reason ?? ""}`;
      now.set(name, key);
      if (last.get(name) !== key && (last.has(name) || h.state !== "healthy")) {
        const fn = h.state === "healthy" ? "info" : h.state === "degraded" ? "warn" : "error";
        logger[fn]("{module} is {state}", { module: name, state: h.state, reason: h.reason });
      }
    }
    last = now;
  }, intervalSecs * 1000);
}
