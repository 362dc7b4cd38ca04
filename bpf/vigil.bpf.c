// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Vigil's kernel sensor. Scheduler tracepoints give process lifecycle; the
 * raw sys_enter/sys_exit tracepoints give the syscalls user space asked for
 * through the syscall filter map. Everything is read with CO-RE, so one object
 * runs on every kernel with BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "vigil.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before the programs are loaded. */
const volatile __u32 agent_tgid = 0;
/* Bytes of read/write/send/recv payload to copy; 0 copies none. */
const volatile __u32 buf_max = 0;
/* Wake the reader once this many bytes wait; below it, the reader polls. */
const volatile __u64 wakeup_bytes = 256 * 1024;

#define BUF_SIZE 32768
#define HALF (BUF_SIZE / 2)
#define HMASK (HALF - 1)
#define PATH_MAX_COMPONENTS 64
#define NAME_MASK 255
#define FILENAME_MAX_LEN 4096
#define ARGS_MAX_LEN 8192
#define ARGV_MAX_PTRS 64
#define ENV_MAX_PTRS 8192
#define ENV_MAX_LEN 4096
#define SOCKADDR_MAX_LEN 128

#define AT_FDCWD -100
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* overridden by the loader */
} events SEC(".maps");

/* Per-CPU scratch: slot 0 builds the event, slot 1 builds paths. */
struct scratch {
	__u8 data[BUF_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* syscall number -> H_* handler; 0 means nobody needs the syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u32);
} syscall_filter SEC(".maps");

/* Arguments saved at sys_enter, keyed by thread id, consumed at sys_exit. */
struct stash {
	__u64 args[6];
	__u32 handler;
	__s32 nr;
	__u32 spec; /* the whole filter value, slots included */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct stash);
} stash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EVENT_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline __u8 *scratch(__u32 slot)
{
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &slot);
	return s ? s->data : NULL;
}

static __always_inline bool is_agent(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == agent_tgid;
}

