/**
 * Reading response policy files: every `*.toml` of the policy directory, in sorted order,
 * to `Policy` values, with every problem of every file reported at once as a positioned
 * `Diagnostic` (a policy with an error is left out; the others still load).
 *
 * ```toml
 * [[policy]]
 * id = "block-ssh-brute-force"        # unique across all files: [a-z0-9][a-z0-9._-]*
 * description = "…"                   # optional
 * dry_run = false                     # optional: decide and audit as "would", do nothing
 * continue = false                    # optional: keep evaluating later policies after a match
 * cooldown_secs = 600                 # optional: overrides container.cooldown_secs
 * [policy.match]                      # every key optional; all present keys must hold
 * min_severity = "medium"             # info|low|medium|high|critical
 * rules = ["…"]                       # AlertEvent.ruleId, any of
 * tags = ["attack.t1110"]             # AlertEvent.tags, any of (dotted children included)
 * source_cidrs = ["0.0.0.0/0"]        # AlertEvent.srcIp within any
 * containers = ["web-*"]              # globs (* ?) on the container name
 * images = ["nginx*"]                 # globs on the image
 * labels = { app = "web" }            # all must equal the container's labels
 * target = "any"                      # host | container | any
 * [[policy.actions]]                  # at least one, run in order
 * type = "block_ip"                   # alert_only | block_ip | pause | stop | kill | isolate
 * ttl = "10m"                         # block_ip, required: "90" (s), "30s", "10m", "1h", "7d"
 * ```
 *
 * `stop` takes `grace_secs` (default 10), `kill` takes `signal` (default `SIGKILL`).
 * Other extensions in the directory are ignored: KubeArmor policies may live beside these.
 * @module
 */
import { parse, TomlError } from "smol-toml";
import {
  closest,
  describeTomlValue,
  type Diagnostic,
  errorMessage,
  isTomlTable,
  type KeyPosition,
  locateKeys,
  parseCidr,
  SEVERITIES,
  type Severity,
} from "../core/mod.ts";
import {
  CONTAINER_ACTIONS,
  type Policy,
  POLICY_ACTION_TYPES,
  POLICY_TARGETS,
  type PolicyAction,
  type PolicyActionType,
  type PolicyMatch,
  type PolicySet,
  type PolicyTarget,
  type SourceCidr,
} from "./policy.ts";

const POLICY_KEYS = [
  "id",
  "description",
  "dry_run",
  "continue",
  "cooldown_secs",
  "match",
  "actions",
];
const MATCH_KEYS = [
  "min_severity",
  "rules",
  "tags",
  "source_cidrs",
  "containers",
  "images",
  "labels",
  "target",
];
const ACTION_KEYS: Record<PolicyActionType, string[]> = {
  alert_only: ["type"],
  block_ip: ["type", "ttl"],
  pause: ["type"],
  stop: ["type", "grace_secs"],
  kill: ["type", "signal"],
  isolate: ["type"],
};

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ID_EXPECTED = "a policy id: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit";
const DEFAULT_GRACE_SECS = 10;
const MAX_GRACE_SECS = 3600;
const MAX_COOLDOWN_SECS = 86400;
const MAX_TTL_SECS = 365 * 86400;
const DURATION_EXPECTED =
  'a duration from 1 s to 365 d: seconds ("90" or 90), or a number with s, m, h or d ("10m")';

/** Linux signal names Docker's kill accepts (the real-time ones have no portable name). */
export const SIGNALS: readonly string[] = [
  "SIGABRT",
  "SIGALRM",
  "SIGBUS",
  "SIGCHLD",
  "SIGCONT",
  "SIGFPE",
  "SIGHUP",
  "SIGILL",
  "SIGINT",
  "SIGIO",
  "SIGKILL",
  "SIGPIPE",
  "SIGPROF",
  "SIGPWR",
  "SIGQUIT",
  "SIGSEGV",
  "SIGSTKFLT",
  "SIGSTOP",
  "SIGSYS",
  "SIGTERM",
  "SIGTRAP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGUSR1",
  "SIGUSR2",
  "SIGVTALRM",
  "SIGWINCH",
  "SIGXCPU",
  "SIGXFSZ",
];

