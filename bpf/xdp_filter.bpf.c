// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Ironpost packet filter: one decision core shared by an XDP program (xdp_filter) and a TC
 * ingress classifier (tc_ingress), plus a TC egress classifier (tc_egress) that stops
 * traffic towards addresses under a live block decision.
 *
 * Ingress order (by source address): allowlist > blocklist > live decision > SYN token
 * bucket > port-scan window > pass. Every packet lands in one counter slot
 * (reason * 2 + verdict); drops and scan detections are reported on the `events` ring
 * buffer, rate limited per (source, reason) and optionally sampled.
 *
 * Edge cases: a packet whose IP header parses but whose extension headers or L4 header
 * are truncated still meets the address lists (a blocked source stays blocked), then
 * passes as REASON_MALFORMED; cfg.syn_burst == 0 turns the SYN bucket off and
 * cfg.scan_threshold == 0 the port-scan window. TC programs pull up to TC_PULL_LEN bytes
 * into the linear area only when the headers run past it.
 *
 * Maps, records and settings are defined by xdp_filter.h, the contract with mod/ebpf.
 * .rodata holds only `cfg` (user space rewrites it as one struct xdp_config before load),
 * so this file must not contain string literals, bpf_printk or other const globals.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_filter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- settings (the whole of .rodata) ------------------------------------------------ */

const volatile struct xdp_config cfg = {
	.syn_rate = 200,
	.syn_burst = 400,
	.scan_window_ns = 10000000000ULL,
	.scan_threshold = 50,
	.scan_block = 0,
	.sample_rate = 1,
};

/* ---- maps ---------------------------------------------------------------------------- */

#define LIST_MAX_ENTRIES 65536 /* user space raises these before load (up to 2,000,000) */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u8);
	__uint(max_entries, LIST_MAX_ENTRIES);
} allow_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u8);
	__uint(max_entries, LIST_MAX_ENTRIES);
} allow_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u8);
	__uint(max_entries, LIST_MAX_ENTRIES);
} block_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u8);
	__uint(max_entries, LIST_MAX_ENTRIES);
} block_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, struct decision);
	__uint(max_entries, 100000);
} decisions_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, struct decision);
	__uint(max_entries, 100000);
} decisions_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct src_key);
	__type(value, struct syn_bucket);
	__uint(max_entries, 65536);
} syn_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct src_key);
	__type(value, struct scan_state);
	__uint(max_entries, 16384);
} scan_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct rl_key);
	__type(value, struct rl_value);
	__uint(max_entries, 65536);
} event_rl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct counter);
	__uint(max_entries, COUNTER_SLOTS);
} counters SEC(".maps");

/* Ring-buffer reservation failures (events lost because user space fell behind). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} event_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* ---- packet parsing ------------------------------------------------------------------- */

#define NSEC_PER_SEC 1000000000ULL
#define MILLI 1000ULL
#define IPV4_FRAG_OFFSET 0x1fff  /* fragment offset bits of iphdr.frag_off (host order) */
#define IPV6_FRAG_OFFSET 0xfff8  /* fragment offset bits of the IPv6 fragment header */
#define IPV6_EXT_MAX 6           /* extension headers walked before giving up on L4 */
#define TC_PULL_LEN 512          /* bytes made linear when a TC skb's headers are paged */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DSTOPTS_ 60

struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

#define PM_PORTS 0x1 /* dport is valid (TCP/UDP header present) */
#define PM_SYN 0x2   /* TCP with SYN set and ACK clear */

/* What the decision code needs from one packet. */
struct pkt_meta {
	struct src_key src; /* family + source address: the per-source map key */
	__u8 dst[16];
	__u32 ifindex;
	__be16 dport; /* network order; 0 without TCP/UDP header */
	__u8 proto;
	__u8 flags;   /* PM_* */
	__u64 now;    /* bpf_ktime_get_ns(), read on first use */
};

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_IP,      /* not IPv4/IPv6 */
	PARSE_BAD_L3,      /* Ethernet/VLAN/IP header truncated or invalid: no source address */
	PARSE_TRUNCATED,   /* IP header fine, extension headers or L4 header truncated */
};

static __always_inline int is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int parse_l4(void *l4, void *data_end, __u8 proto, struct pkt_meta *pm)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return PARSE_TRUNCATED;
		pm->dport = th->dest;
		pm->flags = PM_PORTS | ((th->syn && !th->ack) ? PM_SYN : 0);
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return PARSE_TRUNCATED;
		pm->dport = uh->dest;
		pm->flags = PM_PORTS;
	}
	return PARSE_OK;
}