static __always_inline void fill_header(struct event_header *h, __u16 kind, __s32 nr, __s64 ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	h->ts_ns = bpf_ktime_get_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->ret = ret;
	h->kind = kind;
	h->size = 0;
	h->syscall_nr = nr;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->_pad = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/*
 * Records stay within the first half of the scratch buffer; masking every
 * offset with HMASK and every length with HMASK keeps each access inside the
 * whole buffer, which is what the verifier needs to see.
 */
/*
 * Masks v in a register the compiler cannot reorder or narrow, so the
 * verifier sees the bound at the helper call that uses it.
 */
static __always_inline __u64 bound(__u64 v)
{
	asm volatile("%0 &= 16383" : "+r"(v));
	return v;
}

static __always_inline __u32 room(__u32 off, __u32 want)
{
	if (off + 3 >= HALF)
		return 0;
	__u32 left = HALF - 3 - off; /* records end below HALF, so bound() keeps sizes */
	return want < left ? want : left;
}

static __always_inline void put_len(__u8 *buf, __u32 off, __u32 len)
{
	buf[bound(off)] = len & 0xff;
	buf[bound(off + 1)] = (len >> 8) & 0xff;
}

static __always_inline __u32 put_empty(__u8 *buf, __u32 off)
{
	if (off + 2 >= HALF)
		return off;
	put_len(buf, off, 0);
	return off + 2;
}

/* A NUL-terminated user string; the NUL is not stored. */
static __always_inline __u32 put_user_str(__u8 *buf, __u32 off, const void *src, __u32 max)
{
	__u32 n = room(off, max);
	long got = 0;
	if (n && src)
		got = bpf_probe_read_user_str(&buf[bound(off + 2)], bound(n), src);
	__u32 len = got > 1 ? got - 1 : 0;
	if (off + 2 >= HALF)
		return off;
	put_len(buf, off, len);
	return off + 2 + len;
}

static __always_inline __u32 put_kernel_str(__u8 *buf, __u32 off, const void *src, __u32 max)
{
	__u32 n = room(off, max);
	long got = 0;
	if (n && src)
		got = bpf_probe_read_kernel_str(&buf[bound(off + 2)], bound(n), src);
	__u32 len = got > 1 ? got - 1 : 0;
	if (off + 2 >= HALF)
		return off;
	put_len(buf, off, len);
	return off + 2 + len;
}

static __always_inline __u32 put_kernel_bytes(__u8 *buf, __u32 off, const void *src, __u32 len)
{
	__u32 n = room(off, len);
	if (n && src && bpf_probe_read_kernel(&buf[bound(off + 2)], bound(n), src) < 0)
		n = 0;
	if (off + 2 >= HALF)
		return off;
	put_len(buf, off, n);
	return off + 2 + n;
}

static __always_inline __u32 put_user_bytes(__u8 *buf, __u32 off, const void *src, __u32 len)
{
	__u32 n = room(off, len);
	if (n && src && bpf_probe_read_user(&buf[bound(off + 2)], bound(n), src) < 0)
		n = 0;
	if (off + 2 >= HALF)
		return off;
	put_len(buf, off, n);
	return off + 2 + n;
}

/* Kernel pointers kept as integers: map values cannot hold typed pointers. */
struct path_walk {
	__u64 dentry;
	__u64 vfsmnt;
	__u64 mnt;
	__u32 pos;
	__u32 _pad;
};

/*
 * The walk's state lives in a map, not on the stack: the verifier then sees
 * the position as an unknown bounded scalar and verifies the loop body once,
 * instead of once per distinct position.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_walk);
} walk_map SEC(".maps");

/* One step of the walk: prepend one name, or cross one mount point. */
static long path_step(__u64 i, void *unused)
{
	__u32 zero = 0;
	struct path_walk *w = bpf_map_lookup_elem(&walk_map, &zero);
	__u8 *pb = scratch(1);
	if (!w || !pb)
		return 1;
	struct dentry *dentry = (struct dentry *)w->dentry;
	struct vfsmount *vfsmnt = (struct vfsmount *)w->vfsmnt;
	struct mount *mnt = (struct mount *)w->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

	if (dentry == mnt_root) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (mnt == mnt_parent)
			return 1; /* the root of this mount namespace */
		w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)mnt_parent;
		w->vfsmnt = (__u64)__builtin_preserve_access_index(&mnt_parent->mnt);
		return 0;
	}
	struct qstr dname = BPF_CORE_READ(dentry, d_name);
	__u32 len = dname.len & NAME_MASK;
	__u32 pos = w->pos;
	if (pos < len + 2 || pos > HALF)
		return 1;
	pos -= len + 1;
	bpf_probe_read_kernel(&pb[bound(pos + 1)], len, dname.name);
	pb[bound(pos)] = '/';
	w->pos = pos;
	if (dentry == parent)
		return 1; /* a pseudo file (memfd, pipe): its name is all there is */
	w->dentry = (__u64)parent;
	return 0;
}

/*
 * Builds the absolute path of (dentry, vfsmnt) right to left at the end of
 * the path scratch buffer, crossing mount points the way d_path does, and
 * returns its length (the path starts at HALF - len). bpf_d_path is not
 * allowed in tracepoint programs, hence the walk; bpf_loop keeps the
 * verifier's work independent of the depth.
 */
static __always_inline __u32 build_path(struct dentry *dentry, struct vfsmount *vfsmnt)
{
	__u32 zero = 0;
	struct path_walk *w = bpf_map_lookup_elem(&walk_map, &zero);
	__u8 *pb = scratch(1);
	if (!w || !pb)
		return 0;
	w->dentry = (__u64)dentry;
	w->vfsmnt = (__u64)vfsmnt;
	w->mnt = (__u64)container_of(vfsmnt, struct mount, mnt);
	w->pos = HALF;
	bpf_loop(PATH_MAX_COMPONENTS, path_step, NULL, 0);
	__u32 pos = w->pos;
	if (pos >= HALF || pos == 0) {
		pos = HALF - 1;
		pb[bound(pos)] = '/';
	}
	return HALF - pos;
}

static __always_inline __u32 put_path(__u8 *buf, __u32 off, struct dentry *dentry, struct vfsmount *mnt)
{
	if (!dentry || !mnt)
		return put_empty(buf, off);
	__u32 len = build_path(dentry, mnt);
	__u8 *pb = scratch(1);
	if (!pb)
		return put_empty(buf, off);
	if (len > HALF)
		len = 0;
	__u32 start = HALF - len;
	__u32 n = room(off, len);
	if (n && bpf_probe_read_kernel(&buf[bound(off + 2)], bound(n), &pb[bound(start)]) < 0)
		n = 0;
	if (off + 2 >= HALF)
		return off;
	put_len(buf, off, n);
	return off + 2 + n;
}

