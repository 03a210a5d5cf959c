/**
 * An OSV record (schema 1.6, https://ossf.github.io/osv-schema/) as TypeScript types, and a
 * parser that checks a JSON text against them. Field names stay as OSV spells them so a
 * record reads the same in code, in the database files and in the schema's documentation.
 *
 * The parser checks what matching and reporting rely on and what the schema requires: types
 * of every known field, `id` and `modified`, exactly one key per range event, an
 * `introduced` event in every range, a `repo` for `GIT` ranges. Keys it does not know are
 * dropped, not refused, so records written to a later schema still load. `null` where the
 * schema allows it (`aliases`, `affected`, `references`, `severity`) reads as absent.
 */
import { errorMessage, IronpostError } from "../../core/mod.ts";

/** How a range's event versions are ordered. */
export type OsvRangeType = "SEMVER" | "ECOSYSTEM" | "GIT";

/** One point on a range's timeline; exactly one of the four keys is present. */
export type OsvEvent =
  | { introduced: string; fixed?: never; last_affected?: never; limit?: never }
  | { fixed: string; introduced?: never; last_affected?: never; limit?: never }
  | { last_affected: string; introduced?: never; fixed?: never; limit?: never }
  | { limit: string; introduced?: never; fixed?: never; last_affected?: never };

/** The name of the one key an event carries. */
export type OsvEventKind = "introduced" | "fixed" | "last_affected" | "limit";

export interface OsvSeverity {
  /** `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, … */
  type: string;
  score: string;
}

export interface OsvPackage {
  /** As OSV spells it; may carry a release (`Debian:12`). */
  ecosystem: string;
  name: string;
  purl?: string;
}

export interface OsvRange {
  type: OsvRangeType;
  /** The repository a `GIT` range's commits belong to (required for `GIT`). */
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvAffected {
  /** Absent in some records that describe only commits of a repository. */
  package?: OsvPackage;
  severity?: OsvSeverity[];
  ranges?: OsvRange[];
  /** Versions affected, spelt as the ecosystem spells them. */
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvReference {
  type: string;
  url: string;
}

export interface OsvCredit {
  name: string;
  contact?: string[];
  type?: string;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  /** RFC 3339 timestamps, as the record gives them. */
  modified: string;
  published?: string;
  /** Set when the record was withdrawn; a withdrawn record matches nothing. */
  withdrawn?: string;
  aliases?: string[];
  upstream?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: OsvReference[];
  credits?: OsvCredit[];
  database_specific?: Record<string, unknown>;
}

/**
 * A record that is not valid JSON (`E_OSV_JSON`) or not a valid OSV record
 * (`E_OSV_RECORD`), with the file and the key (`affected[0].ranges[1].events[2]`) at fault.
 *
 * @example
 * ```ts
 * import { OsvRecordError } from "./record.ts";
 * const e = new OsvRecordError("E_OSV_RECORD", "GO-1.json", "modified", "is missing");
 * console.assert(e.message === 'GO-1.json: "modified" is missing');
 * ```
 */
export class OsvRecordError extends IronpostError {
  readonly file: string;
  /** The path of the bad key; empty when the text as a whole is at fault. */
  readonly key: string;

  constructor(code: "E_OSV_JSON" | "E_OSV_RECORD", file: string, key: string, problem: string) {
    super(code, key === "" ? `${file}: ${problem}` : `${file}: "${key}" ${problem}`, {
      file,
      key,
    });
    this.name = "OsvRecordError";
    this.file = file;
    this.key = key;
  }
}

/** The key an event carries (the parser guarantees there is exactly one). */
export function eventKind(event: OsvEvent): OsvEventKind {
  if (event.introduced !== undefined) return "introduced";
  if (event.fixed !== undefined) return "fixed";
  if (event.last_affected !== undefined) return "last_affected";
  return "limit";
}

/** The version an event carries, whichever its key. */
export function eventVersion(event: OsvEvent): string {
  return event.introduced ?? event.fixed ?? event.last_affected ?? event.limit ?? "";
}

/**
 * Parses and checks one OSV record.
 *
 * @param text The record's JSON.
 * @param file Named in errors; `<input>` when not given.
 * @throws {OsvRecordError} naming the file and the bad key.
 * @example
 * ```ts
 * import { parseOsvRecord } from "./record.ts";
 * const r = parseOsvRecord(`{"id": "GO-2020-0001", "modified": "2023-01-01T00:00:00Z",
 *   "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
 *   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]}`);
 * console.assert(r.affected?.[0].ranges?.[0].events[1].fixed === "1.2.0");
 * try {
 *   parseOsvRecord(`{"id": "X-1", "modified": "2023-01-01T00:00:00Z", "aliases": "CVE-1"}`, "x.json");
 * } catch (e) {
 *   console.assert((e as Error).message === 'x.json: "aliases" must be an array of strings');
 * }
 * ```
 */
export function parseOsvRecord(text: string, file = "<input>"): OsvRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OsvRecordError("E_OSV_JSON", file, "", `is not valid JSON: ${errorMessage(e)}`);
  }
  return new Checker(file).record(json);
}