const UNIT_SECS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Seconds of a policy duration, or why it is not one: a whole number of seconds (a TOML
 * integer or a string), or a number followed by `s`, `m`, `h` or `d`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./policy_load.ts";
 * console.assert(parseDuration("10m") === 600);
 * console.assert(parseDuration("90") === 90);
 * console.assert(typeof parseDuration("10 minutes") === "string");
 * ```
 */
export function parseDuration(v: unknown): number | string {
  let secs: number;
  if (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))) {
    secs = Number(v);
  } else if (typeof v === "string") {
    const m = /^(\d{1,12})([smhd]?)$/.exec(v);
    if (!m) return `"${v}" is not a duration`;
    secs = Number(m[1]) * UNIT_SECS[m[2]];
  } else return `wrong type: got ${describeTomlValue(v)}`;
  if (secs < 1 || secs > MAX_TTL_SECS) return `${describeTomlValue(v)} is out of range`;
  return secs;
}

/**
 * The shortest exact text of a duration in seconds (`600` → `"10m"`), as policies write it.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./policy_load.ts";
 * console.assert(formatDuration(600) === "10m" && formatDuration(90) === "90s");
 * ```
 */
export function formatDuration(secs: number): string {
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (secs >= n && secs % n === 0) return `${secs / n}${unit}`;
  }
  return `${secs}s`;
}

/**
 * Read every `*.toml` file of `dir` (sorted by name; dot files and other extensions are
 * left alone) as policies, in evaluation order. Never throws: a missing or unreadable
 * directory or file, TOML syntax, unknown keys, wrong types and values, duplicate ids across
 * files are all diagnostics, each with `file:line:col` where it has a position. Policies with
 * an error are left out of `policies`; warnings (a policy that can never act or never be
 * reached) leave it in.
 *
 * @example
 * ```ts ignore
 * import { loadPolicies } from "./policy_load.ts";
 * import { formatDiagnostic } from "../core/mod.ts";
 * const { policies, diagnostics } = await loadPolicies("config/policies");
 * for (const d of diagnostics) console.error(formatDiagnostic(d));
 * console.log(policies.map((p) => p.id));
 * ```
 */
export async function loadPolicies(dir: string): Promise<PolicySet> {
  const base = dir.endsWith("/") && dir.length > 1 ? dir.slice(0, -1) : dir;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(base)) {
      if (!e.name.endsWith(".toml") || e.name.startsWith(".")) continue;
      // A symlinked policy file counts; a directory named x.toml does not.
      if (e.isFile || (e.isSymlink && await isFile(`${base}/${e.name}`))) names.push(e.name);
    }
  } catch (err) {
    return { policies: [], diagnostics: [dirProblem(base, err)] };
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const policies: Located[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of names) {
    const file = `${base}/${name}`;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      diagnostics.push({
        severity: "error",
        code: "E_POLICY_READ",
        file,
        key: "(file)",
        message: `cannot read: ${errorMessage(err)}`,
        expected: "a readable policy file",
      });
      continue;
    }
    const one = parseFile(text, file);
    policies.push(...one.policies);
    diagnostics.push(...one.diagnostics);
  }
  return crossCheck(policies, diagnostics, names.map((n) => `${base}/${n}`));
}

/**
 * The policies of one file's text, checked as `loadPolicies` checks a directory holding
 * only this file. Never throws, whatever the text.
 *
 * @example
 * ```ts
 * import { parsePolicies } from "./policy_load.ts";
 * const { policies, diagnostics } = parsePolicies(
 *   '[[policy]]\nid = "pause-web"\n[[policy.actions]]\ntype = "pause"\n',
 *   "web.toml",
 * );
 * console.assert(policies[0].id === "pause-web" && diagnostics.length === 0);
 * const bad = parsePolicies('[[policy]]\nid = "x"\n[[policy.actions]]\ntype = "paws"\n', "b.toml");
 * console.assert(bad.diagnostics[0].message.includes('did you mean "pause"'));
 * ```
 */