static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0)
		return NULL;
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void submit(__u8 *buf, __u32 size, __u16 kind)
{
	struct event_header *h = (struct event_header *)buf;
	if (size >= HALF)
		size = HALF - 1;
	h->size = size;
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = pending + size >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, buf, bound(size), flags) < 0)
		count_drop(kind);
}

/* ---- process lifecycle ---- */

SEC("raw_tracepoint/sched_process_fork")
int vigil_fork(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_agent())
		return 0;
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u8 *buf = scratch(0);
	if (!buf)
		return 0;
	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_FORK, -1, 0);
	struct fork_body *b = (void *)(buf + sizeof(*h));
	b->child_pid = BPF_CORE_READ(child, tgid);
	b->child_tid = BPF_CORE_READ(child, pid);
	b->flags = b->child_pid == h->pid ? FORK_F_THREAD : 0;
	b->_pad = 0;
	submit(buf, sizeof(*h) + sizeof(*b), EVENT_FORK);
	return 0;
}

static __always_inline __u32 tty_nr(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	__u32 major = BPF_CORE_READ(tty, driver, major);
	__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

/*
 * The STDIO_* type of one standard fd. The first IP socket met also gives
 * the body its ends; *addr remembers it so that fds sharing it are marked.
 */
static __always_inline __u8 stdio_type(struct exec_body *b, struct file *f, struct sock **addr)
{
	if (!f)
		return STDIO_NONE;
	switch (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) {
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
		return STDIO_FILE;
	case S_IFDIR:
		return STDIO_DIR;
	case S_IFIFO:
		return STDIO_PIPE;
	case S_IFSOCK:
		break;
	default:
		return STDIO_OTHER;
	}
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return STDIO_OTHER;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_UNIX)
		return STDIO_UNIX;
	if (family != AF_INET && family != AF_INET6)
		return STDIO_OTHER;
	__u8 type = family == AF_INET ? STDIO_IPV4 : STDIO_IPV6;
	if (!*addr) {
		*addr = sk;
		b->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		b->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (family == AF_INET) {
			bpf_core_read(b->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
			bpf_core_read(b->raddr, 4, &sk->__sk_common.skc_daddr);
		} else {
			bpf_core_read(b->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
			bpf_core_read(b->raddr, 16, &sk->__sk_common.skc_v6_daddr);
		}
	}
	return sk == *addr ? type | STDIO_ADDR : type;
}

/*
 * What fds 0, 1 and 2 of task refer to. The fd table is read once and the
 * three file pointers in one copy: every table has room for at least
 * BITS_PER_LONG fds, so they are always there to read.
 */
static __always_inline void fill_stdio(struct exec_body *b, struct task_struct *task)
{
	__builtin_memset(b->stdio, 0, sizeof(*b) - __builtin_offsetof(struct exec_body, stdio));
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *f[3] = {};
	if (!fds || bpf_probe_read_kernel(f, sizeof(f), fds) < 0)
		return;
	struct sock *addr = NULL;
	b->stdio[0] = stdio_type(b, f[0], &addr);
	b->stdio[1] = stdio_type(b, f[1], &addr);
	b->stdio[2] = stdio_type(b, f[2], &addr);
	b->flags |= EXEC_F_STDIO;
}

/* Fills the credential and namespace part of an exec body from task. */
static __always_inline void fill_identity(struct exec_body *b, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	b->uid = BPF_CORE_READ(cred, uid.val);
	b->gid = BPF_CORE_READ(cred, gid.val);
	b->euid = BPF_CORE_READ(cred, euid.val);
	b->egid = BPF_CORE_READ(cred, egid.val);
	/* kernel_cap_t was u32[2] before 6.3 and u64 since: both read as one u64. */
	bpf_core_read(&b->cap_effective, sizeof(__u64), &cred->cap_effective);
	bpf_core_read(&b->cap_permitted, sizeof(__u64), &cred->cap_permitted);
	b->flags = 0;
	b->loginuid = 0xffffffff;
	if (bpf_core_field_exists(task->loginuid)) {
		b->loginuid = BPF_CORE_READ(task, loginuid.val);
		b->flags |= EXEC_F_LOGINUID;
	}
	b->tty = tty_nr(task);
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	b->sid = BPF_CORE_READ(sig, pids[PIDTYPE_SID], numbers[0].nr);
	b->pgid = BPF_CORE_READ(sig, pids[PIDTYPE_PGID], numbers[0].nr);
	b->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	fill_stdio(b, task);
}

static __always_inline __u32 exe_flags(struct file *exe)
{
	__u32 flags = 0;
	char prefix[6] = {};
	const unsigned char *name = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
	bpf_probe_read_kernel(prefix, sizeof(prefix), name);
	if (prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
	    prefix[4] == 'd' && prefix[5] == ':')
		flags |= EXEC_F_MEMFD;

	struct inode *inode = BPF_CORE_READ(exe, f_inode);
	if (BPF_CORE_READ(inode, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC) {
		struct ovl_inode *oi = container_of(inode, struct ovl_inode, vfs_inode);
		if (BPF_CORE_READ(oi, __upperdentry))
			flags |= EXEC_F_UPPER;
	}
	return flags;
}

/* State of the loader-environment copy; in a map for the same reason as path_walk. */
struct env_walk {
	__u64 envp;  /* user pointer to the new image's envp array */
	__u32 count; /* envc */
	__u32 pos;   /* next write offset in the event buffer */
	__u32 limit; /* the copy ends below this offset */
	__u32 truncated;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct env_walk);
} env_map SEC(".maps");

/* LD_* and GLIBC_TUNABLES= are the variables the dynamic loader acts on. */
static __always_inline bool is_loader_var(const char *h)
{
	if (h[0] == 'L' && h[1] == 'D' && h[2] == '_')
		return true;
	return h[0] == 'G' && h[1] == 'L' && h[2] == 'I' && h[3] == 'B' && h[4] == 'C' &&
	       h[5] == '_' && h[6] == 'T' && h[7] == 'U' && h[8] == 'N' && h[9] == 'A' &&
	       h[10] == 'B' && h[11] == 'L' && h[12] == 'E' && h[13] == 'S' && h[14] == '=';
}

/* Appends envp[i] with its NUL when it is a loader variable. */
static long env_step(__u64 i, void *unused)
{
	__u32 zero = 0;
	struct env_walk *w = bpf_map_lookup_elem(&env_map, &zero);
	__u8 *buf = scratch(0);
	if (!w || !buf || i >= w->count)
		return 1;
	const char *var = NULL;
	const char *const *envp = (const char *const *)w->envp;
	if (bpf_probe_read_user(&var, sizeof(var), &envp[i & (ENV_MAX_PTRS - 1)]) < 0 || !var)
		return 1;
	/* A _str read stops at the NUL: a short last entry may end the stack. */
	char head[16] = {};
	if (bpf_probe_read_user_str(head, sizeof(head), var) <= 0 || !is_loader_var(head))
		return 0;
	__u32 pos = w->pos;
	if (pos < 2 || pos + 1 >= w->limit) {
		w->truncated = 1;
		return 1;
	}
	__u32 n = room(pos - 2, w->limit - pos);
	if (n < 2) {
		w->truncated = 1;
		return 1;
	}
	long got = bpf_probe_read_user_str(&buf[bound(pos)], bound(n), var);
	if (got <= 0)
		return 0;
	if (got >= n)
		w->truncated = 1; /* the value was cut to fit */
	w->pos = pos + got;
	return 0;
}

/*
 * The loader variables of a secure exec's environment. The new image's
 * stack starts at mm->start_stack with argc, argv[], NULL, then envp[]:
 * argc is checked against the kernel's count before trusting the layout.
 */
static __always_inline __u32 put_loader_env(__u8 *buf, __u32 off, struct exec_body *b,
					    struct mm_struct *mm, struct linux_binprm *bprm)
{
	if (off + 2 >= HALF)
		return off;
	__u64 sp = BPF_CORE_READ(mm, start_stack);
	__u64 argc = (__u64)BPF_CORE_READ(bprm, argc);
	__s32 envc = BPF_CORE_READ(bprm, envc);
	__u64 stacked = 0;
	__u32 zero = 0;
	struct env_walk *w = bpf_map_lookup_elem(&env_map, &zero);
	if (!w || envc <= 0 || bpf_probe_read_user(&stacked, sizeof(stacked), (const void *)sp) < 0 ||
	    stacked != argc)
		return put_empty(buf, off);
	w->envp = sp + 8 * (argc + 2);
	w->count = envc;
	w->pos = off + 2;
	w->limit = off + 2 + ENV_MAX_LEN;
	w->truncated = envc > ENV_MAX_PTRS;
	bpf_loop(ENV_MAX_PTRS, env_step, NULL, 0);
	if (w->truncated)
		b->flags |= EXEC_F_ENV_TRUNC;
	__u32 end = w->pos;
	if (end < off + 2 || end >= HALF)
		end = off + 2;
	/* Entries keep their NUL as a separator; the last one is dropped. */
	if (end > off + 2)
		end--;
	put_len(buf, off, end - off - 2);
	return end;
}

SEC("raw_tracepoint/sched_process_exec")
int vigil_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_agent())
		return 0;
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	__u32 old_tid = (__u32)ctx->args[1];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	__u8 *buf = scratch(0);
	if (!buf)
		return 0;

	__s32 nr = -1;
	struct stash *st = bpf_map_lookup_elem(&stash_map, &old_tid);
	if (st) {
		nr = st->nr;
		bpf_map_delete_elem(&stash_map, &old_tid);
	}

	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_EXEC, nr, 0);
	struct exec_body *b = (void *)(buf + sizeof(*h));
	fill_identity(b, task);

	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe)
		b->flags |= exe_flags(exe);

	__u32 off = sizeof(*h) + sizeof(*b);
	off = put_kernel_str(buf, off, BPF_CORE_READ(bprm, filename), FILENAME_MAX_LEN);
	if (exe)
		off = put_path(buf, off, BPF_CORE_READ(exe, f_path.dentry), BPF_CORE_READ(exe, f_path.mnt));
	else
		off = put_empty(buf, off);
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	off = put_path(buf, off, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt));

	/* The new image's argv sits on its fresh stack: present and readable. */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
	__u32 args_len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (args_len > ARGS_MAX_LEN)
		b->flags |= EXEC_F_ARGS_TRUNC;
	if (args_len > ARGS_MAX_LEN)
		args_len = ARGS_MAX_LEN;
	/* Keep two bytes for the loader environment's length, which always follows. */
	if (room(off + 2, args_len) < args_len) {
		b->flags |= EXEC_F_ARGS_TRUNC;
		args_len = room(off + 2, args_len);
	}
	off = put_user_bytes(buf, off, (const void *)arg_start, args_len);

	if (BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec)) {
		b->flags |= EXEC_F_SECURE;
		off = put_loader_env(buf, off, b, mm, bprm);
	} else {
		off = put_empty(buf, off);
	}

	submit(buf, off, EVENT_EXEC);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int vigil_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	/* A thread killed inside a syscall never reaches sys_exit. */
	bpf_map_delete_elem(&stash_map, &tid);
	if (is_agent())
		return 0;
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0; /* other threads live on: not a process exit */
	__u8 *buf = scratch(0);
	if (!buf)
		return 0;
	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_EXIT, -1, 0);
	struct exit_body *b = (void *)(buf + sizeof(*h));
	b->exit_code = BPF_CORE_READ(task, exit_code);
	b->_pad = 0;
	submit(buf, sizeof(*h) + sizeof(*b), EVENT_EXIT);
	return 0;
}

