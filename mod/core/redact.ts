const MASK = "***";
// scheme://user:password@host — the password part, and a lone token before @ in URLs.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*)(?::([^\s/@]*))?@/gi;
const SECRET_KEY = /(pass(word)?|secret|token|api_?key|credential)/i;

/**
 * Mask credentials inside URLs in a string: the password of `user:password@`, and a
 * bare `token@` (how Redis and some brokers carry it).
 *
 * @example
 * ```ts
 * import { redactText } from "./redact.ts";
 * console.assert(redactText("postgresql://u:pw@h/db") === "postgresql://u:***@h/db");
 * ```
 */
export function redactText(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string, pass?: string) => {
    if (pass === undefined) return `${scheme}${MASK}@`;
    return `${scheme}${user}:${MASK}@`;
  });
}

/**
 * A deep copy of `value` with URL credentials masked in every string and the values of
 * secret-looking keys (`password`, `token`, …) replaced. Used for `config show` and logs.
 */
export function redact<T>(value: T): T {
  return redactValue(value, undefined) as T;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === "string") {
    if (key !== undefined && SECRET_KEY.test(key) && value !== "") return MASK;
    return redactText(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined));
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, k);
    return out;
  }
  return value;
}