export function parsePolicies(text: string, file: string): PolicySet {
  const one = parseFile(text, file);
  return crossCheck(one.policies, one.diagnostics, [file]);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function dirProblem(dir: string, err: unknown): Diagnostic {
  const message = err instanceof Deno.errors.NotFound
    ? "the policy directory does not exist"
    : err instanceof Deno.errors.NotADirectory
    ? "the policy path is not a directory"
    : `cannot read the policy directory: ${errorMessage(err)}`;
  return {
    severity: "error",
    code: "E_POLICY_DIR",
    file: dir,
    key: "container.policy_dir",
    message,
    expected: "a readable directory of *.toml response policy files",
  };
}

/**
 * Checks across files (duplicate ids, policies a catch-all before them hides), then the
 * diagnostics in reading order: by file as `files` lists them, then by position.
 */
function crossCheck(policies: Located[], diagnostics: Diagnostic[], files: string[]): PolicySet {
  const out: Located[] = [];
  const seen = new Map<string, Located>();
  let catchAll: Located | undefined;
  for (const p of policies) {
    const first = seen.get(p.id);
    if (first) {
      diagnostics.push({
        severity: "error",
        code: "E_POLICY_DUPLICATE_ID",
        file: p.file,
        ...p.idAt,
        key: `${p.keyPath}.id`,
        message: `duplicate policy id "${p.id}" (first defined at ${where(first)})`,
        expected: "an id no other policy in the policy directory has",
      });
      continue;
    }
    seen.set(p.id, p);
    if (catchAll) {
      diagnostics.push({
        severity: "warning",
        code: "E_POLICY_UNREACHABLE",
        file: p.file,
        ...p.at,
        key: p.keyPath,
        message: `policy "${p.id}" is never evaluated: "${catchAll.id}" (${
          where(catchAll)
        }) matches every alert and does not continue`,
        expected: `a match on "${catchAll.id}", continue = true on it, or this policy before it`,
      });
    } else if (isCatchAll(p)) catchAll = p;
    out.push(p);
  }
  const rank = new Map(files.map((f, i) => [f, i]));
  diagnostics.sort((a, b) =>
    (rank.get(a.file) ?? -1) - (rank.get(b.file) ?? -1) ||
    (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0)
  );
  // The positions were for the checks above; callers get the documented Policy shape.
  return { policies: out.map(strip), diagnostics };
}

function isCatchAll(p: Policy): boolean {
  const m = p.match;
  return !p.continue && m.target === "any" &&
    Object.keys(m).every((k) => k === "target");
}

function where(p: Policy): string {
  return p.line !== undefined ? `${p.file}:${p.line}` : p.file;
}

type Located = Policy & {
  keyPath: string;
  at: { line?: number; col?: number };
  idAt: { line?: number; col?: number };
};

function strip(p: Located): Policy {
  const { keyPath: _k, at: _a, idAt: _i, ...rest } = p;
  return rest;
}

/** One file, without the checks that need every file (`crossCheck`). */
function parseFile(text: string, file: string): { policies: Located[]; diagnostics: Diagnostic[] } {
  let doc: Record<string, unknown>;
  try {
    // Integers as bigint, so `10.0` (a float) is told apart from `10` for integer keys.
    doc = parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (err) {
    // smol-toml throws TomlError for bad TOML; anything else is a bug of its own, still
    // reported as the file's problem rather than thrown at the agent.
    const pos = err instanceof TomlError ? { line: err.line, col: err.column } : {};
    return {
      policies: [],
      diagnostics: [{
        severity: "error",
        code: "E_TOML_SYNTAX",
        file,
        ...pos,
        key: "(toml)",
        message: errorMessage(err).split("\n")[0].replace(/^Invalid TOML document: /, ""),
        expected: "valid TOML 1.0",
      }],
    };
  }
  const c = new Checker(file, text);
  const policies: Located[] = [];
  for (const key of Object.keys(doc)) {
    if (key === "policy") continue;
    c.unknownKey(key, key, ["policy"], "the [[policy]] tables of a response policy file");
  }
  const list = doc.policy;
  if (list === undefined) return { policies, diagnostics: c.diags };
  if (!Array.isArray(list)) {
    c.error(
      "E_TYPE",
      "policy",
      `"policy" must be an array of tables, got ${describeTomlValue(list)}` +
        (isTomlTable(list) ? " (write [[policy]] with two brackets)" : ""),
      "[[policy]] tables",
      false,
    );
    return { policies, diagnostics: c.diags };
  }
  list.forEach((item, i) => {
    const p = c.policy(`policy[${i}]`, item);
    if (p) policies.push(p);
  });
  return { policies, diagnostics: c.diags };
}

/** Collects diagnostics for one file while turning its tables into policies. */
class Checker {
  readonly diags: Diagnostic[] = [];
  #errors = 0;
  #file: string;
  #pos: Positions;

  constructor(file: string, text: string) {
    this.#file = file;
    this.#pos = new Positions(text);
  }

  at(key: string, useValue: boolean): { line?: number; col?: number } {
    return this.#pos.at(key, useValue);
  }

  error(code: string, key: string, message: string, expected: string, useValue = true): void {
    this.#errors++;
    this.diags.push({
      severity: "error",
      code,
      file: this.#file,
      ...this.at(key, useValue),
      key,
      message,
      expected,
    });
  }

  warn(code: string, key: string, message: string, expected: string): void {
    this.diags.push({
      severity: "warning",
      code,
      file: this.#file,
      ...this.at(key, false),
      key,
      message,
      expected,
    });
  }

  unknownKey(key: string, name: string, known: string[], where: string, hint = ""): void {
    const guess = closest(name, known);
    this.error(
      "E_UNKNOWN_KEY",
      key,
      `unknown key "${name}"${guess ? ` (did you mean "${guess}"?)` : hint}`,
      `${where}: ${known.join(", ")}`,
      false,
    );
  }

  missing(key: string, parent: string, expected: string): void {
    const name = key.slice(key.lastIndexOf(".") + 1);
    this.#errors++;
    this.diags.push({
      severity: "error",
      code: "E_MISSING",
      file: this.#file,
      ...this.at(parent, false),
      key,
      message: `missing "${name}"`,
      expected,
    });
  }

  policy(key: string, t: unknown): Located | undefined {
    if (!isTomlTable(t)) {
      this.error("E_TYPE", key, `a policy must be a table, got ${describeTomlValue(t)}`, "a table");
      return undefined;
    }
    const before = this.#errors;
    for (const k of Object.keys(t)) {
      if (POLICY_KEYS.includes(k)) continue;
      const hint = MATCH_KEYS.includes(k)
        ? " (it belongs in [policy.match])"
        : allActionKeys().includes(k)
        ? " (it belongs in [[policy.actions]])"
        : "";
      this.unknownKey(`${key}.${k}`, k, POLICY_KEYS, "a key of [[policy]]", hint);
    }
    let id = "";
    if (t.id === undefined) this.missing(`${key}.id`, key, `id = "…", ${ID_EXPECTED}`);
    else if (typeof t.id !== "string") {
      this.error("E_TYPE", `${key}.id`, `wrong type: got ${describeTomlValue(t.id)}`, ID_EXPECTED);
    } else if (!ID.test(t.id)) {
      this.error("E_POLICY_ID", `${key}.id`, `"${t.id}" is not a valid policy id`, ID_EXPECTED);
    } else id = t.id;
    const description = this.string(`${key}.description`, t.description);
    const dryRun = this.bool(`${key}.dry_run`, t.dry_run) ?? false;
    const cont = this.bool(`${key}.continue`, t.continue) ?? false;
    const cooldownSecs = this.int(`${key}.cooldown_secs`, t.cooldown_secs, 0, MAX_COOLDOWN_SECS);
    const match = this.match(`${key}.match`, t.match);
    const actions = this.actions(`${key}.actions`, t.actions, key);
    if (this.#errors > before || !match || !actions) return undefined;

    // Warnings: a policy that loads but can never do what it says.
    if (match.target === "host") {
      for (const k of ["containers", "images", "labels"] as const) {
        if (match[k] === undefined) continue;
        this.warn(
          "E_POLICY_NEVER_MATCHES",
          `${key}.match.${snake(k)}`,
          `policy "${id}" never matches: target = "host" means the alert names no container, ` +
            `so "${snake(k)}" cannot hold`,
          `target = "container" or "any", or no "${snake(k)}"`,
        );
      }
      actions.forEach((a, j) => {
        if (!CONTAINER_ACTIONS.has(a.type)) return;
        this.warn(
          "E_POLICY_ACTION_NO_TARGET",
          `${key}.actions[${j}]`,
          `${a.type} never runs: target = "host" means the alert names no container to ${a.type}`,
          `target = "container" or "any" for a ${a.type} action`,
        );
      });
    }
    const pos = this.at(key, false);
    return {
      id,
      ...(description !== undefined ? { description } : {}),
      dryRun,
      continue: cont,
      ...(cooldownSecs !== undefined ? { cooldownSecs } : {}),
      match,
      actions,
      file: this.#file,
      ...(pos.line !== undefined ? { line: pos.line } : {}),
      keyPath: key,
      at: pos,
      idAt: this.at(`${key}.id`, true),
    };
  }

  match(key: string, t: unknown): PolicyMatch | undefined {
    if (t === undefined) return { target: "any" };
    if (!isTomlTable(t)) {
      this.error(
        "E_TYPE",
        key,
        `"match" must be a table, got ${describeTomlValue(t)}`,
        "a [policy.match] table",
      );
      return undefined;
    }
    const before = this.#errors;
    for (const k of Object.keys(t)) {
      if (MATCH_KEYS.includes(k)) continue;
      const hint = POLICY_KEYS.includes(k) ? " (it belongs in [[policy]])" : "";
      this.unknownKey(`${key}.${k}`, k, MATCH_KEYS, "a key of [policy.match]", hint);
    }
    const m: PolicyMatch = { target: "any" };
    const sev = this.oneOf(`${key}.min_severity`, t.min_severity, SEVERITIES);
    if (sev) m.minSeverity = sev as Severity;
    const rules = this.strings(`${key}.rules`, t.rules, "rule ids (AlertEvent.ruleId)");
    if (rules) m.rules = rules;
    const tags = this.strings(`${key}.tags`, t.tags, 'alert tags such as "attack.t1110"');
    if (tags) m.tags = tags;
    const cidrs = this.strings(
      `${key}.source_cidrs`,
      t.source_cidrs,
      'addresses or CIDRs such as "203.0.113.0/24" or "::/0"',
    );
    if (cidrs) {
      const parsed: SourceCidr[] = [];
      cidrs.forEach((text, i) => {
        const c = parseCidr(text);
        if (typeof c === "string") {
          this.error(
            "E_CIDR",
            `${key}.source_cidrs[${i}]`,
            c,
            'an IPv4 or IPv6 address or CIDR such as "203.0.113.0/24" or "2001:db8::/32"',
          );
        } else parsed.push({ text, cidr: c });
      });
      m.sourceCidrs = parsed;
    }
    const containers = this.strings(
      `${key}.containers`,
      t.containers,
      'container name globs such as "web-*"',
    );
    if (containers) m.containers = containers;
    const images = this.strings(`${key}.images`, t.images, 'image globs such as "nginx*"');
    if (images) m.images = images;
    const labels = this.labels(`${key}.labels`, t.labels);
    if (labels) m.labels = labels;
    const target = this.oneOf(`${key}.target`, t.target, POLICY_TARGETS);
    if (target) m.target = target as PolicyTarget;
    return this.#errors > before ? undefined : m;
  }

  actions(key: string, v: unknown, policyKey: string): PolicyAction[] | undefined {
    const expected = "at least one [[policy.actions]] table with a type";
    if (v === undefined) {
      this.missing(key, policyKey, expected);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.error(
        "E_TYPE",
        key,
        `"actions" must be an array of tables, got ${describeTomlValue(v)}` +
          (isTomlTable(v) ? " (write [[policy.actions]] with two brackets)" : ""),
        expected,
        false,
      );
      return undefined;
    }
    if (v.length === 0) {
      this.error("E_POLICY_NO_ACTIONS", key, "a policy needs at least one action", expected);
      return undefined;
    }
    const out: PolicyAction[] = [];
    let ok = true;
    v.forEach((a, j) => {
      const action = this.action(`${key}[${j}]`, a);
      if (action) out.push(action);
      else ok = false;
    });
    return ok ? out : undefined;
  }

  action(key: string, t: unknown): PolicyAction | undefined {
    const types = POLICY_ACTION_TYPES.join(", ");
    if (!isTomlTable(t)) {
      this.error(
        "E_TYPE",
        key,
        `an action must be a table, got ${describeTomlValue(t)}`,
        "a table",
      );
      return undefined;
    }
    if (t.type === undefined) {
      this.missing(`${key}.type`, key, `type = one of ${types}`);
      return undefined;
    }
    if (typeof t.type !== "string") {
      this.error("E_TYPE", `${key}.type`, `wrong type: got ${describeTomlValue(t.type)}`, types);
      return undefined;
    }
    if (t.type === "release") {
      this.error(
        "E_POLICY_RELEASE",
        `${key}.type`,
        '"release" is not a policy action: it is the operator\'s undo, ' +
          "`ironpost guard release <container|ip>`",
        `one of ${types}`,
      );
      return undefined;
    }
    if (!(POLICY_ACTION_TYPES as readonly string[]).includes(t.type)) {
      const guess = closest(t.type, POLICY_ACTION_TYPES);
      this.error(
        "E_ENUM",
        `${key}.type`,
        `unknown action type "${t.type}"${guess ? ` (did you mean "${guess}"?)` : ""}`,
        `one of ${types}`,
      );
      return undefined;
    }
    const type = t.type as PolicyActionType;
    const before = this.#errors;
    const known = ACTION_KEYS[type];
    for (const k of Object.keys(t)) {
      if (known.includes(k)) continue;
      const owner = (Object.keys(ACTION_KEYS) as PolicyActionType[]).find((o) =>
        ACTION_KEYS[o].includes(k)
      );
      const hint = owner ? ` (${k} is a key of ${owner} actions)` : "";
      this.unknownKey(`${key}.${k}`, k, known, `a key of a ${type} action`, hint);
    }
    let action: PolicyAction | undefined;
    switch (type) {
      case "block_ip": {
        if (t.ttl === undefined) {
          this.missing(`${key}.ttl`, key, `ttl = ${DURATION_EXPECTED}`);
          break;
        }
        const ttl = parseDuration(t.ttl);
        if (typeof ttl === "string") {
          this.error(
            typeof t.ttl === "string" || typeof t.ttl === "bigint" ? "E_DURATION" : "E_TYPE",
            `${key}.ttl`,
            ttl,
            DURATION_EXPECTED,
          );
        } else action = { type, ttlSecs: ttl };
        break;
      }
      case "stop": {
        const grace = this.int(`${key}.grace_secs`, t.grace_secs, 0, MAX_GRACE_SECS);
        action = { type, graceSecs: grace ?? DEFAULT_GRACE_SECS };
        break;
      }
      case "kill": {
        const signal = this.signal(`${key}.signal`, t.signal);
        action = { type, signal: signal ?? "SIGKILL" };
        break;
      }
      default:
        action = { type };
    }
    return this.#errors > before ? undefined : action;
  }

  signal(key: string, v: unknown): string | undefined {
    const expected = `a signal name: ${SIGNALS.join(", ")}`;
    if (v === undefined) return undefined;
    if (typeof v !== "string") {
      this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, expected);
      return undefined;
    }
    if (SIGNALS.includes(v)) return v;
    const upper = v.toUpperCase();
    const named = upper.startsWith("SIG") ? upper : `SIG${upper}`;
    const guess = SIGNALS.includes(named) ? named : closest(named, SIGNALS);
    this.error(
      "E_SIGNAL",
      key,
      `"${v}" is not a signal name${guess ? ` (did you mean "${guess}"?)` : ""}`,
      expected,
    );
    return undefined;
  }

  labels(key: string, v: unknown): Record<string, string> | undefined {
    const expected = 'a table of label names to string values, e.g. { app = "web" }';
    if (v === undefined) return undefined;
    if (!isTomlTable(v)) {
      this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, expected);
      return undefined;
    }
    const out: [string, string][] = [];
    for (const [k, value] of Object.entries(v)) {
      if (typeof value === "string") {
        out.push([k, value]);
        continue;
      }
      this.error(
        "E_TYPE",
        `${key}.${k}`,
        `label "${k}" must be a string, got ${describeTomlValue(value)}` +
          (isTomlTable(value) ? ` (quote a dotted label name: { "${k}.…" = "…" })` : ""),
        expected,
      );
    }
    // fromEntries defines own properties, so a label named __proto__ stays a label.
    return Object.fromEntries(out);
  }

  string(key: string, v: unknown): string | undefined {
    if (v === undefined || typeof v === "string") return v;
    this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, "a string");
    return undefined;
  }

  bool(key: string, v: unknown): boolean | undefined {
    if (v === undefined || typeof v === "boolean") return v;
    this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, "true or false");
    return undefined;
  }

  int(key: string, v: unknown, min: number, max: number): number | undefined {
    const expected = `an integer from ${min} to ${max}`;
    if (v === undefined) return undefined;
    if (typeof v !== "bigint") {
      this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, expected);
      return undefined;
    }
    if (v < BigInt(min) || v > BigInt(max)) {
      this.error("E_RANGE", key, `${v} is out of range`, expected);
      return undefined;
    }
    return Number(v);
  }

  oneOf(key: string, v: unknown, values: readonly string[]): string | undefined {
    const expected = `one of ${values.map((s) => `"${s}"`).join(", ")}`;
    if (v === undefined) return undefined;
    if (typeof v !== "string") {
      this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, expected);
      return undefined;
    }
    if (values.includes(v)) return v;
    const lower = values.find((x) => x === v.toLowerCase());
    const guess = lower ?? closest(v, values);
    this.error(
      "E_ENUM",
      key,
      `"${v}" is not a valid value${guess ? ` (did you mean "${guess}"?)` : ""}`,
      expected,
    );
    return undefined;
  }

  /** A list of non-empty strings; an empty list is refused, as it would match nothing. */
  strings(key: string, v: unknown, what: string): string[] | undefined {
    const expected = `a non-empty list of ${what}`;
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      this.error("E_TYPE", key, `wrong type: got ${describeTomlValue(v)}`, expected);
      return undefined;
    }
    if (v.length === 0) {
      this.error(
        "E_EMPTY",
        key,
        "an empty list matches no alert (leave the key out to match any)",
        expected,
      );
      return undefined;
    }
    let ok = true;
    v.forEach((item, i) => {
      if (typeof item === "string" && item !== "") return;
      ok = false;
      this.error(
        "E_TYPE",
        `${key}[${i}]`,
        typeof item === "string" ? "empty string" : `wrong type: got ${describeTomlValue(item)}`,
        expected,
      );
    });
    return ok ? v as string[] : undefined;
  }
}