/* ---- syscalls ---- */

SEC("raw_tracepoint/sys_enter")
int vigil_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 nr = (__u32)ctx->args[1];
	__u32 *handler = bpf_map_lookup_elem(&syscall_filter, &nr);
	if (!handler || (*handler & 0xff) == H_NONE)
		return 0;
	if (is_agent())
		return 0;
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct stash st = {};
	st.handler = *handler & 0xff;
	st.spec = *handler;
	st.nr = nr;
	st.args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	st.args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	st.args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	st.args[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	st.args[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
	st.args[5] = BPF_CORE_READ(regs, r9); /* x86-64: the sixth syscall argument */
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&stash_map, &tid, &st, BPF_ANY) < 0)
		count_drop(DROP_STASH);
	return 0;
}

static __always_inline __u32 base_dir(__u8 *buf, __u32 off, struct task_struct *task, int dirfd)
{
	if (dirfd == AT_FDCWD) {
		struct fs_struct *fs = BPF_CORE_READ(task, fs);
		return put_path(buf, off, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt));
	}
	struct file *f = fd_file(task, dirfd);
	if (!f)
		return put_empty(buf, off);
	return put_path(buf, off, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
}

static __always_inline int emit_open(struct stash *st, __s64 ret)
{
	__u8 *buf = scratch(0);
	if (!buf)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_OPEN, st->nr, ret);
	struct open_body *b = (void *)(buf + sizeof(*h));
	const char *path;
	b->dirfd = AT_FDCWD;
	b->resolve = 0;
	b->_pad = 0;
	switch (st->handler) {
	case H_OPEN:
		path = (const char *)st->args[0];
		b->flags = st->args[1];
		b->mode = st->args[2];
		break;
	case H_CREAT:
		path = (const char *)st->args[0];
		b->flags = O_CREAT | O_WRONLY | O_TRUNC;
		b->mode = st->args[1];
		break;
	case H_OPENAT:
		b->dirfd = (int)st->args[0];
		path = (const char *)st->args[1];
		b->flags = st->args[2];
		b->mode = st->args[3];
		break;
	default: { /* H_OPENAT2 */
		struct open_how how = {};
		b->dirfd = (int)st->args[0];
		path = (const char *)st->args[1];
		bpf_probe_read_user(&how, sizeof(how), (void *)st->args[2]);
		b->flags = how.flags;
		b->mode = how.mode;
		b->resolve = how.resolve;
	}
	}
	__u32 off = sizeof(*h) + sizeof(*b);
	__u32 path_off = off;
	off = put_user_str(buf, off, path, FILENAME_MAX_LEN);
	if (off > path_off + 2 && buf[bound(path_off + 2)] != '/')
		off = base_dir(buf, off, task, b->dirfd);
	else
		off = put_empty(buf, off);
	submit(buf, off, EVENT_OPEN);
	return 0;
}