type Json = Record<string, unknown>;

const RANGE_TYPES: readonly string[] = ["SEMVER", "ECOSYSTEM", "GIT"];
const EVENT_KEYS: readonly string[] = ["introduced", "fixed", "last_affected", "limit"];

/** Walks one record; every check names the path it is at. */
class Checker {
  constructor(private readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new OsvRecordError("E_OSV_RECORD", this.file, key, problem);
  }

  object(v: unknown, key: string): Json {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.fail(key, "must be an object");
    }
    return v as Json;
  }

  string(v: unknown, key: string): string {
    if (typeof v !== "string") this.fail(key, "must be a string");
    return v;
  }

  optString(o: Json, field: string, at: string): string | undefined {
    return o[field] === undefined ? undefined : this.string(o[field], join(at, field));
  }

  timestamp(o: Json, field: string, at: string, required: boolean): string | undefined {
    if (o[field] === undefined && !required) return undefined;
    if (o[field] === undefined) this.fail(join(at, field), "is missing");
    const s = this.string(o[field], join(at, field));
    if (Number.isNaN(Date.parse(s))) {
      this.fail(join(at, field), `is not an RFC 3339 timestamp: "${s}"`);
    }
    return s;
  }

  /** An array field; `null` reads as absent where the schema allows it. */
  array(o: Json, field: string, at: string, nullable = false): unknown[] | undefined {
    const v = o[field];
    if (v === undefined || (v === null && nullable)) return undefined;
    if (!Array.isArray(v)) this.fail(join(at, field), "must be an array");
    return v;
  }

  strings(o: Json, field: string, at: string, nullable = false): string[] | undefined {
    const v = o[field];
    if (v === undefined || (v === null && nullable)) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
      this.fail(join(at, field), "must be an array of strings");
    }
    return v as string[];
  }

  optObject(o: Json, field: string, at: string): Record<string, unknown> | undefined {
    return o[field] === undefined ? undefined : this.object(o[field], join(at, field));
  }

  record(v: unknown): OsvRecord {
    const o = this.object(v, "");
    if (o.id === undefined) this.fail("id", "is missing");
    const id = this.string(o.id, "id");
    if (id === "") this.fail("id", "is empty");
    const r: OsvRecord = { id, modified: this.timestamp(o, "modified", "", true)! };
    set(r, "schema_version", this.optString(o, "schema_version", ""));
    set(r, "published", this.timestamp(o, "published", "", false));
    set(r, "withdrawn", this.timestamp(o, "withdrawn", "", false));
    set(r, "aliases", this.strings(o, "aliases", "", true));
    set(r, "upstream", this.strings(o, "upstream", ""));
    set(r, "related", this.strings(o, "related", ""));
    set(r, "summary", this.optString(o, "summary", ""));
    set(r, "details", this.optString(o, "details", ""));
    set(r, "severity", this.severities(o, ""));
    set(
      r,
      "affected",
      this.array(o, "affected", "", true)?.map((a, i) => this.affected(a, `affected[${i}]`)),
    );
    set(
      r,
      "references",
      this.array(o, "references", "", true)?.map((x, i) => this.reference(x, `references[${i}]`)),
    );
    set(r, "credits", this.array(o, "credits", "")?.map((x, i) => this.credit(x, `credits[${i}]`)));
    set(r, "database_specific", this.optObject(o, "database_specific", ""));
    return r;
  }

  severities(o: Json, at: string): OsvSeverity[] | undefined {
    return this.array(o, "severity", at, true)?.map((s, i) => {
      const key = join(at, `severity[${i}]`);
      const so = this.object(s, key);
      return {
        type: this.string(so.type, join(key, "type")),
        score: this.string(so.score, join(key, "score")),
      };
    });
  }

  affected(v: unknown, at: string): OsvAffected {
    const o = this.object(v, at);
    const a: OsvAffected = {};
    if (o.package !== undefined) {
      const key = join(at, "package");
      const p = this.object(o.package, key);
      const pkg: OsvPackage = {
        ecosystem: this.string(p.ecosystem, join(key, "ecosystem")),
        name: this.string(p.name, join(key, "name")),
      };
      set(pkg, "purl", this.optString(p, "purl", key));
      a.package = pkg;
    }
    set(a, "severity", this.severities(o, at));
    set(
      a,
      "ranges",
      this.array(o, "ranges", at)?.map((x, i) => this.range(x, join(at, `ranges[${i}]`))),
    );
    set(a, "versions", this.strings(o, "versions", at));
    set(a, "ecosystem_specific", this.optObject(o, "ecosystem_specific", at));
    set(a, "database_specific", this.optObject(o, "database_specific", at));
    return a;
  }

  range(v: unknown, at: string): OsvRange {
    const o = this.object(v, at);
    const type = this.string(o.type, join(at, "type"));
    if (!RANGE_TYPES.includes(type)) {
      this.fail(join(at, "type"), `must be SEMVER, ECOSYSTEM or GIT, not "${type}"`);
    }
    const list = this.array(o, "events", at);
    if (list === undefined || list.length === 0) this.fail(join(at, "events"), "must list events");
    const events = list.map((e, i) => this.event(e, join(at, `events[${i}]`)));
    if (!events.some((e) => e.introduced !== undefined)) {
      this.fail(join(at, "events"), 'has no "introduced" event');
    }
    const r: OsvRange = { type: type as OsvRangeType, events };
    set(r, "repo", this.optString(o, "repo", at));
    if (type === "GIT" && r.repo === undefined) {
      this.fail(join(at, "repo"), "is required for GIT ranges");
    }
    set(r, "database_specific", this.optObject(o, "database_specific", at));
    return r;
  }

  event(v: unknown, at: string): OsvEvent {
    const o = this.object(v, at);
    const keys = Object.keys(o);
    if (keys.length !== 1 || !EVENT_KEYS.includes(keys[0])) {
      this.fail(
        at,
        `must have exactly one of introduced, fixed, last_affected, limit; has ${
          keys.join(", ") || "none"
        }`,
      );
    }
    const key = keys[0] as OsvEventKind;
    const version = this.string(o[key], join(at, key));
    switch (key) {
      case "introduced":
        return { introduced: version };
      case "fixed":
        return { fixed: version };
      case "last_affected":
        return { last_affected: version };
      case "limit":
        return { limit: version };
    }
  }

  reference(v: unknown, at: string): OsvReference {
    const o = this.object(v, at);
    return {
      type: this.string(o.type, join(at, "type")),
      url: this.string(o.url, join(at, "url")),
    };
  }

  credit(v: unknown, at: string): OsvCredit {
    const o = this.object(v, at);
    const c: OsvCredit = { name: this.string(o.name, join(at, "name")) };
    set(c, "contact", this.strings(o, "contact", at));
    set(c, "type", this.optString(o, "type", at));
    return c;
  }
}

function join(at: string, key: string): string {
  return at === "" ? key : `${at}.${key}`;
}

/** Sets an optional field only when present, so parsed records carry no `undefined` keys. */
function set<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