function allActionKeys(): string[] {
  return [...new Set(Object.values(ACTION_KEYS).flat())];
}

function snake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Positions of keys in a policy file, by the key paths diagnostics name
 * (`policy[2].actions[1].ttl`). Core's `locateKeys` keeps the first definition of a dotted
 * path, which for `[[policy]]` would be the first policy's; so the text is cut at each table
 * header, each piece located on its own and its keys renamed with the array indices.
 */
class Positions {
  #keys = new Map<string, KeyPosition>();
  #lines: string[];

  constructor(text: string) {
    this.#lines = text.split(/\r?\n/);
    try {
      this.#index();
    } catch {
      // Positions only refine messages; a scanner surprise must not lose the diagnostics.
      this.#keys.clear();
    }
  }

  #index(): void {
    let policy = -1, action = -1;
    let start = 0;
    let kind: "policy" | "action" | "other" = "other";
    const piece = (end: number) => {
      if (end <= start) return;
      const found = locateKeys(this.#lines.slice(start, end).join("\n"));
      for (const [k, p] of found) {
        const key = rename(k, kind, policy, action);
        if (this.#keys.has(key)) continue;
        this.#keys.set(key, {
          line: p.line + start,
          col: p.col,
          valueLine: p.valueLine + start,
          valueCol: p.valueCol,
        });
      }
    };
    for (const h of headers(this.#lines)) {
      piece(h.index);
      start = h.index;
      if (h.array && h.name === "policy") [policy, action, kind] = [policy + 1, -1, "policy"];
      else if (h.array && h.name === "policy.actions") [action, kind] = [action + 1, "action"];
      else kind = "other";
    }
    piece(this.#lines.length);
  }

  /**
   * The key's position (or its value's), else the nearest parent's. Keys without a line of
   * their own, array elements (`…source_cidrs[1]`) and keys of inline tables
   * (`policy = [{ id = "a" }]`), are found in their parent value's text.
   */
  at(key: string, useValue: boolean): { line?: number; col?: number } {
    const p = this.#locate(key);
    if (!p) return {};
    return useValue || !p.exact ? p.value : p.key;
  }

  #locate(k: string): { key: Pos; value: Pos; exact: boolean } | undefined {
    const p = this.#keys.get(k);
    if (p) {
      return {
        key: { line: p.line, col: p.col },
        value: { line: p.valueLine, col: p.valueCol },
        exact: true,
      };
    }
    const el = /^(.*)\[(\d+)\]$/.exec(k);
    const dot = k.lastIndexOf(".");
    if (!el && dot < 0) return undefined;
    const parent = this.#locate(el ? el[1] : k.slice(0, dot));
    if (!parent?.exact) return parent;
    const members = this.#members(parent.value);
    if (el) {
      const at = members?.[Number(el[2])];
      return at ? { key: at, value: at, exact: true } : { ...parent, exact: false };
    }
    // An inline table's member: its key (first part of a dotted one) up to "=".
    const name = k.slice(dot + 1);
    for (const m of members ?? []) {
      const line = this.#lines[m.line - 1];
      const eq = keyEnd(line, m.col - 1);
      const first = line.slice(m.col - 1, eq).split(".")[0].trim().replace(/^(["'])(.*)\1$/, "$2");
      if (first !== name) continue;
      let v = eq + 1;
      while (line[v] === " " || line[v] === "\t") v++;
      return { key: m, value: { line: m.line, col: v + 1 }, exact: true };
    }
    return { ...parent, exact: false };
  }

  /**
   * Where each member of the array or inline table value at `p` starts (an element, or a
   * key); undefined when the value there is neither.
   */
  #members(p: Pos): Pos[] | undefined {
    let ln = p.line - 1, i = p.col - 1;
    const open = this.#lines[ln]?.[i];
    if (open !== "[" && open !== "{") return undefined;
    i++;
    const out: Pos[] = [];
    let depth = 1, expecting = true;
    let quote: string | null = null; // the open string's delimiter
    for (; ln < this.#lines.length; ln++, i = 0) {
      const line = this.#lines[ln];
      while (i < line.length) {
        const c = line[i];
        if (quote) {
          if (line.startsWith(quote, i)) {
            i += quote.length;
            quote = null;
          } else i += c === "\\" && quote[0] === '"' ? 2 : 1;
          continue;
        }
        if (c === " " || c === "\t") {
          i++;
          continue;
        }
        if (c === "#") break;
        if (depth === 1 && c === ",") {
          expecting = true;
          i++;
          continue;
        }
        if (c === "]" || c === "}") {
          if (--depth === 0) return out;
          i++;
          continue;
        }
        if (depth === 1 && expecting) {
          expecting = false;
          out.push({ line: ln + 1, col: i + 1 });
        }
        if (c === "[" || c === "{") depth++;
        else if (c === '"' || c === "'") {
          quote = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
          i += quote.length;
          continue;
        }
        i++;
      }
      // A single-line string cannot span lines; only a triple-quoted one stays open.
      if (quote && quote.length === 1) quote = null;
    }
    return out;
  }
}

type Pos = { line: number; col: number };

/** The index of the "=" ending the key that starts at `i` (quoted parts may hold one). */
function keyEnd(line: string, i: number): number {
  while (i < line.length && line[i] !== "=") {
    if (line[i] === '"' || line[i] === "'") {
      const q = line[i];
      i++;
      while (i < line.length && line[i] !== q) i += line[i] === "\\" && q === '"' ? 2 : 1;
    }
    i++;
  }
  return i;
}

/** `policy.actions` of the piece `[[policy.actions]]` n°`action` of policy n°`policy`. */
function rename(k: string, kind: string, policy: number, action: number): string {
  if (policy < 0) return k;
  if (kind === "action" && (k === "policy.actions" || k.startsWith("policy.actions."))) {
    return `policy[${policy}].actions[${action}]${k.slice("policy.actions".length)}`;
  }
  if (k === "policy" || k.startsWith("policy.")) return `policy[${policy}]${k.slice(6)}`;
  return k;
}

/**
 * The table header lines of a TOML text (0-based index, name without quotes or spaces),
 * skipping lines inside multi-line strings and arrays, where a `[` starts no header.
 */
function headers(lines: string[]): { index: number; name: string; array: boolean }[] {
  const out: { index: number; name: string; array: boolean }[] = [];
  let depth = 0;
  let quote: string | null = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    let i = 0;
    if (!quote && depth === 0) {
      while (line[i] === " " || line[i] === "\t") i++;
      if (line[i] === "[") {
        const array = line[i + 1] === "[";
        const close = line.indexOf("]", i);
        const inner = line.slice(i + (array ? 2 : 1), close < 0 ? line.length : close);
        out.push({ index: n, name: inner.replace(/[\s"']/g, ""), array });
        continue;
      }
      // Skip the key (quoted parts may hold "=" or brackets) up to its "=".
      i = keyEnd(line, i);
    }
    while (i < line.length) {
      const c = line[i];
      if (quote) {
        if (line.startsWith(quote, i)) {
          i += quote.length;
          quote = null;
        } else i += c === "\\" && quote[0] === '"' ? 2 : 1;
        continue;
      }
      if (c === "#") break;
      if (c === '"' || c === "'") {
        quote = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
        i += quote.length;
        continue;
      }
      if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") depth = Math.max(0, depth - 1);
      i++;
    }
    if (quote && quote.length === 1) quote = null;
  }
  return out;
}
