import type { Component } from "../component.ts";

/**
 * Components of one file, deduplicated on name, version and commit. A lockfile may list one
 * package many times (npm nests copies under each dependant); it is reported once, in a scope
 * group only when every copy is: one production copy makes it production, and a package that
 * is dev in one place and optional in another is in neither group for certain.
 *
 * @example
 * ```ts
 * import { Collector } from "./collect.ts";
 * const c = new Collector();
 * const base = { name: "ajv", version: "5.5.2", ecosystem: "npm" as const, origin: { file: "x" } };
 * c.add({ ...base, groups: ["dev"] });
 * c.add({ ...base, groups: [] });
 * console.assert(c.list().length === 1 && c.list()[0].groups.length === 0);
 * ```
 */
export class Collector {
  readonly #byKey = new Map<string, Component>();
  readonly #keyOf: (c: Component) => string;

  /** `keyOf` overrides what makes two entries the same component (name, version, commit). */
  constructor(keyOf?: (c: Component) => string) {
    this.#keyOf = keyOf ?? ((c) => `${c.name}\0${c.version}\0${c.commit ?? ""}`);
  }

  /** Adds `c`, or narrows the groups of the copy already held. */
  add(c: Component): void {
    const key = this.#keyOf(c);
    const held = this.#byKey.get(key);
    if (held === undefined) {
      this.#byKey.set(key, c);
      return;
    }
    held.groups = held.groups.filter((g) => c.groups.includes(g));
  }

  /** The components, in the order first added. */
  list(): Component[] {
    return [...this.#byKey.values()];
  }
}
