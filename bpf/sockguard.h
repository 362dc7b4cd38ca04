/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout shared by the sock_addr programs (sockguard.bpf.c) and their Go
 * loader (internal/enforce/sockguard). Changing anything here means changing
 * the Go side (policy.go, decision.go) in the same commit.
 */
#ifndef SOCKGUARD_H
#define SOCKGUARD_H

/* Which hook made a decision. */
#define SG_HOOK_CONNECT4 1
#define SG_HOOK_CONNECT6 2
#define SG_HOOK_SENDMSG4 3
#define SG_HOOK_SENDMSG6 4

/* Rule verdicts; 0 is never stored. */
#define SG_VERDICT_ALLOW 1
#define SG_VERDICT_BLOCK 2
#define SG_VERDICT_AUDIT 3

/* Scopes that are not a cgroup id. Real cgroup ids are kernfs inode
 * numbers and never come near the top of the u64 range. */
#define SG_SCOPE_HOST       0xffffffffffffffffULL
#define SG_SCOPE_CONTAINERS 0xfffffffffffffffeULL

/* Address families as they appear in policy keys: an IPv4-mapped IPv6
 * destination is looked up as SG_FAMILY_V4. */
#define SG_FAMILY_V4 4
#define SG_FAMILY_V6 6
/* The one summary entry of a policy trie has family SG_FAMILY_SUMMARY, every
 * other key field 0 and the full prefix length; see struct sg_value. */
#define SG_FAMILY_SUMMARY 0
#define SG_KEY_FULL_BITS 224

/*
 * Summary bits: which (scope kind, port, protocol) combinations have rules,
 * so the programs skip trie lookups that cannot match. Bit
 * kind * 4 + (port is any) * 2 + (protocol is any).
 */
#define SG_KIND_CGROUP     0
#define SG_KIND_HOST       1
#define SG_KIND_CONTAINERS 2

/* Indexes of the per-CPU counters array. */
#define SG_CNT_CHECKS     0
#define SG_CNT_ALLOWED    1
#define SG_CNT_BLOCKED    2
#define SG_CNT_AUDITED    3
#define SG_CNT_EXEMPT     4
#define SG_CNT_RING_DROPS 5
#define SG_CNT_MAX        6

/*
 * Policy trie key. Everything before addr must match exactly, so a key's
 * prefixlen is SG_KEY_FIXED_BITS plus the rule's address prefix length.
 * port is in network byte order, 0 for any port; proto is the IP protocol
 * number, 0 for any. An IPv4 address fills addr[0..3].
 */
struct sg_key {
	__u32 prefixlen;
	__u8 family;
	__u8 proto;
	__u16 port;
	__u64 scope; /* a cgroup id or SG_SCOPE_* */
	__u8 addr[16];
};

#define SG_KEY_FIXED_BITS 96

/*
 * rank orders matches: address prefix length first, then an exact port,
 * then an exact protocol, then a cgroup scope over a host/containers one.
 * User space computes it; the programs only compare.
 */
struct sg_value {
	union {
		__u32 rule_id;
		__u32 summary; /* in the summary entry: the SG_KIND_* bits above */
	};
	__u16 rank;
	__u8 verdict;
	__u8 _pad;
};

/* One Block or Audit decision, as sent through the ring buffer (72 bytes). */
struct sg_decision {
	__u64 ts_ns;     /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u32 pid;       /* thread id */
	__u32 tgid;
	__u32 uid;
	__u32 rule_id;
	__u8 addr[16];   /* destination as the caller gave it; IPv4 in addr[0..3] */
	__u16 port;      /* destination port, host byte order */
	__u8 family;     /* AF_INET or AF_INET6 of the socket address */
	__u8 proto;      /* IP protocol number */
	__u8 hook;       /* SG_HOOK_* */
	__u8 verdict;    /* SG_VERDICT_BLOCK or SG_VERDICT_AUDIT */
	__u8 _pad[2];
	char comm[16];
};

#endif
