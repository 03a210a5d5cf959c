/** An IP network in the byte form LPM-trie keys and comparisons need. */
export interface Cidr {
  family: 4 | 6;
  /** 4 or 16 bytes, network order, host bits zero. */
  bytes: Uint8Array;
  prefix: number;
}

/** Parse an IPv4 or IPv6 address to its bytes; undefined when it is not one. */
export function parseIp(text: string): { family: 4 | 6; bytes: Uint8Array } | undefined {
  if (text.includes(":")) {
    const bytes = parseIpv6(text);
    return bytes ? { family: 6, bytes } : undefined;
  }
  const bytes = parseIpv4(text);
  return bytes ? { family: 4, bytes } : undefined;
}

/**
 * Parse `addr` or `addr/prefix`. Returns a reason string instead of throwing, so config
 * validation can collect every problem. Host bits set below the prefix are refused: a
 * blocklist entry `198.18.0.1/15` is almost always a typo for `198.18.0.0/15`.
 *
 * @example
 * ```ts
 * import { parseCidr } from "./cidr.ts";
 * const r = parseCidr("2001:db8::/32");
 * console.assert(typeof r !== "string" && r.prefix === 32);
 * ```
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) return `"${addrText}" is not an IPv4 or IPv6 address`;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      return `prefix "/${p}" is out of range for IPv${ip.family} (0 to ${max})`;
    }
    prefix = Number(p);
  }
  if (prefix === max) return { family: ip.family, bytes: ip.bytes, prefix };
  const masked = maskBytes(ip.bytes, prefix);
  if (!masked.every((b, i) => b === ip.bytes[i])) {
    return `"${text}" has host bits set below /${prefix}; the network is ${
      formatIp(masked)
    }/${prefix}`;
  }
  return { family: ip.family, bytes: masked, prefix };
}

/**
 * Whether the address `ip` (text) lies in `net`; false for an address of the other family
 * or not an address at all.
 *
 * @example
 * ```ts
 * import { cidrContains, parseCidr } from "./cidr.ts";
 * const net = parseCidr("198.18.0.0/15");
 * console.assert(typeof net !== "string" && cidrContains(net, "198.19.4.2"));
 * ```
 */
export function cidrContains(net: Cidr, ip: string): boolean {
  const a = parseIp(ip);
  if (!a || a.family !== net.family) return false;
  const masked = maskBytes(a.bytes, net.prefix);
  return masked.every((b, i) => b === net.bytes[i]);
}

/** Zero the bits after `prefix`. */
export function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/** Text form of 4 or 16 address bytes (IPv6 compressed per RFC 5952). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // Longest run of two or more zero groups becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

// Hand-written (no split, no regex): blocklists of a million entries are parsed at start.
function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0, value = 0, digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) { // "."
      if (digits === 0 || part === 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros: "010" is octal to some parsers and decimal to others.
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else return undefined;
  }
  if (part !== 3 || digits === 0) return undefined;
  out[3] = value;
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes("%")) return undefined; // zones are not routable prefixes
  let head = text;
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) >= 0) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  // At most one "::"; the groups on each side are 1-4 hex digits each.
  const gap = head.indexOf("::");
  if (gap >= 0 && head.indexOf("::", gap + 1) >= 0) return undefined;
  const left = hexGroups(gap < 0 ? head : head.slice(0, gap));
  const right = gap < 0 ? [] : hexGroups(head.slice(gap + 2));
  if (!left || !right) return undefined;
  const total = left.length + right.length;
  if (gap < 0 ? total !== 8 : total > 7) return undefined;
  const groups = [...left, ...new Array<number>(8 - total).fill(0), ...right];
  const out = new Uint8Array(16);
  for (let g = 0; g < 8; g++) {
    out[g * 2] = groups[g] >> 8;
    out[g * 2 + 1] = groups[g] & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** "1:2:ab" to [1, 2, 0xab]; undefined for an empty group or a non-hex character. */
function hexGroups(s: string): number[] | undefined {
  if (s === "") return [];
  const out: number[] = [];
  let value = 0, digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 58;
    if (c === 58) { // ":" or the end
      if (digits === 0) return undefined;
      out.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    const d = c >= 48 && c <= 57
      ? c - 48
      : c >= 97 && c <= 102
      ? c - 87
      : c >= 65 && c <= 70
      ? c - 55
      : -1;
    if (d < 0 || ++digits > 4) return undefined;
    value = value * 16 + d;
  }
  return out;
}