/*
 * Fill pm from the packet. want_l4 = 0 stops after the IP header (egress needs only the
 * addresses). pm must be zeroed by the caller.
 */
static __always_inline int parse_packet(void *data, void *data_end, struct pkt_meta *pm,
					const int want_l4)
{
	struct ethhdr *eth = data;
	void *p = eth + 1;
	__be16 h_proto;

	if (p > data_end)
		return PARSE_BAD_L3;
	h_proto = eth->h_proto;

	/* Zero, one or two VLAN tags (802.1ad outer 0x88a8 or 802.1Q 0x8100). */
	if (is_vlan(h_proto)) {
		struct vlan_tag *vt = p;

		if ((void *)(vt + 1) > data_end)
			return PARSE_BAD_L3;
		h_proto = vt->encapsulated_proto;
		p = vt + 1;
		if (is_vlan(h_proto)) {
			vt = p;
			if ((void *)(vt + 1) > data_end)
				return PARSE_BAD_L3;
			h_proto = vt->encapsulated_proto;
			p = vt + 1;
		}
	}

	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = p;
		__u32 hlen;

		if ((void *)(iph + 1) > data_end)
			return PARSE_BAD_L3;
		if (iph->version != 4 || iph->ihl < 5)
			return PARSE_BAD_L3;
		pm->src.family = 4;
		__builtin_memcpy(pm->src.addr, &iph->saddr, 4);
		__builtin_memcpy(pm->dst, &iph->daddr, 4);
		pm->proto = iph->protocol;
		if (!want_l4)
			return PARSE_OK;
		/* A fragment other than the first carries no L4 header: ports stay absent. */
		if (iph->frag_off & bpf_htons(IPV4_FRAG_OFFSET))
			return PARSE_OK;
		hlen = iph->ihl * 4;
		return parse_l4(p + hlen, data_end, iph->protocol, pm);
	}

	if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = p;
		__u8 nh;

		if ((void *)(ip6h + 1) > data_end)
			return PARSE_BAD_L3;
		if (ip6h->version != 6)
			return PARSE_BAD_L3;
		pm->src.family = 6;
		__builtin_memcpy(pm->src.addr, &ip6h->saddr, 16);
		__builtin_memcpy(pm->dst, &ip6h->daddr, 16);
		nh = ip6h->nexthdr;
		pm->proto = nh;
		if (!want_l4)
			return PARSE_OK;
		p = ip6h + 1;

#pragma unroll
		for (int i = 0; i < IPV6_EXT_MAX; i++) {
			struct ipv6_opt_hdr *oh = p;

			if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
			    nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_FRAGMENT_ && nh != IPPROTO_AH_)
				break;
			if (nh == IPPROTO_FRAGMENT_) {
				struct ipv6_frag *fh = p;

				if ((void *)(fh + 1) > data_end)
					return PARSE_TRUNCATED;
				nh = fh->nexthdr;
				pm->proto = nh;
				/* Not the first fragment: no L4 header follows. */
				if (fh->frag_off & bpf_htons(IPV6_FRAG_OFFSET))
					return PARSE_OK;
				p = fh + 1;
				continue;
			}
			if ((void *)(oh + 1) > data_end)
				return PARSE_TRUNCATED;
			/* AH counts 4-byte words minus 2, the others 8-byte words minus 1. */
			if (nh == IPPROTO_AH_)
				p += ((__u32)oh->hdrlen + 2) << 2;
			else
				p += ((__u32)oh->hdrlen + 1) << 3;
			nh = oh->nexthdr;
			pm->proto = nh;
		}
		return parse_l4(p, data_end, nh, pm);
	}

	return PARSE_NOT_IP;
}

/* ---- counters and events --------------------------------------------------------------- */

