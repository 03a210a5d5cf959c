import type { LogEvent } from "../log_event.ts";

/** A value in `LogEvent.fields`. */
export type FieldValue = string | number | boolean | null;

/**
 * How compiled rules see one event: fields by exact name, then case-insensitively (SigmaHQ
 * writes `CommandLine`, a parser may write `commandline`), and each field's lower-cased text
 * computed once however many rules test it.
 *
 * @example
 * ```ts
 * import { EventView } from "./fields.ts";
 * const v = new EventView({
 *   source: "replay", logsource: {}, ts: "2024-01-01T00:00:00Z", message: "",
 *   fields: { commandline: "ID -U" },
 * });
 * console.assert(v.lower("CommandLine") === "id -u");
 * ```
 */
export class EventView {
  readonly event: LogEvent;
  // Lower-cased field name to the name as the event spells it; built on the first miss.
  #names?: Map<string, string>;
  #lower = new Map<string, string | undefined>();
  #kwCased?: string[];
  #kwLower?: string[];

  constructor(event: LogEvent) {
    this.event = event;
  }

  /** The name the event uses for `name`, or undefined when the event has no such field. */
  resolve(name: string): string | undefined {
    const fields = this.event.fields;
    if (Object.hasOwn(fields, name)) return name;
    if (!this.#names) {
      this.#names = new Map();
      for (const k of Object.keys(fields)) {
        const l = k.toLowerCase();
        if (!this.#names.has(l)) this.#names.set(l, k);
      }
    }
    return this.#names.get(name.toLowerCase());
  }

  /** True when the field is present, even with a null or empty value (Sigma's `exists`). */
  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /** The field's value; undefined when absent. */
  get(name: string): FieldValue | undefined {
    const k = this.resolve(name);
    return k === undefined ? undefined : this.event.fields[k];
  }

  /** The field as text (numbers and booleans stringified); undefined when absent or null. */
  text(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined || v === null ? undefined : String(v);
  }

  /** `text(name)` lower-cased, cached for the life of this view. */
  lower(name: string): string | undefined {
    if (this.#lower.has(name)) return this.#lower.get(name);
    const t = this.text(name)?.toLowerCase();
    this.#lower.set(name, t);
    return t;
  }

  /**
   * The texts keyword searches run over: the message, and the raw line when it says more.
   * Sigma keywords search "the whole event"; for a log line that is its text.
   */
  keywordTexts(lower: boolean): string[] {
    if (!this.#kwCased) {
      const { message, raw } = this.event;
      this.#kwCased = raw !== undefined && raw !== message ? [message, raw] : [message];
    }
    if (!lower) return this.#kwCased;
    return this.#kwLower ??= this.#kwCased.map((t) => t.toLowerCase());
  }
}
