/**
 * What a capability is, said once: its config section (each key with its type, default and
 * doc; the TypeScript type is derived from the same table), the channels it produces and
 * consumes, the services and kernel facilities it needs, the Deno permissions it needs, how
 * it is built, and its metric families. Each capability owns one `spec.ts` of this shape;
 * the config schema, the shipped `config/ironpost.toml`, the permission flags and the
 * orchestrator's registry are all assembled from the specs.
 */
import type { Channel } from "./channel.ts";
import type { ActionEvent, AlertEvent, DecisionEvent, HostEvent, PacketEvent } from "./events.ts";
import type { Diagnostic } from "./diagnostic.ts";
import type { KernelFacility } from "./facility.ts";
import type { MetricFamily } from "./metrics.ts";
import type { Module } from "./module.ts";
import type { ContainerLookup } from "./containers.ts";
import type { Store } from "./store.ts";

// --- config keys ----------------------------------------------------------------------

/** What a key accepts. Paths are resolved against the config file's directory. */
export type FieldType =
  | { t: "string" }
  | { t: "bool" }
  | { t: "int"; min: number; max: number; powerOfTwo?: boolean }
  | { t: "enum"; values: readonly string[] }
  | { t: "path"; mustExist?: "dir" | "file" }
  | { t: "addr"; optional: true }
  | { t: "url"; schemes: readonly string[] }
  | { t: "list"; item: "string" | "path" | "cidr" | "name" };

/** Values defaults may depend on: who runs the agent and where its state lives. */
export interface DefaultContext {
  root: boolean;
  home: string;
  xdgStateHome?: string;
  /** The resolved `general.state_dir` (available to every key but `state_dir` itself). */
  stateDir: string;
}

/** One config key. `T` is the value's TypeScript type, carried for `SectionConfig`. */
export interface FieldSpec<T = unknown> {
  type: FieldType;
  default: T | ((ctx: DefaultContext) => T);
  doc: string;
  /** Example for the shipped config when the default depends on the machine. */
  machineDependent?: boolean;
  /**
   * Directories the agent loads code-like input from (rules, policies): refused when
   * writable by group or others or owned by another user, when running as root.
   */
  trusted?: boolean;
}

/** A config section: its doc line and its keys, in the order the shipped TOML lists them. */
export interface SectionSpec<K extends Record<string, FieldSpec> = Record<string, FieldSpec>> {
  doc: string;
  keys: K;
}

/** The TypeScript type of a section's values, derived from its key table. */
export type SectionConfig<S extends SectionSpec> = {
  -readonly [K in keyof S["keys"]]: S["keys"][K] extends FieldSpec<infer T> ? T : never;
};

/**
 * Builders for config keys, each typed by what it accepts.
 *
 * @example
 * ```ts
 * import { field, type SectionConfig } from "./spec.ts";
 * const section = {
 *   doc: "Example.",
 *   keys: { enabled: field.bool(false, "run it"), mode: field.oneOf(["a", "b"], "a", "a or b") },
 * };
 * const value: SectionConfig<typeof section> = { enabled: true, mode: "b" };
 * console.assert(value.mode === "b");
 * ```
 */
export const field = {
  int(
    min: number,
    max: number,
    def: number,
    doc: string,
    opts: { powerOfTwo?: boolean } = {},
  ): FieldSpec<number> {
    return { type: { t: "int", min, max, ...opts }, default: def, doc };
  },
  bool(def: boolean, doc: string): FieldSpec<boolean> {
    return { type: { t: "bool" }, default: def, doc };
  },
  oneOf<const V extends readonly string[]>(
    values: V,
    def: V[number],
    doc: string,
  ): FieldSpec<V[number]> {
    return { type: { t: "enum", values }, default: def, doc };
  },
  list(
    item: "string" | "path" | "cidr" | "name",
    def: string[],
    doc: string,
    opts: { trusted?: boolean } = {},
  ): FieldSpec<string[]> {
    return { type: { t: "list", item }, default: def, doc, ...opts };
  },
  path(
    def: string | ((ctx: DefaultContext) => string),
    doc: string,
    opts: { mustExist?: "dir" | "file"; trusted?: boolean } = {},
  ): FieldSpec<string> {
    return {
      type: { t: "path", mustExist: opts.mustExist },
      default: def,
      doc,
      machineDependent: typeof def === "function",
      ...(opts.trusted ? { trusted: true } : {}),
    };
  },
  /** A `host:port` to listen on, or "" for off. */
  addr(doc: string): FieldSpec<string> {
    return { type: { t: "addr", optional: true }, default: "", doc };
  },
  /** A URL with one of `schemes`, or "" for none. */
  url(schemes: readonly string[], doc: string): FieldSpec<string> {
    return { type: { t: "url", schemes }, default: "", doc };
  },
  string(def: string, doc: string): FieldSpec<string> {
    return { type: { t: "string" }, default: def, doc };
  },
};