static __always_inline __u32 put_unix_addr(__u8 *buf, __u32 off, struct unix_sock *u)
{
	struct unix_address *addr = BPF_CORE_READ(u, addr);
	if (!addr)
		return put_empty(buf, off);
	int len = BPF_CORE_READ(addr, len);
	/* sockaddr_un: a 2-byte family, then sun_path (abstract names start with NUL). */
	len -= 2;
	if (len <= 0)
		return put_empty(buf, off);
	void *path = (void *)addr + bpf_core_field_offset(struct unix_address, name) + 2;
	return put_kernel_bytes(buf, off, path, len > 108 ? 108 : len);
}

static __always_inline int emit_socket(struct stash *st, __s64 ret)
{
	__u8 *buf = scratch(0);
	if (!buf)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_SOCKET, st->nr, ret);
	struct socket_body *b = (void *)(buf + sizeof(*h));
	__builtin_memset(b, 0, sizeof(*b));
	b->fd = (int)st->args[0];
	b->op = st->handler;
	const void *uaddr = NULL;
	__u32 ulen = 0;
	int sockfd = b->fd;

	switch (st->handler) {
	case H_CONNECT:
	case H_BIND:
		uaddr = (const void *)st->args[1];
		ulen = (__u32)st->args[2];
		break;
	case H_ACCEPT:
		sockfd = ret; /* describe the new connection */
		break;
	case H_LISTEN:
		b->backlog = (int)st->args[1];
		break;
	}

	struct sock *sk = NULL;
	struct file *f = sockfd >= 0 ? fd_file(task, sockfd) : NULL;
	if (f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFSOCK) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		sk = BPF_CORE_READ(sock, sk);
	}
	__u32 off = sizeof(*h) + sizeof(*b);
	if (sk) {
		b->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		b->type = BPF_CORE_READ(sk, sk_type);
		b->protocol = BPF_CORE_READ(sk, sk_protocol);
		if (b->family == AF_INET) {
			b->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
			b->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
			bpf_core_read(b->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
			bpf_core_read(b->raddr, 4, &sk->__sk_common.skc_daddr);
		} else if (b->family == AF_INET6) {
			b->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
			b->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
			bpf_core_read(b->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
			bpf_core_read(b->raddr, 16, &sk->__sk_common.skc_v6_daddr);
		}
	}
	if (sk && b->family == AF_UNIX) {
		struct unix_sock *u = (struct unix_sock *)sk;
		off = put_unix_addr(buf, off, u);
		struct unix_sock *peer = (struct unix_sock *)BPF_CORE_READ(u, peer);
		off = peer ? put_unix_addr(buf, off, peer) : put_empty(buf, off);
	} else {
		off = put_empty(buf, off);
		off = put_empty(buf, off);
	}
	if (ulen > SOCKADDR_MAX_LEN)
		ulen = SOCKADDR_MAX_LEN;
	off = put_user_bytes(buf, off, uaddr, uaddr ? ulen : 0);
	submit(buf, off, EVENT_SOCKET);
	return 0;
}

/* State of the argv copy; in a map for the same reason as path_walk. */
struct argv_walk {
	__u64 argv; /* user pointer to the argv array */
	__u32 pos;  /* next write offset in the event buffer */
	__u32 truncated;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct argv_walk);
} argv_map SEC(".maps");

