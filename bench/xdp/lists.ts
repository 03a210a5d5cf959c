/**
 * Blocklists for bench/xdp.ts, deterministic and inside documentation/benchmark ranges only
 * (198.18.0.0/15, RFC 2544; 2001:db8::/32, RFC 3849).
 *
 * 198.18.200.0/24 is the test link: 198.18.200.2 (the blocked traffic source) is covered
 * by exactly one /32 in every list, and nothing else in that /24 is listed, so
 * 198.18.200.3 (the pass-through and decision flow) is never matched by a list.
 */

export const RECV_ADDR = "198.18.200.1";
export const BLOCKED_SRC = "198.18.200.2";
export const PASS_SRC = "198.18.200.3";

const LINK_24 = 200; // 198.18.200.0/24 is host index 200 * 256 … 200 * 256 + 255 in the /15
const BLOCKED_INDEX = LINK_24 * 256 + 2;
const SPACE = 1 << 17; // addresses in 198.18.0.0/15

function v4(index: number): string {
  const a = ((198 << 24) >>> 0) + (18 << 16) + index;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** mulberry32: a small seeded PRNG, so every run lists the same addresses. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` IPv4 /32s spread over 198.18.0.0/15 (the blocked source first): the list every filter
 * in the CPU comparison gets, because xdp-filter and an nftables ipv4_addr set hold
 * addresses only, and xdp-filter at most 10,000.
 */
export function hostList(n: number): string[] {
  const rnd = prng(0x1b0c);
  const seen = new Set<number>([BLOCKED_INDEX]);
  const out = [v4(BLOCKED_INDEX)];
  while (out.length < n) {
    const i = Math.floor(rnd() * SPACE);
    if (i >> 8 === LINK_24 || seen.has(i)) continue;
    seen.add(i);
    out.push(v4(i));
  }
  return out;
}

export interface MixedList {
  lines: string[];
  /** Entries by family and prefix length, e.g. { "v4/32": 130817, … }. */
  mix: Record<string, number>;
}

/**
 * `total` mixed CIDRs (default 1,000,000): every /32, /30, /28 and /24 of 198.18.0.0/15
 * outside the test /24 (plus the blocked source's /32): about 172k overlapping IPv4 entries,
 * the most distinct prefixes that range holds at those lengths; the rest IPv6 in
 * 2001:db8::/32 as /48s, /64s and /128s.
 */
export function mixedList(total = 1_000_000): MixedList {
  const lines: string[] = [];
  const mix: Record<string, number> = {};
  const add = (key: string, s: string) => {
    lines.push(s);
    mix[key] = (mix[key] ?? 0) + 1;
  };
  add("v4/32", `${v4(BLOCKED_INDEX)}/32`);
  for (const bits of [32, 30, 28, 24]) {
    const step = 1 << (32 - bits);
    for (let i = 0; i < SPACE; i += step) {
      if (i >> 8 === LINK_24) continue;
      add(`v4/${bits}`, `${v4(i)}/${bits}`);
    }
  }
  const hex = (n: number) => (n & 0xffff).toString(16);
  const n48 = 16_384;
  const n64 = 400_000;
  const n128 = total - lines.length - n48 - n64;
  if (n128 < 0) throw new Error(`mixedList: total ${total} is below the fixed part`);
  for (let i = 0; i < n48; i++) add("v6/48", `2001:db8:${hex(i)}::/48`);
  for (let i = 0; i < n64; i++) {
    // 64 /64s under each /48 from 2001:db8:4000::/48 up, subnet ids scattered.
    add("v6/64", `2001:db8:${hex(0x4000 + (i >> 6))}:${hex(((i & 63) * 1021) + 7)}::/64`);
  }
  const rnd = prng(0x6db8);
  for (let i = 0; i < n128; i++) {
    const w = () => hex(Math.floor(rnd() * 65536));
    // (word 3, word 8) encode i, so hosts are distinct; the words between are random.
    add(
      "v6/128",
      `2001:db8:${hex(0x8000 + (i >>> 16))}:${w()}:${w()}:${w()}:${w()}:${hex(i)}/128`,
    );
  }
  return { lines, mix };
}