static __always_inline void count(__u32 reason, __u32 verdict, __u64 bytes)
{
	__u32 slot = reason * 2 + verdict;
	struct counter *c = bpf_map_lookup_elem(&counters, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline __u64 pkt_now(struct pkt_meta *pm)
{
	if (!pm->now)
		pm->now = bpf_ktime_get_ns();
	return pm->now;
}

enum gate_result {
	GATE_SEND = 0,     /* send the event now */
	GATE_LIMITED = 1,  /* held back by the per-(source, reason) rate limit */
	GATE_SAMPLED = 2,  /* its turn, but not picked by sampling */
};

/* 1 when sampling keeps this event (cfg.sample_rate <= 1 keeps all). */
static __always_inline int sampled_in(void)
{
	__u32 rate = cfg.sample_rate;

	return rate <= 1 || bpf_get_prandom_u32() % rate == 0;
}

/*
 * The record is filled out of line: a real subprogram keeps the event path out of the
 * hot path's instruction stream and puts struct xdp_event and both enums into the
 * object's BTF, which mod/ebpf's layout test reads. Every field is written (ring-buffer
 * memory is not zeroed).
 */
static __noinline int fill_event(struct xdp_event *e, const struct pkt_meta *pm,
				 enum ironpost_reason reason, enum ironpost_verdict verdict,
				 __u32 cnt)
{
	e->version = IRONPOST_XDP_EVENT_VERSION;
	e->size = sizeof(*e);
	e->reason = reason;
	e->verdict = verdict;
	e->family = pm->src.family;
	e->proto = pm->proto;
	e->ifindex = pm->ifindex;
	e->dport = pm->dport;
	e->pad = 0;
	e->count = cnt;
	e->pad2 = 0;
	e->ts_ns = pm->now;
	__builtin_memcpy(e->src, pm->src.addr, sizeof(e->src));
	__builtin_memcpy(e->dst, pm->dst, sizeof(e->dst));
	return 0;
}

/*
 * Report one event for this packet, subject to the kernel-side rate limit (one event per
 * (source, reason) per second; the packets held back in between are carried in the next
 * event's count) and then sampling (a sampled-out turn also uses up that second).
 * Port-scan events carry the distinct port count (scan_ports) instead. Out of line: it is
 * the cold path and is called from several places.
 */
static __noinline int report(struct pkt_meta *pm, enum ironpost_reason reason,
			     enum ironpost_verdict verdict, __u32 scan_ports)
{
	struct rl_key key;
	struct rl_value *rl;
	struct xdp_event *e;
	__u64 now = pkt_now(pm);
	__u64 held = 0;

	__builtin_memcpy(&key.src, &pm->src, sizeof(key.src));
	key.reason = reason;
	rl = bpf_map_lookup_elem(&event_rl, &key);
	if (rl) {
		if (now - rl->last_ns < NSEC_PER_SEC) {
			rl->suppressed++;
			return GATE_LIMITED;
		}
		rl->last_ns = now;
		if (!sampled_in()) {
			rl->suppressed++;
			return GATE_SAMPLED;
		}
		held = rl->suppressed;
		rl->suppressed = 0;
	} else {
		struct rl_value fresh = { .last_ns = now, .suppressed = 0 };
		int keep = sampled_in();

		if (!keep)
			fresh.suppressed = 1;
		bpf_map_update_elem(&event_rl, &key, &fresh, BPF_ANY);
		if (!keep)
			return GATE_SAMPLED;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&event_drops, &zero);

		if (lost)
			*lost += 1;
		return GATE_SEND;
	}
	if (reason == REASON_PORT_SCAN)
		held = scan_ports;
	else
		held = held + 1 > 0xffffffffULL ? 0xffffffffULL : held + 1;
	fill_event(e, pm, reason, verdict, (__u32)held);
	bpf_ringbuf_submit(e, 0);
	return GATE_SEND;
}

/* ---- SYN flood: per-source token bucket ------------------------------------------------ */

/* 1 when this SYN may pass (a token was taken), 0 when the source's bucket is empty. */
static __always_inline int syn_take(struct pkt_meta *pm)
{
	__u64 now = pkt_now(pm);
	__u64 burst = cfg.syn_burst * MILLI;
	__u64 rate = cfg.syn_rate;
	struct syn_bucket *b = bpf_map_lookup_elem(&syn_buckets, &pm->src);
	__u64 tokens, elapsed;

	if (!b) {
		/* A new source starts with a full bucket, minus this SYN. */
		struct syn_bucket fresh = { .last_ns = now, .tokens_milli = burst - MILLI };

		bpf_map_update_elem(&syn_buckets, &pm->src, &fresh, BPF_ANY);
		return 1;
	}

	tokens = b->tokens_milli;
	elapsed = now - b->last_ns;
	if ((__s64)elapsed > 0 && rate) {
		/* tokens/s * 1000 milli / 1e9 ns = elapsed * rate / 1e6 milli-tokens */
		if (elapsed >= ~0ULL / rate) {
			tokens = burst;
			b->last_ns = now;
		} else {
			__u64 add = elapsed * rate / 1000000;

			/* Advance last_ns only by the time the credited milli-tokens account for,
			 * so the fraction left over is not lost between closely spaced SYNs. */
			if (add) {
				tokens += add;
				if (tokens >= burst) {
					tokens = burst;
					b->last_ns = now;
				} else {
					b->last_ns += add * 1000000 / rate;
				}
			}
		}
	}
	if (tokens < MILLI) {
		b->tokens_milli = tokens;
		return 0;
	}
	b->tokens_milli = tokens - MILLI;
	return 1;
}

/* ---- port scan: distinct destination ports per source and window ----------------------- */

/* 1 when the packet is to be dropped (scanner over threshold and cfg.scan_block == 1). */
static __always_inline int scan_check(struct pkt_meta *pm)
{
	__u64 now = pkt_now(pm);
	__u32 idx = bpf_ntohs(pm->dport) & 1023;
	__u64 bit = 1ULL << (idx & 63);
	struct scan_state *s;
	__u64 word;
	__u32 ports;
	int drop;

	s = bpf_map_lookup_elem(&scan_states, &pm->src);
	if (!s) {
		struct scan_state fresh;

		__builtin_memset(&fresh, 0, sizeof(fresh));
		fresh.window_start_ns = now;
		bpf_map_update_elem(&scan_states, &pm->src, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&scan_states, &pm->src);
		if (!s)
			return 0;
	}

	if ((__s64)(now - s->window_start_ns) >= (__s64)cfg.scan_window_ns) {
		s->window_start_ns = now;
#pragma unroll
		for (int i = 0; i < SCAN_BITMAP_WORDS; i++)
			s->bitmap[i] = 0;
		s->ports = 0;
		s->reported = 0;
	}

	idx >>= 6;
	word = s->bitmap[idx];
	if (!(word & bit)) {
		s->bitmap[idx] = word | bit;
		s->ports++;
	}
	ports = s->ports;
	if (ports < cfg.scan_threshold)
		return 0;

	drop = cfg.scan_block == 1;
	/* The detection event once per window; with blocking, also the (rate-limited) drops.
	 * A detection held back by the rate limit is retried on the next packet. */
	if (!s->reported || drop) {
		if (report(pm, REASON_PORT_SCAN, drop ? VERDICT_DROP : VERDICT_PASS, ports) !=
		    GATE_LIMITED)
			s->reported = 1;
	}
	return drop;
}

/* ---- the decision core ------------------------------------------------------------------- */

#define VERDICT_RETRY 2 /* internal: headers are paged in this skb; pull and call again */

/* REASON_ALLOWLIST, REASON_BLOCKLIST, REASON_DECISION or REASON_NONE for a list key. */
static __always_inline __u32 check_lists(void *allow, void *block, void *decisions,
					 const void *key, struct pkt_meta *pm)
{
	struct decision *d;

	if (bpf_map_lookup_elem(allow, key))
		return REASON_ALLOWLIST;
	if (bpf_map_lookup_elem(block, key))
		return REASON_BLOCKLIST;
	d = bpf_map_lookup_elem(decisions, key);
	if (d) {
		__u64 expires = d->expires_ns;

		if (expires == 0 || expires > pkt_now(pm))
			return REASON_DECISION;
	}
	return REASON_NONE;
}

static __always_inline __u32 check_source(struct pkt_meta *pm)
{
	if (pm->src.family == 4) {
		struct lpm_v4_key k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, pm->src.addr, 4);
		return check_lists(&allow_v4, &block_v4, &decisions_v4, &k, pm);
	} else {
		struct lpm_v6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, pm->src.addr, 16);
		return check_lists(&allow_v6, &block_v6, &decisions_v6, &k, pm);
	}
}