/* Appends argv[i] with its NUL, which serves as the separator. */
static long argv_step(__u64 i, void *unused)
{
	__u32 zero = 0;
	struct argv_walk *w = bpf_map_lookup_elem(&argv_map, &zero);
	__u8 *buf = scratch(0);
	if (!w || !buf || !w->argv)
		return 1;
	const char *arg = NULL;
	const char *const *argv = (const char *const *)w->argv;
	if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i & (ARGV_MAX_PTRS - 1)]) < 0 || !arg)
		return 1;
	__u32 pos = w->pos;
	if (pos < 2)
		return 1;
	__u32 n = room(pos - 2, ARGS_MAX_LEN);
	if (n == 0) {
		w->truncated = 1;
		return 1;
	}
	long got = bpf_probe_read_user_str(&buf[bound(pos)], bound(n), arg);
	if (got <= 0)
		return 1;
	w->pos = pos + got;
	return 0;
}

/* A failed exec leaves the caller's image in place, so its arguments can still be read. */
static __always_inline int emit_exec_failure(struct stash *st, __s64 ret)
{
	__u8 *buf = scratch(0);
	if (!buf)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_EXEC, st->nr, ret);
	struct exec_body *b = (void *)(buf + sizeof(*h));
	fill_identity(b, task);

	bool at = st->handler == H_EXECVEAT;
	const char *filename = (const char *)(at ? st->args[1] : st->args[0]);
	const char *const *argv = (const char *const *)(at ? st->args[2] : st->args[1]);

	__u32 off = sizeof(*h) + sizeof(*b);
	off = put_user_str(buf, off, filename, FILENAME_MAX_LEN);
	off = put_empty(buf, off); /* no executable was loaded */
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	off = put_path(buf, off, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt));

	if (off + 2 >= HALF)
		goto out;
	__u32 zero = 0;
	struct argv_walk *w = bpf_map_lookup_elem(&argv_map, &zero);
	if (!w)
		goto out;
	w->argv = (__u64)argv;
	w->pos = off + 2;
	w->truncated = 0;
	bpf_loop(ARGV_MAX_PTRS, argv_step, NULL, 0);
	if (w->truncated)
		b->flags |= EXEC_F_ARGS_TRUNC;
	__u32 end = w->pos;
	if (end < off + 2 || end >= HALF)
		end = off + 2;
	put_len(buf, off, end - off - 2);
	off = end;
	/* The environment a failed exec was given was never run: not captured. */
	off = put_empty(buf, off);