// --- permissions ----------------------------------------------------------------------

/** What one capability needs beyond the core, added to the agent's flags when it runs. */
export interface Grants {
  read?: string[];
  write?: string[];
  /**
   * FFI (libbpf, libc). Deno scopes `--allow-ffi` by library path for dlopen, but pointer
   * views, `UnsafePointer.of` and callbacks need the unscoped flag, so this grants
   * `--allow-ffi`.
   */
  ffi?: boolean;
  net?: string[];
  run?: string[];
  sys?: string[];
  /** Environment variables it reads beyond the config's own. */
  env?: string[];
  /**
   * Unscoped `--allow-env`: npm:dockerode's `debug` dependency lists every environment
   * variable when it loads, which Deno allows only with the unscoped flag.
   */
  allEnv?: boolean;
}

// --- channels and building ------------------------------------------------------------

/** The channels between modules, by the events they carry. */
export interface ChannelMap {
  packets: PacketEvent;
  host: HostEvent;
  alerts: AlertEvent;
  actions: ActionEvent;
  decisions: DecisionEvent;
}
export type ChannelName = keyof ChannelMap;
export const CHANNEL_NAMES: readonly ChannelName[] = [
  "packets",
  "host",
  "alerts",
  "actions",
  "decisions",
];

/** A module's channels: what it writes to and what it reads from. */
export interface ModuleChannels {
  outputs: { [K in ChannelName]?: Channel<ChannelMap[K]> };
  inputs: { [K in ChannelName]?: Channel<ChannelMap[K]> };
}

/** Shared services a module may ask for while it is built (started before it). */
export interface Services {
  containers(): Promise<ContainerLookup>;
}
export type ServiceName = keyof Services;

/** Everything a capability's build function receives. */
export interface BuildContext<C> {
  /** The capability's own config section. */
  section: C;
  /** Where the agent keeps its state (checkpoints, exports, databases). */
  stateDir: string;
  channels: ModuleChannels;
  store: Store;
  services: Services;
  /**
   * Every section, read only, for the few policies that span capabilities (the guard
   * refuses to block what the packet filter's allowlist lets through).
   */
  sections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** What grants may depend on beyond the section: the services' sections are theirs. */
export interface GrantContext {
  stateDir: string;
}

/**
 * One capability. `kind: "module"` runs when its section says `enabled = true`;
 * `kind: "service"` (the container inventory) is built once when a module lists it in
 * `services`, and its grants are added then.
 */
export interface CapabilitySpec<S extends SectionSpec = SectionSpec, N extends string = string> {
  /** Module name (logs, `/health`, metrics); the section's name unless given. */
  name?: string;
  /** Config section, `[section]` in the TOML. */
  section: N;
  config: S;
  /** A module (the default) or a service. */
  kind?: "module" | "service";
  produces: readonly ChannelName[];
  consumes: readonly ChannelName[];
  /** Shared services it uses (built before it; their grants are added to its own). */
  services?(section: SectionConfig<S>): readonly ServiceName[];
  /** Kernel facilities it needs; probed (and mounted) before any module starts. */
  facilities?(section: SectionConfig<S>): readonly KernelFacility[];
  /** Deno permissions it needs, derived from its section. */
  grants?(section: SectionConfig<S>, ctx: GrantContext): Grants;
  /**
   * Check what the section points at (rules, policies) without starting anything: what
   * `ironpost --validate` adds to the config's own diagnostics when the module is enabled.
   */
  validate?(section: SectionConfig<S>): Promise<Diagnostic[]>;
  /**
   * The keys of its section its module's `reload()` applies live on SIGHUP. A change to any
   * other key of a running capability is reported as needing a restart (the log, `ironpost
   * status`), and the module keeps the running value until then. None when absent.
   */
  liveKeys?: readonly (keyof S["keys"] & string)[];
  /** Build the module (module code is imported here, on demand). */
  build(ctx: BuildContext<SectionConfig<S>>): Module | Promise<Module>;
  /** The metric families it exports. */
  metrics: readonly MetricFamily[];
}

/** A spec as the registry holds it: name and kind filled in. */
export type DefinedSpec<S extends SectionSpec = SectionSpec, N extends string = string> =
  & CapabilitySpec<S, N>
  & { name: string; kind: "module" | "service" };

/** Declare a spec with its section's types checked; the name defaults to the section's. */
export function defineSpec<S extends SectionSpec, const N extends string>(
  spec: CapabilitySpec<S, N>,
): DefinedSpec<S, N> {
  return { ...spec, name: spec.name ?? spec.section, kind: spec.kind ?? "module" };
}
