import { getLogger } from "@logtape/logtape";
import {
  type AlertEvent,
  Channel,
  errorMessage,
  type Health,
  type HostEvent,
  IronpostError,
  type MetricSample,
  type Module,
  type PacketEvent,
  worstHealth,
} from "../core/mod.ts";
import type { LogPipelineConfig } from "../config/mod.ts";
import type { Store } from "../store/mod.ts";
import { hostToLog, packetToLog } from "./from_events.ts";
import type { LogEvent } from "./log_event.ts";
import { type LineFormat, LineParser } from "./parsers/mod.ts";
import { Pipeline } from "./pipeline.ts";
import { type CompiledRule, type CorrelationRule, loadRules, type RuleError } from "./sigma/mod.ts";
import {
  checkpointsFromStore,
  FileTailSource,
  JournaldSource,
  type LineSource,
  type RawLine,
  SyslogTcpSource,
  SyslogUdpSource,
} from "./sources/mod.ts";

export interface LogPipelineChannels {
  alerts?: Channel<AlertEvent>;
  packets?: Channel<PacketEvent>;
  host?: Channel<HostEvent>;
}

/** Rules of `rules_dir` and `extra_rules_dirs`; every error of every file, or the rules. */
export async function loadConfiguredRules(cfg: LogPipelineConfig) {
  return await loadRules([cfg.rules_dir, ...cfg.extra_rules_dirs]);
}

/** All rule errors as one error whose message lists them (file:line:col each). */
function rulesError(errors: RuleError[]): IronpostError {
  return new IronpostError(
    "E_RULES_INVALID",
    `${errors.length} rule error(s):\n` + errors.slice(0, 50).map((e) => e.format()).join("\n"),
    { count: errors.length },
  );
}

/**
 * The log pipeline: sources produce raw lines, parsers turn them into LogEvents, the Sigma
 * engine (with correlations and suppression) turns matches into AlertEvents. Packet and host
 * events from the other modules are more sources for the same rules.
 */
export class LogPipelineModule implements Module {
  readonly name = "log_pipeline";
  #cfg: LogPipelineConfig;
  #ch: LogPipelineChannels;
  #store: Store;
  #pipeline?: Pipeline;
  #raw: Channel<RawLine>;
  #sources: LineSource[] = [];
  #parsers = new Map<string, LineParser>();
  #loops: Promise<void>[] = [];
  #log = getLogger(["ironpost", "logs"]);
  #alertsDropped = 0;
  #reloads = { ok: 0, failed: 0 };

  #stateDir: string;

  /** `stateDir` holds the journal cursor (general.state_dir). */
  constructor(
    cfg: LogPipelineConfig,
    channels: LogPipelineChannels,
    store: Store,
    opts: { stateDir: string },
  ) {
    this.#stateDir = opts.stateDir;
    this.#cfg = cfg;
    this.#ch = channels;
    this.#store = store;
    this.#raw = new Channel<RawLine>("log-lines", cfg.buffer_capacity);
  }

