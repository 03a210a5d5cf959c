/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between bpf/sensors.bpf.c and mod/sensors: ring-buffer records, map keys
 * and counters. mod/sensors/layout.ts mirrors every struct here and
 * tests/sensors/layout_test.ts compares both with the built object's BTF.
 * Every record starts with `struct rec_hdr` (version, type, size) so the reader can skip
 * what it does not know. Multi-byte fields are host order (little endian) except
 * addresses and ports, which stay in network order.
 *
 * This header is included by the BPF program after vmlinux.h, so it uses only the
 * __u8/__u16/... names that vmlinux.h defines.
 */
#ifndef IRONPOST_SENSORS_H
#define IRONPOST_SENSORS_H

#define SENSORS_RECORD_VERSION 1

#define COMM_LEN 16
#define CGROUP_NAME_LEN 128
#define REC_PATH_LEN 256
#define REC_ARGS_LEN 512
#define LPM_PATH_LEN 252 /* key = 4-byte prefixlen + path: 256 bytes */

enum rec_type {
	REC_EXEC = 1,
	REC_EXIT = 2,
	REC_FILE = 3,
	REC_NET = 4,
	REC_COMM = 5,
	REC_TYPE_MAX = 6,
};

/* Counter slot = type * 3 + kind. */
enum counter_kind {
	CNT_EMITTED = 0,
	CNT_FILTERED = 1,
	CNT_LOST = 2, /* ring buffer full: the record was dropped and counted here */
};
#define COUNTER_SLOTS (REC_TYPE_MAX * 3)

enum file_op {
	FILE_OPEN_WRITE = 1,
	FILE_OPEN_READ = 2, /* a read of a path under a sensitive prefix */
	FILE_UNLINK = 3,
	FILE_RENAME = 4,
	FILE_CHMOD = 5,
	FILE_CHOWN = 6,
};

/* file_rec.flags */
#define FILE_F_WATCHED (1u << 0)   /* under a watched (integrity) path */
#define FILE_F_SENSITIVE (1u << 1) /* under a sensitive-read prefix */
#define FILE_F_TRUNCATED (1u << 2) /* path longer than REC_PATH_LEN */
#define FILE_F_RELATIVE (1u << 3)  /* path built from a directory plus a relative name */
#define FILE_F_CREATED (1u << 4)   /* O_CREAT was asked */
#define FILE_F_TRUNC (1u << 5)     /* O_TRUNC was asked */

/* exec_rec.flags */
#define EXEC_F_ARGS_TRUNCATED (1u << 0)
#define EXEC_F_EXE_TRUNCATED (1u << 1)
#define EXEC_F_CWD_TRUNCATED (1u << 2)

enum net_op {
	NET_CONNECT = 1,
	NET_ACCEPT = 2,
};

enum net_result {
	NET_RESULT_ESTABLISHED = 1,
	NET_RESULT_FAILED = 2, /* refused, unreachable or timed out */
};

/* Values of the lpm/hash filter maps. */
#define MATCH_TRUSTED_EXEC 1
#define MATCH_WATCH 2
#define MATCH_IGNORE 3
#define MATCH_SENSITIVE 4

struct rec_hdr {
	__u16 version;
	__u16 type;
	__u32 size;
	__u64 ts_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
};

/* Who did it: the current task at the time of the record. */
struct proc_info {
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 ppid; /* real parent's thread group id */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 mntns;  /* mount namespace inode number */
	__u32 pidns;  /* pid namespace inode number */
	__u64 cgroup_id;     /* cgroup v2 id */
	__u64 start_ns;      /* task start time (boot-based), with pid a unique key */
	char comm[COMM_LEN];
	char cgroup[CGROUP_NAME_LEN]; /* leaf name of the task's cgroup (v2, or v1 pids) */
};

struct exec_rec {
	struct rec_hdr hdr;
	struct proc_info p;
	__u32 flags;
	__u16 args_len; /* bytes of args[] used: NUL-separated argv */
	__u16 argc;
	char exe[REC_PATH_LEN];      /* resolved path of the executed file */
	char filename[REC_PATH_LEN]; /* the name as passed to execve */
	char cwd[REC_PATH_LEN];
	char args[REC_ARGS_LEN];
};

struct exit_rec {
	struct rec_hdr hdr;
	__u32 pid;
	__s32 exit_code;
	__u64 start_ns;
};

struct file_rec {
	struct rec_hdr hdr;
	struct proc_info p;
	__u32 op;
	__u32 flags;
	__u32 open_flags;
	__u32 mode; /* chmod mode; chown: uid in mode, gid in open_flags */
	char path[REC_PATH_LEN];
	char path2[REC_PATH_LEN]; /* rename: the new name */
};

struct net_rec {
	struct rec_hdr hdr;
	struct proc_info p;
	__u8 op;
	__u8 family; /* 4 or 6 */
	__u16 result; /* connect: NET_RESULT_*; accept: 0 */
	__u16 sport; /* network order */
	__u16 dport; /* network order */
	__u8 saddr[16];
	__u8 daddr[16];
};

struct comm_rec {
	struct rec_hdr hdr;
	struct proc_info p;
	char old_comm[COMM_LEN];
	char new_comm[COMM_LEN];
};

/* The kernel's record of a process, kept from exec to exit (anti-masquerade). */
struct proc_entry {
	__u64 start_ns;
	__u32 uid;
	__u32 ppid;
	char comm[COMM_LEN];
	char exe[REC_PATH_LEN];
};

/* Path prefix key of the LPM tries: prefixlen in bits over path[]. */
struct path_key {
	__u32 prefixlen;
	char path[LPM_PATH_LEN];
};

/* Settings written to .rodata before load. */
struct sensors_config {
	__u32 agent_pid;
	__u32 enable; /* bit 0 exec, bit 1 file, bit 2 network */
	__u32 wakeup_bytes; /* wake the reader once this much is waiting (else it polls) */
};

#define ENABLE_EXEC (1u << 0)
#define ENABLE_FILE (1u << 1)
#define ENABLE_NET (1u << 2)

#endif
