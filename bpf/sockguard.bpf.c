// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Vigil's network enforcement. cgroup sock_addr programs on connect (TCP,
 * connected UDP) and sendmsg (unconnected UDP) look the destination up in a
 * policy trie and refuse it (the syscall fails with EPERM before any packet
 * is built) or let it through, reporting Block and Audit decisions through a
 * ring buffer. Attached at the cgroup v2 root, they cover every task.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sockguard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10

/*
 * The policy is one LPM trie behind a one-slot map-in-map: user space builds
 * a complete new trie and swaps the slot, so a program sees either the old
 * policy or the new one, never a mix, and the old trie is freed only after
 * every program that could hold it has returned.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(max_entries, 65536); /* overridden by the loader */
		__uint(key_size, sizeof(struct sg_key));
		__uint(value_size, sizeof(struct sg_value));
	});
} policy SEC(".maps");

/* Cgroup ids registered as containers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* overridden by the loader */
	__type(key, __u64);
	__type(value, __u8);
} containers SEC(".maps");

/* Thread groups that are never blocked: the agent and what it protects. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024); /* overridden by the loader */
	__type(key, __u32);
	__type(value, __u8);
} protected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* overridden by the loader */
} decisions SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &idx);

	if (n)
		*n += 1;
}

static __always_inline void report(const struct sg_key *k, const __u32 *ip, __u8 family,
				   __u16 port, __u8 hook, __u64 cgroup, const struct sg_value *v)
{
	struct sg_decision *d = bpf_ringbuf_reserve(&decisions, sizeof(*d), 0);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!d) {
		count(SG_CNT_RING_DROPS);
		return;
	}
	d->ts_ns = bpf_ktime_get_ns();
	d->cgroup_id = cgroup;
	d->pid = (__u32)pid_tgid;
	d->tgid = pid_tgid >> 32;
	d->uid = (__u32)bpf_get_current_uid_gid();
	d->rule_id = v->rule_id;
	__builtin_memcpy(d->addr, ip, 16);
	d->port = port;
	d->family = family;
	d->proto = k->proto;
	d->hook = hook;
	d->verdict = v->verdict;
	d->_pad[0] = 0;
	d->_pad[1] = 0;
	bpf_get_current_comm(d->comm, sizeof(d->comm));
	bpf_ringbuf_submit(d, 0);
}

/*
 * decide returns 1 to let the operation through and 0 to refuse it. ip is
 * the destination as four network-order words (IPv4 in ip[0], the rest 0).
 */
static __always_inline int decide(struct bpf_sock_addr *ctx, __u8 hook, __u8 family,
				  const __u32 *ip)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 zero = 0;
	struct sg_key k = {};
	const struct sg_value *best = NULL;
	__u16 port_be = (__u16)ctx->user_port;
	__u64 scopes[2];
	void *trie;

	count(SG_CNT_CHECKS);
	if (bpf_map_lookup_elem(&protected, &tgid)) {
		count(SG_CNT_EXEMPT);
		return 1;
	}
	trie = bpf_map_lookup_elem(&policy, &zero);
	if (!trie) {
		count(SG_CNT_ALLOWED);
		return 1;
	}

	/* The summary says which lookups can match; an empty policy has none. */
	const struct sg_value *sum;
	k.prefixlen = SG_KEY_FULL_BITS;
	sum = bpf_map_lookup_elem(trie, &k);
	if (!sum) {
		count(SG_CNT_ALLOWED);
		return 1;
	}
	__u32 want = sum->summary;

	k.proto = (__u8)ctx->protocol;
	if (family == AF_INET) {
		k.family = SG_FAMILY_V4;
		__builtin_memcpy(k.addr, ip, 4);
	} else if (ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0xffff)) {
		/* ::ffff:a.b.c.d goes out as IPv4: IPv4 rules must see it. */
		k.family = SG_FAMILY_V4;
		__builtin_memcpy(k.addr, &ip[3], 4);
	} else {
		k.family = SG_FAMILY_V6;
		__builtin_memcpy(k.addr, ip, 16);
	}
	k.prefixlen = SG_KEY_FIXED_BITS + (k.family == SG_FAMILY_V4 ? 32 : 128);

	scopes[0] = bpf_get_current_cgroup_id();
	scopes[1] = SG_SCOPE_HOST;
	/* Bits 0-3 are the cgroup scope's combinations, 4-7 the host's. */
	want &= 0xff;
	if ((sum->summary & 0xff0) && bpf_map_lookup_elem(&containers, &scopes[0])) {
		scopes[1] = SG_SCOPE_CONTAINERS;
		want = (want & 0x0f) | ((sum->summary >> 4) & 0xf0);
	}
	__u8 proto = k.proto;
#pragma unroll
	for (int i = 0; i < 8; i++) {
		if (!(want & (1 << i)))
			continue;
		k.scope = scopes[i >> 2];
		k.port = (i & 2) ? 0 : port_be;
		k.proto = (i & 1) ? 0 : proto;
		const struct sg_value *v = bpf_map_lookup_elem(trie, &k);
		if (v && (!best || v->rank > best->rank))
			best = v;
	}
	k.proto = proto;

	if (!best || best->verdict == SG_VERDICT_ALLOW) {
		count(SG_CNT_ALLOWED);
		return 1;
	}
	report(&k, ip, family, bpf_ntohs(port_be), hook, scopes[0], best);
	if (best->verdict == SG_VERDICT_AUDIT) {
		count(SG_CNT_AUDITED);
		return 1;
	}
	count(SG_CNT_BLOCKED);
	return 0;
}

SEC("cgroup/connect4")
int sg_connect4(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip4, 0, 0, 0};

	return decide(ctx, SG_HOOK_CONNECT4, AF_INET, ip);
}

SEC("cgroup/connect6")
int sg_connect6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};

	return decide(ctx, SG_HOOK_CONNECT6, AF_INET6, ip);
}

SEC("cgroup/sendmsg4")
int sg_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip4, 0, 0, 0};

	return decide(ctx, SG_HOOK_SENDMSG4, AF_INET, ip);
}

SEC("cgroup/sendmsg6")
int sg_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};

	return decide(ctx, SG_HOOK_SENDMSG6, AF_INET6, ip);
}