  async start(): Promise<void> {
    const { rules, correlations, errors } = await loadConfiguredRules(this.#cfg);
    if (errors.length > 0) throw rulesError(errors);
    this.#pipeline = this.#newPipeline(rules, correlations);
    this.#log.info("loaded {rules} rule(s) and {correlations} correlation(s)", {
      rules: rules.length,
      correlations: correlations.length,
    });
    this.#loops.push(this.#consumeLines());
    if (this.#ch.packets) this.#loops.push(this.#consumeEvents(this.#ch.packets, packetToLog));
    if (this.#ch.host) this.#loops.push(this.#consumeEvents(this.#ch.host, hostToLog));
    for (const source of this.#buildSources()) {
      await source.start();
      this.#sources.push(source);
    }
  }

  async stop(): Promise<void> {
    // Sources first, so every line they accepted is parsed and evaluated before we return.
    for (const s of this.#sources.splice(0)) {
      try {
        await s.stop();
      } catch (err) {
        this.#log.error("stopping {source}: {error}", { source: s.name, error: errorMessage(err) });
      }
    }
    this.#raw.close();
    await Promise.all(this.#loops);
    for (const parser of this.#parsers.values()) {
      for (const ev of parser.flush()) await this.#evaluate(ev);
    }
    for (const a of this.#pipeline?.flush() ?? []) await this.#send(a);
  }

  health(): Health {
    const states = this.#sources.map((s) => ({ name: s.name, h: s.health() }));
    const bad = states.filter((s) => s.h.state !== "healthy");
    if (bad.length === 0) return { state: "healthy" };
    return {
      state: worstHealth(bad.map((s) => s.h.state)),
      reason: bad.map((s) => `${s.name}: ${s.h.reason ?? s.h.state}`).join("; "),
    };
  }

  /** SIGHUP: swap in the new rule set atomically, or keep the old one and say why. */
  async reload(section: unknown): Promise<void> {
    const cfg = section as LogPipelineConfig;
    const { rules, correlations, errors } = await loadConfiguredRules(cfg);
    if (errors.length > 0) {
      this.#reloads.failed++;
      this.#log.error("SIGHUP: rules not reloaded, keeping the running set: {error}", {
        error: rulesError(errors).message,
      });
      return;
    }
    this.#pipeline = this.#newPipeline(rules, correlations);
    this.#cfg = { ...this.#cfg, rules_dir: cfg.rules_dir, extra_rules_dirs: cfg.extra_rules_dirs };
    this.#reloads.ok++;
    this.#log.info("SIGHUP: reloaded {rules} rule(s), {correlations} correlation(s)", {
      rules: rules.length,
      correlations: correlations.length,
    });
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const s of this.#sources) {
      const st = s.stats();
      const labels = { source: s.name };
      out.push(
        {
          name: "ironpost_log_lines_total",
          type: "counter",
          help: "Lines read by a log source",
          labels,
          value: st.lines,
        },
        {
          name: "ironpost_log_bytes_total",
          type: "counter",
          help: "Bytes read by a log source",
          labels,
          value: st.bytes,
        },
        {
          name: "ironpost_log_lines_truncated_total",
          type: "counter",
          help: "Lines cut at max_line_bytes / syslog_max_message_bytes",
          labels,
          value: st.truncated,
        },
      );
    }
    const p = this.#pipeline?.stats();
    if (p) {
      out.push(
        {
          name: "ironpost_log_events_total",
          type: "counter",
          help: "Events evaluated by the rules",
          value: p.events,
        },
        {
          name: "ironpost_rule_matches_total",
          type: "counter",
          help: "Rule matches (before correlation)",
          value: p.matches,
        },
        {
          name: "ironpost_alerts_total",
          type: "counter",
          help: "Alerts raised by the log pipeline",
          value: p.alerts,
        },
        {
          name: "ironpost_alerts_suppressed_total",
          type: "counter",
          help: "Repeats of an alert within suppress_window_secs, counted not sent",
          value: p.suppressed,
        },
        {
          name: "ironpost_correlation_evictions_total",
          type: "counter",
          help: "Correlation groups evicted at correlation_max_groups",
          value: p.correlationEvictions,
        },
      );
    }
    out.push({
      name: "ironpost_rule_reloads_total",
      type: "counter",
      help: "SIGHUP rule reloads by result",
      labels: { result: "ok" },
      value: this.#reloads.ok,
    }, {
      name: "ironpost_rule_reloads_total",
      type: "counter",
      help: "SIGHUP rule reloads by result",
      labels: { result: "failed" },
      value: this.#reloads.failed,
    });
    return out;
  }

  #newPipeline(
    rules: CompiledRule[],
    correlations: CorrelationRule[],
  ) {
    return new Pipeline(rules, correlations, {
      suppressWindowSecs: this.#cfg.suppress_window_secs,
      correlationMaxGroups: this.#cfg.correlation_max_groups,
    });
  }

  #buildSources(): LineSource[] {
    const out: LineSource[] = [];
    const cfg = this.#cfg;
    if (cfg.file_paths.length > 0) {
      out.push(
        new FileTailSource({
          paths: cfg.file_paths,
          startAt: cfg.start_at,
          maxLineBytes: cfg.max_line_bytes,
          checkpoints: checkpointsFromStore(this.#store),
          flushIntervalMs: cfg.flush_interval_secs * 1000,
          format: "syslog",
        }, this.#raw),
      );
    }
    if (cfg.journald) {
      out.push(
        new JournaldSource({
          stateDir: this.#stateDir,
          units: cfg.journald_units,
          maxLineBytes: cfg.max_line_bytes,
          flushIntervalMs: cfg.flush_interval_secs * 1000,
        }, this.#raw),
      );
    }
    if (cfg.syslog_udp_addr) {
      out.push(
        new SyslogUdpSource({
          ...splitAddr(cfg.syslog_udp_addr),
          recvBufferBytes: cfg.syslog_udp_recv_buffer_bytes,
          maxMessageBytes: cfg.syslog_max_message_bytes,
        }, this.#raw),
      );
    }
    if (cfg.syslog_tcp_addr) {
      out.push(
        new SyslogTcpSource({
          ...splitAddr(cfg.syslog_tcp_addr),
          maxMessageBytes: cfg.syslog_max_message_bytes,
          maxConnections: cfg.syslog_tcp_max_connections,
        }, this.#raw),
      );
    }
    return out;
  }

  async #consumeLines(): Promise<void> {
    for await (const raw of this.#raw) {
      let parser = this.#parsers.get(raw.source);
      if (!parser) {
        parser = new LineParser({ source: formatOf(raw), origin: raw.source });
        this.#parsers.set(raw.source, parser);
      }
      for (const ev of parser.push(raw.line)) {
        if (raw.truncated) ev.truncated = true;
        await this.#evaluate(ev);
      }
    }
  }

  async #consumeEvents<T>(input: Channel<T>, toLog: (e: T) => LogEvent): Promise<void> {
    for await (const e of input) await this.#evaluate(toLog(e));
  }

  async #evaluate(ev: LogEvent): Promise<void> {
    if (!this.#pipeline) return;
    let alerts: AlertEvent[];
    try {
      alerts = this.#pipeline.evaluate(ev);
    } catch (err) {
      this.#log.error("rule evaluation failed on an event from {source}: {error}", {
        source: ev.source,
        error: errorMessage(err),
      });
      return;
    }
    for (const a of alerts) await this.#send(a);
  }

  async #send(a: AlertEvent): Promise<void> {
    if (!this.#ch.alerts) return;
    try {
      await this.#ch.alerts.send(a);
    } catch {
      this.#alertsDropped++;
    }
  }
}

/** `host:port` or `[v6]:port` (validated by the config) as listen options. */
function splitAddr(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(addr.slice(i + 1)) };
}

/** Which parser a raw line needs: audit lines by content, journald JSON, else syslog. */
function formatOf(raw: RawLine): LineFormat {
  if (raw.format === "journal-json") return "journal-json";
  if (raw.line.startsWith("type=") && raw.line.includes("msg=audit(")) return "auditd";
  return "syslog";
}
