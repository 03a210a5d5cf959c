/**
 * A Sigma rule engine: SigmaHQ YAML rules loaded with positioned errors, compiled once to
 * closures, routed by logsource, and correlation rules evaluated over event time.
 *
 * Loading needs read access to the rule files and env access to `YAML_ENV_VARS`. Regexes run
 * on RE2 (`re2js`), in time linear in the text whatever the V8 flags; what RE2 cannot run
 * (lookarounds, backreferences) is refused at load with its position.
 *
 * ```ts ignore
 * import { Correlator, loadRules, RuleSet } from "./mod.ts";
 * const { rules, correlations, errors } = await loadRules(["rules/"]);
 * for (const e of errors) console.error(e.format());
 * const set = new RuleSet(rules);
 * const correlator = new Correlator(correlations);
 * // per event: for (const m of set.match(ev)) correlator.observe(m, ev, Date.parse(ev.ts));
 * ```
 * @module
 */
export { Correlator, type CorrelatorOptions, type CorrelatorStats } from "./correlation.ts";
export { RuleError } from "./errors.ts";
export { EventView, type FieldValue } from "./fields.ts";
export { RuleSet } from "./index.ts";
export {
  type LoadOptions,
  type LoadResult,
  loadRules,
  MAX_RULE_FILE_BYTES,
  MAX_RULES,
  parseRules,
} from "./load.ts";
export { MODIFIER_NAMES } from "./modifiers.ts";
export { YAML_ENV_VARS } from "./nodes.ts";
export {
  type CompiledRule,
  type CorrelationCondition,
  type CorrelationMatch,
  type CorrelationRule,
  type CorrelationType,
  LEVEL_SEVERITY,
  type Match,
  type RuleMeta,
  type SigmaLevel,
} from "./types.ts";