out:
	submit(buf, off, EVENT_EXEC);
	return 0;
}

/* The write offset of the generic event, kept in a map so the verifier
 * treats it as one unknown value instead of tracking every slot combination. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gen_off SEC(".maps");

static __always_inline __u32 put_path_arg(__u8 *buf, __u32 off, struct task_struct *task, const char *path, int dirfd)
{
	__u32 at = off;
	off = put_user_str(buf, off, path, FILENAME_MAX_LEN);
	if (off > at + 2 && buf[bound(at + 2)] != '/')
		return base_dir(buf, off, task, dirfd);
	return put_empty(buf, off);
}

/* Decodes one argument slot of a generic syscall event. */
static __noinline int gen_slot(struct stash *st, __u32 slot, __s64 ret)
{
	__u32 zero = 0;
	__u32 *offp = bpf_map_lookup_elem(&gen_off, &zero);
	__u8 *buf = scratch(0);
	if (!offp || !buf)
		return 0;
	__u32 idx = slot & 7, type = (slot >> 3) & 7;
	if (type == 0 || idx > 5)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 val = st->args[idx];
	__u64 next = idx < 5 ? st->args[idx + 1] : 0;
	__u32 off = *offp;

	switch (type) {
	case SLOT_PATH:
		off = put_path_arg(buf, off, task, (const char *)val, AT_FDCWD);
		break;
	case SLOT_PATH_AT:
		off = put_path_arg(buf, off, task, (const char *)val, idx > 0 ? (int)st->args[idx - 1] : AT_FDCWD);
		break;
	case SLOT_STR:
		off = put_user_str(buf, off, (const char *)val, FILENAME_MAX_LEN);
		break;
	case SLOT_SOCKADDR:
		off = put_user_bytes(buf, off, (const void *)val, next > SOCKADDR_MAX_LEN ? SOCKADDR_MAX_LEN : next);
		break;
	case SLOT_FD: {
		struct file *f = fd_file(task, (int)val);
		if (f)
			off = put_path(buf, off, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
		else
			off = put_empty(buf, off);
		break;
	}
	case SLOT_BUF: {
		__u64 n = ret > 0 ? (__u64)ret : next;
		if (n > buf_max)
			n = buf_max;
		off = put_user_bytes(buf, off, (const void *)val, n);
		break;
	}
	case SLOT_FDPAIR:
		off = put_user_bytes(buf, off, (const void *)val, ret >= 0 ? 8 : 0);
		break;
	}
	*offp = off;
	return 0;
}

/* Any syscall without a dedicated handler: raw arguments plus the slots
 * user space asked for in the filter value. */
static __always_inline int emit_generic(struct stash *st, __s64 ret)
{
	__u32 zero = 0;
	__u32 *offp = bpf_map_lookup_elem(&gen_off, &zero);
	__u8 *buf = scratch(0);
	if (!offp || !buf)
		return 0;
	struct event_header *h = (void *)buf;
	fill_header(h, EVENT_SYSCALL, st->nr, ret);
	struct syscall_body *b = (void *)(buf + sizeof(*h));
	for (int i = 0; i < 6; i++)
		b->args[i] = st->args[i];
	b->spec = st->spec;
	b->_pad = 0;
	*offp = sizeof(*h) + sizeof(*b);
	gen_slot(st, (st->spec >> 8) & 0x3f, ret);
	gen_slot(st, (st->spec >> 14) & 0x3f, ret);
	gen_slot(st, (st->spec >> 20) & 0x3f, ret);
	/* gen_slot rewrote the scratch buffer through its own pointer. */
	submit(buf, *offp, EVENT_SYSCALL);
	return 0;
}

/* The syscall number as sys_exit sees it; x86-64 keeps it in orig_ax. */
static __always_inline __u32 exit_syscall_nr(struct pt_regs *regs)
{
	return BPF_CORE_READ(regs, orig_ax);
}

SEC("raw_tracepoint/sys_exit")
int vigil_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	/* Unwatched syscalls pay one array lookup here, never a hash lookup. */
	__u32 nr = exit_syscall_nr((struct pt_regs *)ctx->args[0]);
	__u32 *handler = bpf_map_lookup_elem(&syscall_filter, &nr);
	if (!handler || (*handler & 0xff) == H_NONE)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct stash *st = bpf_map_lookup_elem(&stash_map, &tid);
	if (!st)
		return 0;
	struct stash copy = *st;
	bpf_map_delete_elem(&stash_map, &tid);
	__s64 ret = (__s64)ctx->args[1];

	switch (copy.handler) {
	case H_OPEN:
	case H_OPENAT:
	case H_OPENAT2:
	case H_CREAT:
		return emit_open(&copy, ret);
	case H_CONNECT:
	case H_ACCEPT:
	case H_BIND:
	case H_LISTEN:
		return emit_socket(&copy, ret);
	case H_EXECVE:
	case H_EXECVEAT:
		if (ret < 0)
			return emit_exec_failure(&copy, ret);
		return 0;
	case H_GENERIC:
		return emit_generic(&copy, ret);
	}
	return 0;
}
