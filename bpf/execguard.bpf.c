// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Vigil's exec guard, an object separate from the sensor:
 *
 * - argv capture: sys_enter copies the filename and argv of every execve and
 *   execveat into an LRU hash keyed by thread id, and sys_exit removes it, so
 *   a fanotify FAN_OPEN_EXEC_PERM listener (which runs between the two) can
 *   read the arguments of the exec it is deciding on;
 * - in-kernel kill: sched_process_exec looks the new image up in a deny set
 *   (by comm, or by the executable's device and inode) and sends SIGKILL,
 *   which lands before the task returns to user space, so the new program
 *   never runs an instruction.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "execguard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader: Vigil's own thread group, never captured nor killed. */
const volatile __u32 agent_tgid = 0;

#define NR_EXECVE   59
#define NR_EXECVEAT 322
#define AT_FDCWD    -100
#define SIGKILL     9

/* ---- argv capture ---- */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024); /* overridden by the loader */
	__type(key, __u32);
	__type(value, struct pending_exec);
} pending SEC(".maps");

/* The argv copy's state; in a map so the verifier treats pos as one unknown
 * bounded value and checks the loop body once. */
struct argv_walk {
	__u64 argv; /* user pointer to the argv array */
	__u32 pos;  /* next write offset in args */
	__u32 argc;
	__u32 truncated;
	__u32 _pad;
};

/*
 * The pending value is built here, then copied into the LRU hash (values
 * that large cannot live on the stack). The slack after it lets every
 * masked offset plus masked length stay inside the element, which is what
 * the verifier needs to accept variable-offset string copies.
 */
struct capture_scratch {
	struct pending_exec v;
	char slack[2 * EG_ARGS_MAX];
	struct argv_walk w;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_scratch);
} capture_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EG_CTR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Masks in a register the compiler cannot narrow, so the verifier sees the
 * bound at the helper call that uses it: an offset below EG_ARGS_MAX plus a
 * size up to 2 * EG_ARGS_MAX - 1 stays inside args and slack. */
static __always_inline __u64 mask_off(__u64 v)
{
	asm volatile("%0 &= 4095" : "+r"(v));
	return v;
}

static __always_inline __u64 mask_size(__u64 v)
{
	asm volatile("%0 &= 8191" : "+r"(v));
	return v;
}

/* Appends argv[i] with its NUL. */
static long argv_step(__u64 i, void *unused)
{
	__u32 zero = 0;
	struct capture_scratch *s = bpf_map_lookup_elem(&capture_map, &zero);
	if (!s)
		return 1;
	struct argv_walk *w = &s->w;
	const char *arg = NULL;
	const char *const *argv = (const char *const *)w->argv;
	if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i & (EG_ARGC_MAX - 1)]) < 0) {
		w->truncated = 1; /* the array itself is unreadable */
		return 1;
	}
	if (!arg)
		return 1; /* the terminating NULL */
	__u32 pos = w->pos;
	if (pos >= EG_ARGS_MAX) {
		w->truncated = 1;
		return 1;
	}
	__u32 left = EG_ARGS_MAX - pos;
	long got = bpf_probe_read_user_str(&s->v.args[mask_off(pos)], mask_size(left), arg);
	if (got <= 0) {
		w->truncated = 1;
		return 1;
	}
	w->argc++;
	w->pos = pos + got;
	if (got == left) {
		/* Filled the rest exactly: complete only if the NUL was the string's. */
		char c = 0;
		bpf_probe_read_user(&c, 1, arg + got - 1);
		if (c != 0)
			w->truncated = 1;
		return 1;
	}
	return 0;
}

