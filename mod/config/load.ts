import { parse, TomlError } from "smol-toml";
import { isAbsolute, join, resolve } from "node:path";
import {
  closest,
  describeTomlValue,
  isTomlTable,
  locateKeys,
  parseCidr,
  parseIp,
  redactText,
} from "../core/mod.ts";
import { ConfigError, type Diagnostic } from "./diagnostics.ts";
import { safeExpectation, unsafeReason, unsafeTree } from "./file_safety.ts";
import {
  type DefaultContext,
  describeType,
  envName,
  type FieldType,
  MODULE_SECTIONS,
  SCHEMA,
  trustedPaths,
} from "./schema.ts";
import type { IronpostConfig } from "./types.ts";

/** Which layer a value came from; precedence is cli > env > file > default. */
export type Origin = "default" | "file" | "env" | "cli";

/** A CLI override: the key it sets, its text, and the flag that carried it. */
export interface CliOverride {
  key: string;
  value: string;
  flag: string;
}

export interface LoadOptions {
  path: string;
  /** Read the environment; defaults to `Deno.env.get` (only `IRONPOST_*` names are read). */
  env?: (name: string) => string | undefined;
  cli?: CliOverride[];
  /** Who runs the agent; defaults to `Deno.uid()`. */
  uid?: number;
  home?: string;
  xdgStateHome?: string;
  /** Module sections built into this binary: only their `mustExist` paths are errors. */
  builtModules?: ReadonlySet<string>;
  cwd?: string;
}

export interface LoadedConfig {
  config: IronpostConfig;
  /** Absolute path of the file read. */
  path: string;
  /** sha256 of the file's bytes, hex, reported by `/status`. */
  sha256: string;
  origins: Record<string, Origin>;
  /** Warnings only: errors are thrown as `ConfigError`. */
  warnings: Diagnostic[];
}

/** A value, or what is wrong with it: `also` holds the other bad items of a list. */
type Checked = { value: unknown } | { error: string; code: string; also?: Problem[] };
type Problem = { error: string; code: string };

/** Each problem of a checked value: the first, then the other bad items of a list. */
function problemsOf(r: { error: string; code: string; also?: Problem[] }): Problem[] {
  return [{ error: r.error, code: r.code }, ...(r.also ?? [])];
}

/**
 * Load, merge and validate the config. Every problem of every layer is collected before
 * anything is thrown, so a user fixes them in one pass.
 *
 * @example
 * ```ts ignore
 * import { loadConfig } from "./load.ts";
 * const { config } = await loadConfig({ path: "config/ironpost.toml" });
 * console.log(config.general.log_level);
 * ```
 */
