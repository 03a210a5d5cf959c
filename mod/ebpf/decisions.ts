import { type Cidr, formatIp, parseCidr } from "../core/mod.ts";
import { cidrKey } from "./lists.ts";

/** One live block decision as the agent keeps it (wall-clock expiry survives restarts). */
export interface Decision {
  cidr: string;
  /** Epoch ms when it expires; 0: never. */
  expiresAt: number;
  reason: string;
  createdAt: number;
  alertId?: string;
}

/**
 * The agent's view of the decisions map: what is blocked, why, until when; ids for reason
 * texts (the kernel stores only the id); and the JSON form persisted in the store.
 */
export class DecisionTable {
  #byKey = new Map<string, Decision & { net: Cidr }>();
  #reasonIds = new Map<string, number>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Normalise an address or CIDR, or return why it is not one. */
  static parse(text: string): Cidr | string {
    return parseCidr(text.trim());
  }

  reasonId(reason: string): number {
    let id = this.#reasonIds.get(reason);
    if (id === undefined) {
      id = this.#reasonIds.size + 1;
      this.#reasonIds.set(reason, id);
    }
    return id;
  }

  set(net: Cidr, d: Omit<Decision, "cidr">): Decision {
    const entry = { ...d, cidr: `${formatIp(net.bytes)}/${net.prefix}`, net };
    this.#byKey.set(cidrKey(net), entry);
    return entry;
  }

  get(net: Cidr): Decision | undefined {
    return this.#byKey.get(cidrKey(net));
  }

  delete(net: Cidr): boolean {
    return this.#byKey.delete(cidrKey(net));
  }

  /** Decisions whose time has passed at `now` (epoch ms). */
  expired(now: number): (Decision & { net: Cidr })[] {
    return [...this.#byKey.values()].filter((d) => d.expiresAt !== 0 && d.expiresAt <= now);
  }

  list(): Decision[] {
    return [...this.#byKey.values()].map(({ net: _net, ...d }) => d);
  }

  toJSON(): string {
    return JSON.stringify(this.list());
  }

  /** Decisions from their persisted JSON; malformed entries are skipped and counted. */
  static fromJSON(text: string | undefined): { decisions: Decision[]; skipped: number } {
    if (!text) return { decisions: [], skipped: 0 };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { decisions: [], skipped: 1 };
    }
    if (!Array.isArray(raw)) return { decisions: [], skipped: 1 };
    const decisions = raw.filter((d): d is Decision =>
      typeof d?.cidr === "string" && typeof d?.expiresAt === "number" &&
      typeof d?.reason === "string"
    );
    return { decisions, skipped: raw.length - decisions.length };
  }
}
