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
  type Grants,
  type MetricSample,
  sample,
} from "../core/mod.ts";
import { type Retention, SqliteStore } from "../store/mod.ts";
import { VERSION } from "../version.ts";
import { ControlApi } from "./control_api.ts";
import { log, setupLogging } from "./logging.ts";
import { type ModuleSpec, Orchestrator } from "./orchestrator.ts";
import { PidFile } from "./pidfile.ts";
import { probeFacilities, requireFacilities } from "../kernel/mod.ts";
import { CAPABILITIES } from "./registry.ts";
import { builtSections, enabledSpecs, sectionOf } from "./permissions.ts";
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
  let store: SqliteStore | undefined;
  // The config the agent started with: what a restart-only key keeps until the restart.
  const started = loaded.config;
  // Keys changed by SIGHUP that only a restart applies (the log, `/status`).
  let restartRequired: string[] = [];
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
    loaded = result;
    reloads.ok++;
    // Against the config the agent started with: a key changed back is no longer pending.
    restartRequired = restartOnlyChanges(started, loaded.config, specs);
    const effective = liveConfig(started, loaded.config, restartRequired);
    const ng = effective.general;
    await setupLogging({
      level: ng.log_level,
      format: ng.log_format,
      file: ng.log_file || undefined,
    });
    for (const key of restartRequired) {
      logger.warn("SIGHUP: {key} changed; it takes effect after a restart", { key });
    }
    store?.setRetention(retentionOf(effective));
    await orchestrator?.reload(effective);
    logger.info("SIGHUP: config reloaded (sha256 {sha256})", {
      sha256: loaded.sha256,
      ...(restartRequired.length ? { restart_required: restartRequired } : {}),
    });
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
    store = await SqliteStore.open(loaded.config.storage.sqlite_path, {
      retention: retentionOf(loaded.config),
    });
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
      restartRequired: () => restartRequired,
      extraMetrics: (): MetricSample[] => [
        sample(RELOADS, reloads.ok, { result: "ok" }),
        sample(RELOADS, reloads.failed, { result: "failed" }),
        ...(store?.metrics() ?? []),
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

/** The store's retention from `[storage]`. */
function retentionOf(c: IronpostConfig): Retention {
  return { retentionDays: c.storage.retention_days, maxBytes: c.storage.max_db_mb * 1024 * 1024 };
}

/**
 * The core's keys SIGHUP applies live; every other core key needs a restart (paths held
 * open, sockets bound, channels sized, the health timer armed at start).
 */
const CORE_LIVE: Record<string, readonly string[]> = {
  general: ["log_level", "log_format", "log_file", "shutdown_timeout_secs"],
  channels: [],
  storage: ["retention_days", "max_db_mb"],
};

/**
 * Keys changed between the config the agent started with (`a`) and the new one (`b`) that
 * only a restart applies, as `section.key`: the core's keys outside CORE_LIVE; `enabled` of
 * any module; and, of each running module and each service they use, every key outside its
 * spec's `liveKeys`, or inside it when the new value needs a permission the process lacks
 * (Deno's flags are fixed at start) or a service the module was not built with.
 */
export function restartOnlyChanges(
  a: IronpostConfig,
  b: IronpostConfig,
  specs: readonly ModuleSpec[],
): string[] {
  const out = new Set<string>();
  const changed = (x: Record<string, unknown>, y: Record<string, unknown>, k: string) =>
    JSON.stringify(x[k]) !== JSON.stringify(y[k]);
  for (const [section, live] of Object.entries(CORE_LIVE)) {
    const x = sectionOf(a, { section });
    const y = sectionOf(b, { section });
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (changed(x, y, k) && !live.includes(k)) out.add(`${section}.${k}`);
    }
  }
  if (changed(a.general, b.general, "log_file") && b.general.log_file) {
    if (!granted({ write: [b.general.log_file] })) out.add("general.log_file");
  }
  const ctx = { stateDir: a.general.state_dir };
  const running = enabledSpecs(a, specs);
  const services = new Set(
    running.flatMap((s) => [...(s.services?.(sectionOf(a, s)) ?? [])] as string[]),
  );
  for (const spec of specs) {
    if (!spec.section) continue;
    const x = sectionOf(a, spec);
    const y = sectionOf(b, spec);
    if ("enabled" in x && changed(x, y, "enabled")) out.add(`${spec.section}.enabled`);
    const runs = spec.kind === "service" ? services.has(spec.name) : running.includes(spec);
    if (!runs) continue;
    // Only the keys this spec declares: a shared section's other keys are its partner's.
    const keys = spec.config ? Object.keys(spec.config.keys) : Object.keys(y);
    for (const k of keys) {
      if (k === "enabled" || !changed(x, y, k)) continue;
      if (!spec.liveKeys?.includes(k) || !appliesLive(spec, x, k, y[k], ctx)) {
        out.add(`${spec.section}.${k}`);
      }
    }
  }
  return [...out];
}

/** Whether a live key's new value can be applied: same services, permissions held. */
function appliesLive(
  spec: ModuleSpec,
  section: Record<string, unknown>,
  key: string,
  value: unknown,
  ctx: { stateDir: string },
): boolean {
  const next = { ...section, [key]: value };
  const services = (s: Record<string, unknown>) => JSON.stringify(spec.services?.(s) ?? []);
  if (services(section) !== services(next)) return false;
  return spec.grants ? granted(spec.grants(next, ctx)) : true;
}

/** Whether this process already holds every permission `g` asks for. */
function granted(g: Grants): boolean {
  const q = (d: Deno.PermissionDescriptor) => Deno.permissions.querySync(d).state === "granted";
  return (g.read ?? []).every((path) => q({ name: "read", path })) &&
    (g.write ?? []).every((path) => q({ name: "write", path })) &&
    (g.net ?? []).every((host) => q({ name: "net", host })) &&
    (g.run ?? []).every((command) => q({ name: "run", command })) &&
    (g.env ?? []).every((variable) => q({ name: "env", variable })) &&
    (g.sys ?? []).every((kind) =>
      q({ name: "sys", kind: kind as Deno.SysPermissionDescriptor["kind"] })
    ) &&
    (!g.ffi || q({ name: "ffi" })) &&
    (!g.allEnv || q({ name: "env" }));
}

/** The config the agent runs after a reload: the new one, but `pending` keys as started. */
function liveConfig(
  started: IronpostConfig,
  next: IronpostConfig,
  pending: readonly string[],
): IronpostConfig {
  const out = structuredClone(next) as unknown as Record<string, Record<string, unknown>>;
  const from = started as unknown as Record<string, Record<string, unknown>>;
  for (const key of pending) {
    const [section, k] = key.split(".", 2);
    if (out[section] && from[section]) out[section][k] = structuredClone(from[section][k]);
  }
  return out as unknown as IronpostConfig;
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
