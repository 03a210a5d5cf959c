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
  sample,
  type Store,
  worstHealth,
} from "../core/mod.ts";
import type { LogPipelineConfig } from "./spec.ts";
import { hostToLog, packetToLog } from "./from_events.ts";
import type { LogEvent } from "./log_event.ts";
import {
  ALERTS,
  ALERTS_SUPPRESSED,
  CORRELATION_EVICTIONS,
  LOG_BYTES,
  LOG_EVENTS,
  LOG_LINES,
  LOG_LINES_TRUNCATED,
  RULE_MATCHES,
  RULE_RELOADS,
} from "./metrics.ts";
import { LineParser } from "./parsers/mod.ts";
import { Pipeline } from "./pipeline.ts";
import { type CompiledRule, type CorrelationRule, loadRules, type RuleError } from "./sigma/mod.ts";
import { enabledSources } from "./sources/list.ts";
import type { LineSource, RawLine } from "./sources/mod.ts";
import type { PositionedLine } from "./sources/file_tail.ts";

export interface LogPipelineChannels {
  alerts?: Channel<AlertEvent>;
  packets?: Channel<PacketEvent>;
  host?: Channel<HostEvent>;
}

/** Rules of `rules_dir` and `extra_rules_dirs`; every error of every file, or the rules. */
export async function loadConfiguredRules(
  cfg: Pick<LogPipelineConfig, "rules_dir" | "extra_rules_dirs">,
) {
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
  /** Alerts already in the store (their lines read again after a crash): not sent again. */
  #alertsRepeated = 0;
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
    for (const source of await this.#buildSources()) {
      await source.start();
      this.#sources.push(source);
    }
  }

  async stop(): Promise<void> {
    // Sources first, so every line they accepted is parsed and evaluated before we return.
    const stopped = this.#sources.splice(0);
    for (const s of stopped) {
      try {
        await s.stop();
      } catch (err) {
        this.#log.error("stopping {source}: {error}", { source: s.name, error: errorMessage(err) });
      }
    }
    this.#raw.close();
    await Promise.all(this.#loops);
    // The lines drained above were acked after the sources wrote their checkpoints.
    for (const s of stopped) {
      try {
        await (s as Partial<AckedSource>).flushCheckpoints?.();
      } catch (err) {
        this.#log.error("checkpoint of {source}: {error}", {
          source: s.name,
          error: errorMessage(err),
        });
      }
    }
    for (const parser of this.#parsers.values()) {
      for (const ev of parser.flush()) await this.#evaluate(ev);
    }
    for (const a of this.#pipeline?.flush() ?? []) await this.#send(a);
    if (this.#alertsRepeated > 0) {
      this.#log.info("{n} alert(s) of lines read again were already stored and not sent again", {
        n: this.#alertsRepeated,
      });
    }
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
        sample(LOG_LINES, st.lines, labels),
        sample(LOG_BYTES, st.bytes, labels),
        sample(LOG_LINES_TRUNCATED, st.truncated, labels),
      );
      // Source-specific families (UDP syslog's kernel drops).
      out.push(...(s.metrics?.() ?? []));
    }
    const p = this.#pipeline?.stats();
    if (p) {
      out.push(
        sample(LOG_EVENTS, p.events),
        sample(RULE_MATCHES, p.matches),
        sample(ALERTS, p.alerts),
        sample(ALERTS_SUPPRESSED, p.suppressed),
        sample(CORRELATION_EVICTIONS, p.correlationEvictions),
      );
    }
    out.push(
      sample(RULE_RELOADS, this.#reloads.ok, { result: "ok" }),
      sample(RULE_RELOADS, this.#reloads.failed, { result: "failed" }),
    );
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

  async #buildSources(): Promise<LineSource[]> {
    const ctx = { out: this.#raw, store: this.#store, stateDir: this.#stateDir };
    const sources = await Promise.all(
      enabledSources(this.#cfg).map((s) => s.create(this.#cfg, ctx)),
    );
    // A source that can (files) checkpoints a line only once its alerts are in the store.
    for (const s of sources) (s as Partial<AckedSource>).checkpointOnAck?.();
    return sources;
  }

  async #consumeLines(): Promise<void> {
    for await (const raw of this.#raw) {
      let parser = this.#parsers.get(raw.source);
      if (!parser) {
        parser = new LineParser({ source: raw.format, origin: raw.source });
        this.#parsers.set(raw.source, parser);
      }
      const positioned = raw as Partial<PositionedLine>;
      // Where the line is (and what it says): a line read again gives the same alert ids.
      const origin = positioned.position === undefined
        ? undefined
        : `${raw.source}@${positioned.position}\0${raw.line}`;
      const events = parser.push(raw.line);
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        if (raw.truncated) ev.truncated = true;
        await this.#evaluate(ev, origin === undefined ? undefined : `${origin}\0${i}`);
      }
      positioned.ack?.();
    }
  }

  async #consumeEvents<T extends { id: string; kind: string }>(
    input: Channel<T>,
    toLog: (e: T) => LogEvent,
  ): Promise<void> {
    for await (const e of input) await this.#evaluate(toLog(e), `${e.kind}:${e.id}`, false);
  }

  /**
   * Evaluate an event and hand on its alerts. With `durable` (events of lines a source will
   * read again after a crash), each alert is written to the store before its line is acked,
   * and one the store already holds (same id: the same line and rule) is not sent again.
   */
  async #evaluate(ev: LogEvent, origin?: string, durable = origin !== undefined): Promise<void> {
    if (!this.#pipeline) return;
    let alerts: AlertEvent[];
    try {
      alerts = this.#pipeline.evaluate(ev, origin);
    } catch (err) {
      this.#log.error("rule evaluation failed on an event from {source}: {error}", {
        source: ev.source,
        error: errorMessage(err),
      });
      return;
    }
    for (const a of alerts) {
      if (durable && !(await this.#keep(a))) continue;
      await this.#send(a);
    }
  }

  /** Insert into the store; false when it already held the alert (a repeat). */
  async #keep(a: AlertEvent): Promise<boolean> {
    try {
      if (await this.#store.insertAlert(a)) return true;
      this.#alertsRepeated++;
      return false;
    } catch (err) {
      // Sent anyway: the orchestrator's audit write tries again.
      this.#log.error("storing alert {id}: {error}", { id: a.id, error: errorMessage(err) });
      return true;
    }
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

/** A source whose checkpoints can follow the consumer's acks (`FileTailSource`). */
interface AckedSource {
  checkpointOnAck(): void;
  flushCheckpoints(): Promise<void>;
}