export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? Deno.cwd();
  const path = resolve(cwd, opts.path);
  const configDir = resolve(path, "..");
  const env = opts.env ?? envReader();
  const uid = opts.uid ?? currentUid();
  const root = uid === 0;
  const diags: Diagnostic[] = [];

  const bytes = await readConfigBytes(path);
  const text = new TextDecoder().decode(bytes);
  let doc: Record<string, unknown>;
  try {
    // Integers as bigint, so `10.0` (a float) is told apart from `10` for integer keys.
    doc = parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    throw new ConfigError([{
      severity: "error",
      code: "E_TOML_SYNTAX",
      file: path,
      line: err.line,
      col: err.column,
      key: "(toml)",
      message: err.message.split("\n")[0].replace(/^Invalid TOML document: /, ""),
      expected: "valid TOML 1.0",
    }]);
  }
  const positions = locateKeys(text);
  const values = new Map<string, { value: unknown; origin: Origin }>();
  const at = (key: string, useValue: boolean) => {
    let k = key;
    let p = positions.get(k);
    // Keys set through inline tables have no line of their own: point at the nearest parent.
    while (!p && k.includes(".")) {
      k = k.slice(0, k.lastIndexOf("."));
      p = positions.get(k);
    }
    if (!p) return { file: path };
    return useValue
      ? { file: path, line: p.valueLine, col: p.valueCol }
      : { file: path, line: p.line, col: p.col };
  };

  // Layer 1: the TOML file.
  for (const [section, body] of Object.entries(doc)) {
    const spec = SCHEMA[section];
    if (!spec) {
      const guess = closest(section, Object.keys(SCHEMA));
      const home = isTomlTable(body)
        ? undefined
        : Object.entries(SCHEMA).find(([, spec]) => section in spec.keys)?.[0];
      diags.push({
        severity: "error",
        code: isTomlTable(body) ? "E_UNKNOWN_SECTION" : "E_UNKNOWN_KEY",
        ...at(section, false),
        key: section,
        message: `unknown ${isTomlTable(body) ? "section" : "top-level key"} "${section}"` +
          (guess ? ` (did you mean [${guess}]?)` : home ? ` (it belongs in [${home}])` : ""),
        expected: `one of the sections ${Object.keys(SCHEMA).map((s) => `[${s}]`).join(", ")}`,
      });
      continue;
    }
    if (!isTomlTable(body)) {
      diags.push({
        severity: "error",
        code: "E_TYPE",
        ...at(section, true),
        key: section,
        message: `"${section}" must be a table, got ${describeTomlValue(body)}`,
        expected: `a [${section}] table`,
      });
      continue;
    }
    for (const [key, raw] of Object.entries(body)) {
      const full = `${section}.${key}`;
      const field = spec.keys[key];
      if (!field) {
        diags.push(unknownKey(section, key, at(full, false)));
        continue;
      }
      const r = checkValue(field.type, raw, (p) => resolvePath(configDir, p));
      if ("error" in r) {
        for (const p of problemsOf(r)) {
          diags.push({
            severity: "error",
            code: p.code,
            ...at(full, true),
            key: full,
            message: p.error,
            expected: describeType(field.type),
          });
        }
      } else values.set(full, { value: r.value, origin: "file" });
    }
  }

  // Layers 2 and 3: environment, then CLI, each parsed from text.
  const fromText = (
    full: string,
    type: FieldType,
    raw: string,
    origin: Origin,
    file: string,
  ) => {
    const r = checkValue(type, parseText(type, raw), (p) => resolvePath(cwd, p));
    if ("error" in r) {
      for (const p of problemsOf(r)) {
        diags.push({
          severity: "error",
          code: p.code,
          file,
          key: full,
          message: p.error,
          expected: describeType(type),
        });
      }
    } else values.set(full, { value: r.value, origin });
  };
  for (const [section, spec] of Object.entries(SCHEMA)) {
    for (const [key, field] of Object.entries(spec.keys)) {
      const name = envName(section, key);
      const raw = env(name);
      if (raw !== undefined) fromText(`${section}.${key}`, field.type, raw, "env", `env:${name}`);
    }
  }
  for (const o of opts.cli ?? []) {
    const [section, key] = o.key.split(".");
    const field = SCHEMA[section]?.keys[key];
    if (!field) throw new Error(`CLI override for unknown key ${o.key}`);
    fromText(o.key, field.type, o.value, "cli", o.flag);
  }

  // Layer 4: defaults, state_dir first since others derive from it.
  const ctx: DefaultContext = {
    root,
    home: opts.home ?? readEnvSafe("HOME") ?? "/root",
    xdgStateHome: opts.xdgStateHome ?? readEnvSafe("XDG_STATE_HOME"),
    stateDir: "",
  };
  const config: Record<string, Record<string, unknown>> = {};
  const origins: Record<string, Origin> = {};
  const fill = (section: string, key: string) => {
    const full = `${section}.${key}`;
    const field = SCHEMA[section].keys[key];
    const set = values.get(full);
    const value = set
      ? set.value
      : typeof field.default === "function"
      ? field.default(ctx)
      : structuredClone(field.default);
    (config[section] ??= {})[key] = value;
    origins[full] = set?.origin ?? "default";
  };
  fill("general", "state_dir");
  ctx.stateDir = config.general.state_dir as string;
  for (const [section, spec] of Object.entries(SCHEMA)) {
    for (const key of Object.keys(spec.keys)) {
      if (!(section === "general" && key === "state_dir")) fill(section, key);
    }
  }

  // Cross-checks that need the merged result.
  const built = opts.builtModules ?? new Set<string>();
  for (const section of MODULE_SECTIONS) {
    if (config[section].enabled !== true) continue;
    if (!built.has(section)) {
      diags.push({
        severity: "warning",
        code: "W_MODULE_NOT_BUILT",
        ...at(`${section}.enabled`, true),
        key: `${section}.enabled`,
        message: `module "${section}" is not part of this build of Ironpost, so it will not run`,
        expected: `${section}.enabled = false until an Ironpost release that ships it`,
      });
      continue;
    }
    for (const [key, field] of Object.entries(SCHEMA[section].keys)) {
      if (field.type.t !== "path" || !field.type.mustExist) continue;
      const p = config[section][key] as string;
      const kind = await pathKind(p);
      if (kind !== field.type.mustExist) {
        diags.push({
          severity: "error",
          code: "E_PATH_MISSING",
          ...where(`${section}.${key}`, origins, at),
          key: `${section}.${key}`,
          message: kind ? `${p} is a ${kind}` : `${p} does not exist`,
          expected: describeType(field.type),
        });
      }
    }
  }
  const unsafe = await unsafeReason(path, root);
  if (unsafe) {
    diags.push({
      severity: "error",
      code: "E_UNSAFE_PERMISSIONS",
      file: path,
      line: 1,
      col: 1,
      key: "(config file)",
      message: unsafe,
      expected: safeExpectation(path),
    });
  }
  // Directories code-like input is loaded from (rules, policies), as the specs mark them:
  // each, and every file and directory under it, since rules load recursively.
  const trusted = trustedPaths(config);
  for (const [full, dirs] of trusted) {
    for (const dir of dirs) {
      for (const bad of await unsafeTree(dir, root)) {
        diags.push({
          severity: "error",
          code: "E_UNSAFE_PERMISSIONS",
          ...where(full, origins, at),
          key: full,
          message: bad.reason,
          expected: safeExpectation(bad.path),
        });
      }
    }
  }

  // File order first (line, col), then env and CLI problems in the order found.
  diags.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0));
  if (diags.some((d) => d.severity === "error")) throw new ConfigError(diags);
  return {
    config: config as unknown as IronpostConfig,
    path,
    sha256: await sha256Hex(bytes),
    origins,
    warnings: diags,
  };
}

