/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Wire format shared by the eBPF programs (vigil.bpf.c) and the Go decoder
 * (internal/decode). Every record starts with struct event_header; a fixed
 * body follows, then variable-length fields, each a little-endian u16 length
 * and that many bytes (no NUL). Changing anything here means changing the
 * decoder in the same commit.
 */
#ifndef VIGIL_H
#define VIGIL_H

#define EVENT_FORK   1
#define EVENT_EXEC   2
#define EVENT_EXIT   3
#define EVENT_OPEN   4
#define EVENT_SOCKET 5
#define EVENT_SYSCALL 6 /* any other syscall, described by its argument slots */
#define EVENT_KINDS  7

/*
 * Syscall handlers. User space fills the syscall filter map with one of these
 * per syscall number, so the programs stay free of per-architecture tables.
 */
#define H_NONE      0
#define H_OPEN      1  /* open(path, flags, mode) */
#define H_OPENAT    2  /* openat(dirfd, path, flags, mode) */
#define H_OPENAT2   3  /* openat2(dirfd, path, how, size) */
#define H_CREAT     4  /* creat(path, mode) */
#define H_CONNECT   5  /* connect(fd, addr, addrlen) */
#define H_ACCEPT    6  /* accept(fd, addr, addrlen) and accept4 */
#define H_BIND      7  /* bind(fd, addr, addrlen) */
#define H_LISTEN    8  /* listen(fd, backlog) */
#define H_EXECVE    9  /* execve(path, argv, envp): failures only */
#define H_EXECVEAT 10  /* execveat(dirfd, path, argv, envp, flags): failures only */
#define H_GENERIC  11  /* raw arguments plus up to three decoded slots */

/*
 * A filter map value is the handler in bits 0-7 and, for H_GENERIC, up to
 * three argument slots of 6 bits each from bit 8: bits 0-2 the argument
 * index (0-5), bits 3-5 the SLOT_* type. A zero slot is unused.
 */
#define SLOT_PATH     1 /* user path, relative to the cwd */
#define SLOT_PATH_AT  2 /* user path, relative to the dirfd in the previous argument */
#define SLOT_STR      3 /* user string */
#define SLOT_SOCKADDR 4 /* user sockaddr, its length in the next argument */
#define SLOT_FD       5 /* an fd: the path of the file it refers to */
#define SLOT_BUF      6 /* user buffer: length is the result if positive, else the next argument */
#define SLOT_FDPAIR   7 /* user int[2], as pipe and socketpair fill it */

#define EXEC_F_MEMFD      (1 << 0)
#define EXEC_F_UPPER      (1 << 1)
#define EXEC_F_LOGINUID   (1 << 2)
#define EXEC_F_ARGS_TRUNC (1 << 3)
#define EXEC_F_SECURE     (1 << 4) /* secure exec (AT_SECURE): set-user-ID, set-group-ID or file capabilities */
#define EXEC_F_ENV_TRUNC  (1 << 5) /* more loader variables than the capture limit */
#define EXEC_F_STDIO      (1 << 6) /* exec_body.stdio and the socket ends are filled */

/*
 * What fds 0, 1 and 2 refer to when a program starts (exec_body.stdio), read
 * from its fd table by the exec hook: a shell whose input and output are an
 * IP socket is a reverse shell, and telling so at exec needs no tracking of
 * dup2 or close. The low bits are one of STDIO_*; STDIO_ADDR marks the fd
 * whose socket's ends the body holds (the first IP socket among the three).
 */
#define STDIO_NONE  0 /* not open */
#define STDIO_FILE  1 /* a regular file or a device (a terminal) */
#define STDIO_DIR   2
#define STDIO_PIPE  3
#define STDIO_IPV4  4
#define STDIO_IPV6  5
#define STDIO_UNIX  6
#define STDIO_OTHER 7 /* another socket family, an anonymous inode */
#define STDIO_TYPE  0x0f
#define STDIO_ADDR  0x80

#define FORK_F_THREAD (1 << 0)

/* Drop counters, indexed by event kind; slot 0 counts stash-map failures. */
#define DROP_STASH 0

struct event_header {
	__u64 ts_ns;      /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u64 cgroup_id;  /* cgroup v2 id */
	__s64 ret;        /* syscall result, or 0 */
	__u16 kind;       /* EVENT_* */
	__u16 size;       /* whole record, header included */
	__s32 syscall_nr; /* -1 for scheduler hooks */
	__u32 pid;        /* thread-group id */
	__u32 tid;
	__u32 ppid;       /* thread-group id of real_parent */
	__u32 _pad;
	char comm[16];
};

struct fork_body {
	__u32 child_pid;
	__u32 child_tid;
	__u32 flags;      /* FORK_F_* */
	__u32 _pad;
};

/*
 * Followed by: filename, exe, cwd, args (NUL separated), loader environment
 * (NUL separated). The loader environment holds the LD_* and GLIBC_TUNABLES
 * entries of envp, and only for a secure exec: they are what a privilege
 * escalation through the dynamic loader needs, and the rest of an
 * environment (tokens, passwords) never leaves the kernel.
 */
struct exec_body {
	__u32 uid, gid, euid, egid;
	__u32 loginuid, tty, sid, pgid;
	__u64 cap_effective;
	__u64 cap_permitted;
	__u32 mnt_ns;
	__u32 flags;      /* EXEC_F_* */
	__u8 stdio[3];    /* fds 0, 1, 2: STDIO_*, with STDIO_ADDR */
	__u8 _pad;
	__u16 lport;      /* the STDIO_ADDR socket's ends, host byte order */
	__u16 rport;
	__u8 laddr[16];   /* 4 bytes for IPv4 */
	__u8 raddr[16];
};

struct exit_body {
	__u32 exit_code;  /* task->exit_code: (status << 8) | signal | 0x80 core */
	__u32 _pad;
};

/* Followed by: path as passed, base directory when the path is relative. */
struct open_body {
	__s32 dirfd;
	__u32 flags;
	__u32 mode;
	__u32 _pad;
	__u64 resolve;
};

/* Followed by: local unix path, remote unix path, user sockaddr bytes. */
struct socket_body {
	__s32 fd;
	__u16 family;
	__u16 type;
	__u16 protocol;
	__u16 lport;      /* host byte order */
	__u16 rport;      /* host byte order */
	__u16 op;         /* H_CONNECT, H_ACCEPT, H_BIND or H_LISTEN */
	__u8 laddr[16];
	__u8 raddr[16];
	__s32 backlog;
	__u32 _pad2;
};

/*
 * Followed by, for each used slot in order: two fields (as passed, base
 * directory) for the path slots, one field for the others.
 */
struct syscall_body {
	__u64 args[6];
	__u32 spec;       /* the filter value: handler and slots */
	__u32 _pad;
};

/* The Go decoder names these sizes and every field offset in
 * internal/decode/layout.go; its layout test checks them against this file. */
_Static_assert(sizeof(struct event_header) == 64, "event_header layout");
_Static_assert(sizeof(struct fork_body) == 16, "fork_body layout");
_Static_assert(sizeof(struct exec_body) == 96, "exec_body layout");
_Static_assert(sizeof(struct exit_body) == 8, "exit_body layout");
_Static_assert(sizeof(struct open_body) == 24, "open_body layout");
_Static_assert(sizeof(struct socket_body) == 56, "socket_body layout");
_Static_assert(sizeof(struct syscall_body) == 56, "syscall_body layout");

#endif