/*
 * The ingress decision for one packet (data..data_end is its linear part, len its full
 * length for the byte counter). Returns VERDICT_PASS or VERDICT_DROP, and counts it.
 * With may_pull (TC only), a packet whose headers run past the linear part of a longer
 * skb returns VERDICT_RETRY without counting, so the caller can pull and call again.
 */
static __always_inline int filter_core(void *data, void *data_end, __u32 ifindex, __u64 len,
				       const int may_pull)
{
	struct pkt_meta pm;
	__u32 reason;
	int rc;

	__builtin_memset(&pm, 0, sizeof(pm));
	rc = parse_packet(data, data_end, &pm, 1);
	if (rc != PARSE_OK) {
		if (rc == PARSE_NOT_IP) {
			count(REASON_NOT_IP, VERDICT_PASS, len);
			return VERDICT_PASS;
		}
		if (may_pull && len > (__u64)(data_end - data))
			return VERDICT_RETRY;
		if (rc == PARSE_BAD_L3) {
			count(REASON_MALFORMED, VERDICT_PASS, len);
			return VERDICT_PASS;
		}
		/* PARSE_TRUNCATED: the source is known, so the address lists still apply. */
	}
	pm.ifindex = ifindex;

	reason = check_source(&pm);
	if (reason == REASON_ALLOWLIST) {
		count(REASON_ALLOWLIST, VERDICT_PASS, len);
		return VERDICT_PASS;
	}
	if (reason != REASON_NONE) {
		report(&pm, reason, VERDICT_DROP, 0);
		count(reason, VERDICT_DROP, len);
		return VERDICT_DROP;
	}
	if (rc != PARSE_OK) {
		count(REASON_MALFORMED, VERDICT_PASS, len);
		return VERDICT_PASS;
	}

	if ((pm.flags & PM_SYN) && cfg.syn_burst != 0 && !syn_take(&pm)) {
		report(&pm, REASON_SYN_FLOOD, VERDICT_DROP, 0);
		count(REASON_SYN_FLOOD, VERDICT_DROP, len);
		return VERDICT_DROP;
	}

	if ((pm.flags & PM_PORTS) && (pm.proto == IPPROTO_UDP || (pm.flags & PM_SYN)) &&
	    cfg.scan_threshold != 0 && scan_check(&pm)) {
		count(REASON_PORT_SCAN, VERDICT_DROP, len);
		return VERDICT_DROP;
	}

	count(REASON_NONE, VERDICT_PASS, len);
	return VERDICT_PASS;
}