/** The largest config file read: ours is ~20 KiB; anything near this is not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

async function readConfigBytes(path: string): Promise<Uint8Array> {
  const fail = (code: string, message: string, expected: string) =>
    new ConfigError([{
      severity: "error",
      code,
      file: path,
      key: "(config file)",
      message,
      expected,
    }]);
  try {
    const bytes = await readAtMost(path, MAX_CONFIG_BYTES);
    if (bytes.length > MAX_CONFIG_BYTES) {
      throw fail(
        "E_CONFIG_TOO_LARGE",
        `the config file is larger than ${MAX_CONFIG_BYTES} bytes (1 MiB); reading stopped there`,
        "a TOML config file of at most 1 MiB (is --config pointing at the right file?)",
      );
    }
    return bytes;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof Deno.errors.NotFound) {
      throw fail(
        "E_CONFIG_NOT_FOUND",
        "the config file does not exist",
        "the path of a TOML config (--config PATH; config/ironpost.toml documents every key)",
      );
    }
    if (err instanceof Deno.errors.NotCapable) {
      throw fail(
        "E_NOT_CAPABLE",
        "reading it is outside this agent's Deno permissions",
        "a config path inside the --allow-read scope the agent was started with " +
          "(`ironpost permissions --config PATH` prints the flags for a config)",
      );
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      throw fail("E_CONFIG_UNREADABLE", "permission denied", "a file readable by this user");
    }
    if (err instanceof Deno.errors.IsADirectory) {
      throw fail("E_CONFIG_NOT_FILE", "it is a directory", "the path of a TOML file");
    }
    throw err;
  }
}

/**
 * The first `max + 1` bytes of a file at most, so a device or a huge file (`/dev/zero`) is
 * never read to its end: a result longer than `max` means the file is too large.
 */
