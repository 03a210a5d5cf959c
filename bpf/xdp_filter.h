/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between bpf/xdp_filter.bpf.c and mod/ebpf: map key/value layouts, the
 * ring-buffer record and the load-time settings. mod/ebpf/layout.ts mirrors every struct
 * here; tests/ebpf/layout_test.ts compares both against the built object's BTF.
 * All multi-byte fields are host order (little endian on x86_64) except addresses and
 * ports, which stay in network order as they are on the wire.
 */
#ifndef IRONPOST_XDP_FILTER_H
#define IRONPOST_XDP_FILTER_H

#include <linux/types.h>

#define IRONPOST_XDP_EVENT_VERSION 1

/* Why a packet got its verdict. Counter slot = reason * 2 + verdict. */
enum ironpost_reason {
	REASON_NONE = 0,      /* no rule matched: pass */
	REASON_ALLOWLIST = 1, /* allowlist: always pass */
	REASON_BLOCKLIST = 2,
	REASON_DECISION = 3,  /* live block decision from the agent, until it expires */
	REASON_SYN_FLOOD = 4, /* per-source SYN token bucket empty */
	REASON_PORT_SCAN = 5, /* distinct destination ports over threshold in window */
	REASON_NOT_IP = 6,    /* not IPv4/IPv6 (ARP, LLDP, ...): pass */
	REASON_MALFORMED = 7, /* truncated headers: pass, the stack decides */
	REASON_MAX = 8,
};

enum ironpost_verdict {
	VERDICT_PASS = 0,
	VERDICT_DROP = 1,
};

#define COUNTER_SLOTS (REASON_MAX * 2)

/* LPM trie keys: prefixlen in bits, then the address bytes (network order). */
struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of the decisions_v4/v6 tries. expires_ns is CLOCK_MONOTONIC (bpf_ktime_get_ns);
 * 0 means no expiry. The kernel ignores an entry whose time has passed; the agent sweeps. */
struct decision {
	__u64 expires_ns;
	__u32 reason_id; /* the agent's id for the decision's reason text */
	__u32 flags;
};

/* A source address of either family (IPv4 in the first 4 bytes, rest zero). */
struct src_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

/* Per-source SYN token bucket; tokens are scaled by 1000 to keep integer math exact. */
struct syn_bucket {
	__u64 last_ns;
	__u64 tokens_milli;
};

/* Per-source port-scan window: bit (dport & 1023) set for each destination port seen. */
#define SCAN_BITMAP_WORDS 16
struct scan_state {
	__u64 window_start_ns;
	__u64 bitmap[SCAN_BITMAP_WORDS];
	__u32 ports;    /* bits set in this window */
	__u32 reported; /* 1 once this window's scan event was sent */
};

/* Event rate limit: at most one event per source per reason per second. */
struct rl_key {
	struct src_key src;
	__u32 reason;
};

struct rl_value {
	__u64 last_ns;
	__u64 suppressed; /* events held back since last_ns, reported in the next one */
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

/* Ring-buffer record, 64 bytes. */
struct xdp_event {
	__u16 version; /* IRONPOST_XDP_EVENT_VERSION */
	__u16 size;    /* sizeof(struct xdp_event) */
	__u8 reason;   /* enum ironpost_reason */
	__u8 verdict;  /* enum ironpost_verdict */
	__u8 family;   /* 4 or 6 */
	__u8 proto;    /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, or other */
	__u32 ifindex;
	__u16 dport;   /* network order; 0 when not TCP/UDP */
	__u16 pad;
	__u32 count;   /* port scans: distinct ports; otherwise packets since the previous event */
	__u32 pad2;
	__u64 ts_ns;   /* bpf_ktime_get_ns() */
	__u8 src[16];
	__u8 dst[16];
};

/* Load-time settings, the whole of .rodata (set before load through the skeleton-style
 * initial value of the .rodata map). */
struct xdp_config {
	__u64 syn_rate;       /* SYN tokens per second per source */
	__u64 syn_burst;      /* bucket size */
	__u64 scan_window_ns;
	__u32 scan_threshold; /* distinct ports that make a scan */
	__u32 scan_block;     /* 1: drop the scanner for the rest of the window */
	__u32 sample_rate;    /* send one event in N (1: all) */
	__u32 pad;
};

#endif
