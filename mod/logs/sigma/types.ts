import type { Severity } from "../../core/mod.ts";
import type { LogEvent, LogSource } from "../log_event.ts";
import type { EventView } from "./fields.ts";

/** Sigma's `level` values. */
export type SigmaLevel = "informational" | "low" | "medium" | "high" | "critical";

/** Sigma level to Ironpost severity. */
export const LEVEL_SEVERITY: Readonly<Record<SigmaLevel, Severity>> = {
  informational: "info",
  low: "low",
  medium: "medium",
  high: "high",
  critical: "critical",
};

/** What detection rules and correlation rules share. */
export interface RuleMeta {
  /**
   * Unique within one loaded set: the `id`, else the `name`, else `file#n` for the n-th
   * document of the file. Correlations refer to rules by it.
   */
  key: string;
  id?: string;
  name?: string;
  title: string;
  level?: SigmaLevel;
  /**
   * The level as an Ironpost severity. A rule without `level` is `medium`; a correlation
   * without one takes the highest severity among the rules it refers to.
   */
  severity: Severity;
  status?: string;
  description?: string;
  author?: string;
  tags: string[];
  references: string[];
  falsepositives: string[];
  /** Fields worth showing an analyst (Sigma `fields`). */
  fields: string[];
  /** Where the rule's document starts. */
  file: string;
  line: number;
  /**
   * False when the rule only feeds correlations: it is referred to by a correlation and none
   * of those sets `generate: true`. Such matches still go to the `Correlator`, but should not
   * raise alerts on their own.
   */
  standalone: boolean;
}

/** A detection rule compiled to closures. */
export interface CompiledRule extends RuleMeta {
  kind: "rule";
  /** The rule's logsource, lower-cased; `RuleSet` routes events on it. */
  logsource: LogSource;
  /** The detection on one event, without the logsource check. */
  test(view: EventView): boolean;
}

/** Correlation types this engine evaluates. */
export type CorrelationType =
  | "event_count"
  | "value_count"
  | "temporal"
  | "temporal_ordered"
  | "value_sum"
  | "value_avg";

/** Bounds on the correlation's measure; all present bounds must hold. */
export interface CorrelationCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  /** The field(s) `value_*` correlations measure. */
  field?: string[];
}

/** A Sigma correlation rule, its references resolved. */
export interface CorrelationRule extends RuleMeta {
  kind: "correlation";
  type: CorrelationType;
  /** Keys of the referred rules (detection or correlation), in the order written. */
  rules: string[];
  groupBy: string[];
  /** As written (`5m`). */
  timespan: string;
  timespanMs: number;
  condition: CorrelationCondition;
  /** Alias name → referred rule key → field name in that rule's events. */
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
}

/** A detection rule that matched an event. */
export interface Match {
  rule: CompiledRule;
  id?: string;
  title: string;
  level?: SigmaLevel;
  severity: Severity;
  tags: string[];
  file: string;
  /** See `RuleMeta.standalone`. */
  standalone: boolean;
}

/** A correlation that fired. */
export interface CorrelationMatch {
  correlation: CorrelationRule;
  id?: string;
  title: string;
  severity: Severity;
  type: CorrelationType;
  /** The group-by values of the group that fired. */
  group: Record<string, string | number | boolean | null>;
  /** The measure that met the condition: events, distinct values, rules, a sum or average. */
  value: number;
  /** Events in the window. */
  count: number;
  /** Evidence: the window's most recent events (at most `maxEvidence`), oldest first. */
  events: LogEvent[];
  firstMs: number;
  lastMs: number;
  standalone: boolean;
}