async function readAtMost(path: string, max: number): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const buf = new Uint8Array(max + 1);
  let n = 0;
  while (n < buf.length) {
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return buf.slice(0, n);
}

function where(
  full: string,
  origins: Record<string, Origin>,
  at: (key: string, v: boolean) => { file: string; line?: number; col?: number },
): { file: string; line?: number; col?: number } {
  const origin = origins[full];
  const [section, key] = full.split(".");
  if (origin === "env") return { file: `env:${envName(section, key)}` };
  if (origin === "cli") return { file: "(command line)" };
  if (origin === "default") return { file: `(default of ${full})` };
  return at(full, true);
}

function unknownKey(
  section: string,
  key: string,
  pos: { file: string; line?: number; col?: number },
): Diagnostic {
  const keys = Object.keys(SCHEMA[section].keys);
  const guess = closest(key, keys);
  const elsewhere = guess
    ? undefined
    : Object.entries(SCHEMA).find(([s, spec]) => s !== section && key in spec.keys)?.[0];
  const hint = guess
    ? ` (did you mean "${guess}"?)`
    : elsewhere
    ? ` (it belongs in [${elsewhere}])`
    : "";
  return {
    severity: "error",
    code: "E_UNKNOWN_KEY",
    ...pos,
    key: `${section}.${key}`,
    message: `unknown key "${key}"${hint}`,
    expected: `a key of [${section}]: ${keys.join(", ")}`,
  };
}

/** Turn env/CLI text into the shape the TOML layer would have produced. */
function parseText(type: FieldType, raw: string): unknown {
  const text = raw.trim();
  switch (type.t) {
    case "bool":
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      return raw;
    case "int":
      return /^[+-]?\d+$/.test(text) ? BigInt(text) : raw;
    case "list":
      return text === "" ? [] : text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    default:
      return raw;
  }
}