static __always_inline void capture(struct pt_regs *regs, __u32 nr, __u32 tid)
{
	__u32 zero = 0;
	struct capture_scratch *s = bpf_map_lookup_elem(&capture_map, &zero);
	if (!s)
		return;
	struct pending_exec *v = &s->v;
	const char *filename;
	const char *const *argv;
	if (nr == NR_EXECVEAT) {
		v->dirfd = (int)PT_REGS_PARM1_CORE_SYSCALL(regs);
		filename = (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		argv = (const char *const *)PT_REGS_PARM3_CORE_SYSCALL(regs);
		v->at_flags = (__u32)PT_REGS_PARM5_CORE_SYSCALL(regs);
	} else {
		v->dirfd = AT_FDCWD;
		filename = (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs);
		argv = (const char *const *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		v->at_flags = 0;
	}
	v->ktime_ns = bpf_ktime_get_ns();
	v->syscall_nr = nr;
	v->flags = 0;
	v->_pad = 0;

	long got = bpf_probe_read_user_str(v->filename, sizeof(v->filename), filename);
	if (got <= 0) {
		v->filename_len = 0;
		v->flags |= EG_PENDING_TRUNCATED;
	} else {
		v->filename_len = got - 1;
		if (got == sizeof(v->filename))
			v->flags |= EG_PENDING_TRUNCATED; /* longer than PATH_MAX: exec fails anyway */
	}

	struct argv_walk *w = &s->w;
	w->argv = (__u64)argv;
	w->pos = 0;
	w->argc = 0;
	w->truncated = 0;
	if (argv) /* execve(path, NULL, ...) runs with an empty argv */
		bpf_loop(EG_ARGC_MAX, argv_step, NULL, 0);
	if (w->argc == EG_ARGC_MAX && !w->truncated) {
		const char *more = NULL;
		if (bpf_probe_read_user(&more, sizeof(more), &argv[EG_ARGC_MAX]) < 0 || more)
			w->truncated = 1;
	}
	__u32 pos = w->pos;
	v->args_len = pos > EG_ARGS_MAX ? EG_ARGS_MAX : pos;
	v->argc = w->argc;
	if (w->truncated)
		v->flags |= EG_PENDING_TRUNCATED;

	if (bpf_map_update_elem(&pending, &tid, v, BPF_ANY) < 0)
		count(EG_CTR_CAPTURE_FAIL);
	else
		count(EG_CTR_CAPTURED);
}

SEC("raw_tracepoint/sys_enter")
int execguard_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	/* Runs on every syscall on the machine: this test is all most pay. */
	__u32 nr = (__u32)ctx->args[1];
	if (nr != NR_EXECVE && nr != NR_EXECVEAT)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) == agent_tgid)
		return 0;
	capture((struct pt_regs *)ctx->args[0], nr, (__u32)pid_tgid);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int execguard_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	/* x86-64 keeps the syscall number in orig_ax. */
	__u32 nr = BPF_CORE_READ((struct pt_regs *)ctx->args[0], orig_ax);
	if (nr != NR_EXECVE && nr != NR_EXECVEAT)
		return 0;
	/* After a successful exec from a non-leader thread the tid has become
	 * the tgid; sched_process_exec removes the old tid's entry. */
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* ---- in-kernel kill ---- */

/* Slot 0 holds the active deny set, a hash of kill_key -> kill_val. User
 * space builds a whole new set and swaps it in with one update: a program
 * sees either the old set or the new one, never a mix. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 1);
		__type(key, struct kill_key);
		__type(value, struct kill_val);
	});
} deny SEC(".maps");

/* cgroup v2 ids the agent registered as containers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* overridden by the loader */
	__type(key, __u64);
	__type(value, __u8);
} containers SEC(".maps");

/* Thread groups that are never killed, besides agent_tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} protected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* overridden by the loader */
} kill_events SEC(".maps");

struct record_scratch {
	struct kill_record r;
	char filename[EG_FILENAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record_scratch);
} record_map SEC(".maps");

/* Holds the lookup key. Carrying both types by value here is also what
 * makes clang emit them in full: seen only through pointers, as in the inner
 * map definition, clang 14 emits forward declarations the loader rejects. */
struct key_scratch {
	struct kill_key key;
	struct kill_val unused;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct key_scratch);
} key_map SEC(".maps");

/* stat(2)'s st_dev encoding of a kernel dev_t (new_encode_dev). */
static __always_inline __u64 user_dev(__u32 kdev)
{
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((__u64)(minor & ~0xffU) << 12);
}

/* Looks key up under each scope that covers the task; a kill rule wins over
 * an audit rule, then the narrower scope wins. */
static __always_inline struct kill_val *match(void *set, struct kill_key *key, __u64 cgid, bool in_container,
					      struct kill_val *best)
{
	__u8 scopes[3] = {EG_SCOPE_CGROUP, in_container ? EG_SCOPE_CONTAINERS : EG_SCOPE_HOST, EG_SCOPE_ANY};
	for (int i = 0; i < 3; i++) {
		key->scope = scopes[i];
		key->cgroup_id = scopes[i] == EG_SCOPE_CGROUP ? cgid : 0;
		struct kill_val *v = bpf_map_lookup_elem(set, key);
		if (!v)
			continue;
		if (!best || ((best->flags & EG_RULE_AUDIT) && !(v->flags & EG_RULE_AUDIT)))
			best = v;
	}
	return best;
}