/* ---- programs ---------------------------------------------------------------------------- */

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (filter_core(data, data_end, ctx->ingress_ifindex, (__u64)(data_end - data), 0) ==
	    VERDICT_DROP)
		return XDP_DROP;
	return XDP_PASS;
}

static __always_inline __u32 pull_len(struct __sk_buff *skb)
{
	__u32 len = skb->len;

	return len < TC_PULL_LEN ? len : TC_PULL_LEN;
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	int verdict = VERDICT_PASS;

#pragma clang loop unroll(disable)
	for (int attempt = 0; attempt < 2; attempt++) {
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;

		verdict = filter_core(data, data_end, skb->ifindex, skb->len, attempt == 0);
		if (verdict != VERDICT_RETRY)
			break;
		bpf_skb_pull_data(skb, pull_len(skb));
	}
	return verdict == VERDICT_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/* 1 when a live decision covers the destination (and the allowlist does not). */
static __always_inline int dst_blocked(struct pkt_meta *pm)
{
	struct decision *d;
	__u64 expires;

	if (pm->src.family == 4) {
		struct lpm_v4_key k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, pm->dst, 4);
		d = bpf_map_lookup_elem(&decisions_v4, &k);
		if (!d)
			return 0;
		expires = d->expires_ns;
		if (expires != 0 && expires <= bpf_ktime_get_ns())
			return 0;
		return !bpf_map_lookup_elem(&allow_v4, &k);
	} else {
		struct lpm_v6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, pm->dst, 16);
		d = bpf_map_lookup_elem(&decisions_v6, &k);
		if (!d)
			return 0;
		expires = d->expires_ns;
		if (expires != 0 && expires <= bpf_ktime_get_ns())
			return 0;
		return !bpf_map_lookup_elem(&allow_v6, &k);
	}
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt_meta pm;
	int rc;

	__builtin_memset(&pm, 0, sizeof(pm));
	rc = parse_packet(data, data_end, &pm, 0);
	if (rc == PARSE_BAD_L3 && skb->len > (__u64)(data_end - data)) {
		/* Headers paged out of the linear part: pull them in and parse again. */
		bpf_skb_pull_data(skb, pull_len(skb));
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		__builtin_memset(&pm, 0, sizeof(pm));
		rc = parse_packet(data, data_end, &pm, 0);
	}
	if (rc != PARSE_OK || !dst_blocked(&pm))
		return TC_ACT_OK;
	count(REASON_DECISION, VERDICT_DROP, skb->len);
	return TC_ACT_SHOT;
}