const NAME = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** Validate one value and normalise it (paths resolved, a single name made a list). */
function checkValue(type: FieldType, v: unknown, resolvePathFn: (p: string) => string): Checked {
  const wrong = (): Checked => ({
    error: `wrong type: got ${describeTomlValue(v)}`,
    code: "E_TYPE",
  });
  switch (type.t) {
    case "string":
      return typeof v === "string" ? { value: v } : wrong();
    case "bool":
      return typeof v === "boolean" ? { value: v } : wrong();
    case "int": {
      if (typeof v !== "bigint") return wrong();
      if (v < BigInt(type.min) || v > BigInt(type.max)) {
        return { error: `${v} is out of range`, code: "E_RANGE" };
      }
      const n = Number(v);
      if (n < type.min || n > type.max) {
        return { error: `${n} is out of range`, code: "E_RANGE" };
      }
      if (type.powerOfTwo && (n & (n - 1)) !== 0) {
        return { error: `${n} is not a power of two`, code: "E_RANGE" };
      }
      return { value: n };
    }
    case "enum": {
      if (typeof v !== "string") return wrong();
      if (type.values.includes(v)) return { value: v };
      const lower = type.values.find((x) => x === v.toLowerCase());
      return {
        error: `"${v}" is not a valid value` +
          (lower ? ` (values are lower case: "${lower}")` : ""),
        code: "E_ENUM",
      };
    }
    case "path":
      if (typeof v !== "string") return wrong();
      if (v.includes("\0")) return { error: "path contains a NUL byte", code: "E_PATH" };
      return { value: v === "" ? "" : resolvePathFn(v) };
    case "addr": {
      if (typeof v !== "string") return wrong();
      if (v === "") return { value: "" };
      const why = addrProblem(v);
      return why ? { error: `"${v}" ${why}`, code: "E_ADDR" } : { value: v };
    }
    case "url": {
      if (typeof v !== "string") return wrong();
      if (v === "") return { value: "" };
      // Whatever precedes the last "@" may be a password, URL-shaped or not: never echo it.
      const shown = v.includes("://")
        ? redactText(v)
        : v.includes("@")
        ? v.replace(/^([a-z][a-z0-9+.-]*:)?.*@/i, "$1***@")
        : v;
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        return { error: `"${shown}" is not a URL`, code: "E_URL" };
      }
      const scheme = url.protocol.slice(0, -1);
      if (!type.schemes.includes(scheme)) {
        return { error: `scheme "${scheme}" is not supported`, code: "E_URL" };
      }
      if (!url.hostname) return { error: `"${shown}" has no host`, code: "E_URL" };
      return { value: v };
    }
    case "list": {
      const items = type.item === "name" && typeof v === "string" ? [v] : v;
      if (!Array.isArray(items)) return wrong();
      // Every bad item is reported, each as its own problem, not only the first.
      const out: string[] = [];
      const problems: Problem[] = [];
      for (const [i, item] of items.entries()) {
        if (typeof item !== "string") {
          problems.push({
            error: `item ${i + 1} has the wrong type: got ${describeTomlValue(item)}`,
            code: "E_TYPE",
          });
          continue;
        }
        if (type.item === "cidr") {
          const c = parseCidr(item);
          if (typeof c === "string") {
            problems.push({ error: `item ${i + 1}: ${c}`, code: "E_CIDR" });
          }
        } else if (type.item === "name" && !NAME.test(item)) {
          problems.push({ error: `item ${i + 1}: "${item}" is not a valid name`, code: "E_NAME" });
        } else if (type.item === "path" && item === "") {
          problems.push({ error: `item ${i + 1} is an empty path`, code: "E_PATH" });
        }
        out.push(type.item === "path" ? resolvePathFn(item) : item);
      }
      if (problems.length > 0) return { ...problems[0], also: problems.slice(1) };
      return { value: out };
    }
  }
}

/** Why `host:port` is not a listen address, or undefined. */
export function addrProblem(v: string): string | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(v);
  if (!m) return 'is not of the form "host:port" (IPv6 in brackets: "[::]:514")';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `has port ${port}, out of range 1-65535`;
  const host = m[1] ?? m[2];
  if (m[1] !== undefined) {
    return parseIp(host)?.family === 6 ? undefined : `has "${host}", which is not an IPv6 address`;
  }
  if (/^[\d.]+$/.test(host)) {
    return parseIp(host) ? undefined : `has "${host}", which is not an IPv4 address`;
  }
  return /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(host)
    ? undefined
    : `has "${host}", which is not an IP address or host name`;
}

function resolvePath(base: string, p: string): string {
  return isAbsolute(p) ? resolve(p) : join(base, p);
}

async function pathKind(p: string): Promise<"dir" | "file" | "other" | undefined> {
  try {
    const st = await Deno.stat(p);
    return st.isDirectory ? "dir" : st.isFile ? "file" : "other";
  } catch {
    return undefined;
  }
}

function envReader(): (name: string) => string | undefined {
  return (name) => readEnvSafe(name);
}

/** Read an env var; a name outside `--allow-env` reads as unset instead of throwing. */
function readEnvSafe(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function currentUid(): number {
  try {
    return Deno.uid() ?? 0;
  } catch {
    return -1;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