static __always_inline void report(struct task_struct *task, struct linux_binprm *bprm, __u64 cgid, __u64 dev,
				   __u64 ino, struct kill_val *rule, __u32 flags)
{
	__u32 zero = 0;
	struct record_scratch *s = bpf_map_lookup_elem(&record_map, &zero);
	if (!s)
		return;
	struct kill_record *r = &s->r;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	r->ktime_ns = bpf_ktime_get_ns();
	r->cgroup_id = cgid;
	r->dev = dev;
	r->ino = ino;
	r->pid = (__u32)pid_tgid;
	r->tgid = pid_tgid >> 32;
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	__u64 uid_gid = bpf_get_current_uid_gid();
	r->uid = (__u32)uid_gid;
	r->euid = BPF_CORE_READ(task, cred, euid.val);
	r->rule_id = rule->rule_id;
	r->flags = flags;
	r->_pad = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	long got = bpf_probe_read_kernel_str(s->filename, sizeof(s->filename), BPF_CORE_READ(bprm, filename));
	__u32 len = got > 1 ? got - 1 : 0;
	r->filename_len = len;
	__u64 size = sizeof(*r) + (len & (EG_FILENAME_MAX - 1));
	if (bpf_ringbuf_output(&kill_events, s, size, 0) < 0)
		count(EG_CTR_RING_DROPS);
}

/* memfd_create names its files "memfd:NAME"; nothing else can. */
static __always_inline bool is_memfd(struct linux_binprm *bprm)
{
	char prefix[6] = {};
	const unsigned char *name = BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel(prefix, sizeof(prefix), name) < 0)
		return false;
	return prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' && prefix[4] == 'd' &&
	       prefix[5] == ':';
}

SEC("raw_tracepoint/sched_process_exec")
int execguard_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	__u32 old_tid = (__u32)ctx->args[1];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	/* The exec has passed its permission checks: its argv is no longer
	 * pending. sys_exit cannot remove it when a non-leader thread exec'd,
	 * because that thread now carries the leader's id. */
	if (old_tid != (__u32)pid_tgid)
		bpf_map_delete_elem(&pending, &old_tid);

	__u32 zero = 0;
	void *set = bpf_map_lookup_elem(&deny, &zero);
	if (!set)
		return 0; /* no rules */
	if (tgid == agent_tgid || bpf_map_lookup_elem(&protected, &tgid))
		return 0;

	struct key_scratch *ks = bpf_map_lookup_elem(&key_map, &zero);
	if (!ks)
		return 0;
	struct kill_key *key = &ks->key;
	__u64 cgid = bpf_get_current_cgroup_id();
	bool in_container = bpf_map_lookup_elem(&containers, &cgid) != NULL;

	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);
	__u64 ino = BPF_CORE_READ(inode, i_ino);
	__u64 dev = user_dev(BPF_CORE_READ(inode, i_sb, s_dev));

	__builtin_memset(key, 0, sizeof(*key));
	key->kind = EG_KEY_COMM;
	bpf_get_current_comm(key->comm, sizeof(key->comm));
	struct kill_val *rule = match(set, key, cgid, in_container, NULL);

	__builtin_memset(key, 0, sizeof(*key));
	key->kind = EG_KEY_INODE;
	key->dev = dev;
	key->ino = ino;
	rule = match(set, key, cgid, in_container, rule);

	/* A memfd has no path and a throwaway inode: rules on fileless
	 * execution name the kind of file instead. */
	__u32 flags = 0;
	if (is_memfd(bprm)) {
		flags |= EG_REC_MEMFD;
		__builtin_memset(key, 0, sizeof(*key));
		key->kind = EG_KEY_MEMFD;
		rule = match(set, key, cgid, in_container, rule);
	}
	if (!rule)
		return 0;

	if (rule->flags & EG_RULE_AUDIT) {
		flags |= EG_REC_AUDIT;
		count(EG_CTR_AUDITED);
	} else if (bpf_send_signal(SIGKILL) < 0) {
		flags |= EG_REC_SIGNAL_ERR;
		count(EG_CTR_SIGNAL_FAIL);
	} else {
		count(EG_CTR_KILLED);
	}
	report(task, bprm, cgid, dev, ino, rule, flags);
	return 0;
}
