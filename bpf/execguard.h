/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Wire format shared by execguard.bpf.c and internal/enforce/execguard.
 * All integers are little-endian. Changing anything here means changing the
 * Go decoders (pending.go, record.go) in the same commit.
 */
#ifndef EXECGUARD_H
#define EXECGUARD_H

#define EG_FILENAME_MAX 4096 /* bytes of the exec's filename, NUL included */
#define EG_ARGS_MAX     4096 /* bytes of argv, each argument NUL-terminated */
#define EG_ARGC_MAX     64   /* arguments copied at most */

/* pending_exec.flags */
#define EG_PENDING_TRUNCATED 1 /* argv or filename incomplete: over a bound or unreadable */

/*
 * The arguments of an exec in flight, stored in the pending map under the
 * caller's thread id from sys_enter until that exec's sys_exit.
 */
struct pending_exec {
	__u64 ktime_ns;    /* bpf_ktime_get_ns() at sys_enter */
	__s32 dirfd;       /* execveat's dirfd; AT_FDCWD (-100) for execve */
	__u32 at_flags;    /* execveat's flags; 0 for execve */
	__u32 syscall_nr;  /* 59 execve, 322 execveat */
	__u16 filename_len; /* bytes of filename, no NUL */
	__u16 args_len;    /* bytes used in args */
	__u16 argc;        /* NUL-terminated strings in args */
	__u16 flags;       /* EG_PENDING_* */
	__u32 _pad;
	char filename[EG_FILENAME_MAX];
	char args[EG_ARGS_MAX];
};

/* kill_key.kind */
#define EG_KEY_COMM  1
#define EG_KEY_INODE 2
#define EG_KEY_MEMFD 3 /* any executable that is a memfd: no name or inode to match */

/* kill_key.scope */
#define EG_SCOPE_ANY        1
#define EG_SCOPE_HOST       2 /* cgroup not registered as a container */
#define EG_SCOPE_CONTAINERS 3 /* any registered container cgroup */
#define EG_SCOPE_CGROUP     4 /* exactly kill_key.cgroup_id */

/*
 * One deny-set key. Unused bytes are zero so user space and the kernel build
 * identical keys: comm keys leave ino zero, inode keys leave comm zero, memfd
 * keys leave both zero.
 */
struct kill_key {
	__u8 kind;
	__u8 scope;
	__u8 _pad[6];
	__u64 cgroup_id; /* EG_SCOPE_CGROUP only */
	union {
		char comm[16];
		struct {
			__u64 dev; /* user-space (stat) encoding */
			__u64 ino;
		};
	};
};

/* kill_val.flags */
#define EG_RULE_AUDIT 1

struct kill_val {
	__u32 rule_id;
	__u32 flags;
};

/* kill_record.flags */
#define EG_REC_AUDIT      1 /* the rule only reports */
#define EG_REC_SIGNAL_ERR 2 /* bpf_send_signal failed */
#define EG_REC_MEMFD      4 /* the executable is a memfd */

/* A kill or audit report; filename_len bytes of bprm->filename follow. */
struct kill_record {
	__u64 ktime_ns;
	__u64 cgroup_id;
	__u64 dev;
	__u64 ino;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 euid;
	__u32 rule_id;
	__u32 flags;
	__u16 filename_len;
	__u16 _pad;
	char comm[16];
};

/* counters slots (per-CPU array) */
#define EG_CTR_CAPTURED      0 /* execs whose argv was stored */
#define EG_CTR_CAPTURE_FAIL  1 /* pending map updates that failed */
#define EG_CTR_KILLED        2
#define EG_CTR_AUDITED       3
#define EG_CTR_RING_DROPS    4 /* kill records lost to a full ring buffer */
#define EG_CTR_SIGNAL_FAIL   5
#define EG_CTR_SLOTS         6

#endif
