// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ironpost host sensors: process execution, file writes and sensitive reads, TCP connects
 * and accepts, and process renames, as ring-buffer records (bpf/sensors.h).
 *
 * Only tracepoints are used (tp_btf and syscall tracepoints), never kprobes, fentry or BPF
 * LSM: those need ftrace trampolines or kprobes, which hardened kernels (and the machines
 * Ironpost is tested on) do not offer, while tracepoints are a stable ABI everywhere BTF is.
 * Without bpf_d_path (trampoline-only) paths are built by walking dentries and mounts, as
 * d_path does, bounded to MAX_COMPONENTS levels.
 *
 * Filters run here so volume stays low: the agent's own process, ignored comms, trusted
 * executable prefixes, ignored path prefixes (unless watched), and reads only of paths under
 * sensitive prefixes (pre-filtered by inode so ordinary reads cost a few loads).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "sensors.h"

char LICENSE[] SEC("license") = "GPL";

#define PATH_BUF 4096
#define PATH_MASK (PATH_BUF - 1)
#define MAX_COMPONENTS 48
#define SENSITIVE_DEPTH 6
#define AT_FDCWD -100
#define FMODE_WRITE 0x2
#define O_CREAT 0100
#define O_TRUNC 01000
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

const volatile struct sensors_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* set from config before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768); /* set from config before load */
	__type(key, __u32);
	__type(value, struct proc_entry);
} procs SEC(".maps");

#define PATH_TRIE(name)                                  \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
		__uint(max_entries, 1024);               \
		__uint(map_flags, BPF_F_NO_PREALLOC);    \
		__type(key, struct path_key);            \
		__type(value, __u32);                    \
	} name SEC(".maps")

PATH_TRIE(trusted_exec);
PATH_TRIE(watch_paths);
PATH_TRIE(ignore_paths);
PATH_TRIE(sensitive_paths);

/* Inode numbers of sensitive prefixes (files and directories), a cheap pre-filter for reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} sensitive_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[COMM_LEN]);
	__type(value, __u32);
} ignore_comms SEC(".maps");

/* Threads inside execve (from sys_enter_execve* to sched_process_exec or the syscall's
 * exit): the rename every exec does is not reported. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} in_exec SEC(".maps");

/* open flags from sys_enter_open* until sys_exit_open* gives the fd. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} pending_open SEC(".maps");

/* Never read or written: it puts every record type into the object's BTF, which
 * tests/sensors/layout_test.ts compares with mod/sensors/layout.ts. */
struct record_layouts {
	struct rec_hdr hdr;
	struct exec_rec exec;
	struct exit_rec exit;
	struct file_rec file;
	struct net_rec net;
	struct comm_rec comm;
	enum rec_type type;
	enum counter_kind counter;
	enum file_op file_op;
	enum net_op net_op;
	enum net_result net_result;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record_layouts);
} layouts SEC(".maps");

/* A path is built backwards to end at PATH_BUF - 1; a syscall's relative name is appended
 * from PATH_BUF on, and rename's new name sits at PATH_BUF + REC_PATH_LEN. */
#define BUF_MASK (PATH_BUF * 2 - 1)
/* Who started a connect, from SYN_SENT until the socket leaves it (then ports are known). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct proc_info);
} pending_connect SEC(".maps");

struct scratch {
	char buf[PATH_BUF * 2 + REC_PATH_LEN];
	struct path_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Syscall tracepoint contexts, as in each events/syscalls/<name>/format of tracefs. */
struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

static __always_inline void count(__u32 type, __u32 kind)
{
	__u32 slot = type * 3 + kind;
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);
	if (v)
		*v += 1;
}

/*
 * Room in the ring buffer for one record of `type` (`size` bytes, a constant), its header
 * filled in; NULL, counted as lost, when the buffer is full.
 */
static __always_inline void *reserve(__u32 type, __u32 size)
{
	struct rec_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		count(type, CNT_LOST);
		return NULL;
	}
	h->version = SENSORS_RECORD_VERSION;
	h->type = type;
	h->size = size;
	h->ts_ns = bpf_ktime_get_ns();
	return h;
}

/*
 * Submit a record from reserve() and count it as emitted. The reader is not woken unless
 * cfg.wakeup_bytes are waiting: it wakes on its own every few milliseconds anyway, so a
 * burst is read in one pass instead of one wakeup per record (which costs the agent far
 * more than the record).
 */
static __always_inline void submit(void *r)
{
	__u32 type = ((struct rec_hdr *)r)->type;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(r, avail >= cfg.wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	count(type, CNT_EMITTED);
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/* The agent itself and ignored comms produce nothing. */
static __always_inline bool ignored_task(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	char comm[COMM_LEN] = {};
	if (pid == cfg.agent_pid)
		return true;
	bpf_get_current_comm(comm, sizeof(comm));
	return bpf_map_lookup_elem(&ignore_comms, comm) != NULL;
}

static __always_inline void fill_proc(struct proc_info *p, struct task_struct *t)
{
	__u64 id = bpf_get_current_pid_tgid();
	const char *name;

	p->pid = id >> 32;
	p->tid = (__u32)id;
	p->ppid = BPF_CORE_READ(t, real_parent, tgid);
	p->uid = BPF_CORE_READ(t, cred, uid.val);
	p->gid = BPF_CORE_READ(t, cred, gid.val);
	p->euid = BPF_CORE_READ(t, cred, euid.val);
	p->mntns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	p->pidns = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, ns.inum);
	p->cgroup_id = bpf_get_current_cgroup_id();
	p->start_ns = BPF_CORE_READ(t, group_leader, start_time);
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	/* cgroup v2 leaf name; on hybrid v1 hosts containers live in v1 only, so fall back to the
	 * pids controller's cgroup when the v2 one is the (unnamed) root. */
	name = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, name);
	bpf_probe_read_kernel_str(p->cgroup, sizeof(p->cgroup), name);
	if (p->cgroup[0] == 0 || (p->cgroup[0] == '/' && p->cgroup[1] == 0)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
		struct cgroup_subsys_state *css;
		if (id >= 0 && id < 12) {
			css = BPF_CORE_READ(t, cgroups, subsys[id]);
			name = BPF_CORE_READ(css, cgroup, kn, name);
			bpf_probe_read_kernel_str(p->cgroup, sizeof(p->cgroup), name);
		}
	}
}

struct walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct mount *mnt_parent;
	struct dentry *mnt_root;
	int off;
	int done; /* 1: reached the root; -1: cut short */
};

/* One step of the walk: prepend one name, or cross one mount. */
static long walk_step(__u64 index, void *ctx)
{
	struct walk *w = ctx;
	struct scratch *s = get_scratch();
	/* locals, not w->...: CO-RE macros must not see this program's own struct */
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct dentry *parent;
	struct qstr q;
	__u32 len;
	int off;

	if (!s) {
		w->done = -1;
		return 1;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == w->mnt_root || dentry == parent) {
		struct mount *mnt_parent = w->mnt_parent;
		if (dentry != w->mnt_root || mnt == mnt_parent) {
			w->done = 1;
			return 1;
		}
		/* cross to the mount point in the parent mount */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		w->mnt_parent = BPF_CORE_READ(mnt_parent, mnt_parent);
		w->mnt_root = BPF_CORE_READ(mnt_parent, mnt.mnt_root);
		return 0;
	}
	q = BPF_CORE_READ(dentry, d_name);
	len = q.len & 0xff;
	off = w->off - (int)len - 1;
	if (off < 0) {
		w->done = -1;
		return 1;
	}
	bpf_probe_read_kernel(&s->buf[(off + 1) & PATH_MASK], len, q.name);
	s->buf[off & PATH_MASK] = '/';
	w->off = off;
	w->dentry = parent;
	return 0;
}

/*
 * Write the absolute path of (dentry, mnt) into s->buf so that it ends with the NUL at
 * PATH_BUF - 1; return its start offset, or a negative value when the walk was cut short
 * (deeper than MAX_COMPONENTS). Paths are as seen from the task's own mount namespace root.
 * bpf_loop keeps the verifier's work to one pass over the step, whatever the depth.
 */
static __always_inline int build_path(struct scratch *s, struct dentry *dentry,
				      struct vfsmount *vfsmnt)
{
	struct walk w = {};
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);

	w.dentry = dentry;
	w.mnt = mnt;
	w.mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
	w.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	w.off = PATH_BUF - 1;
	s->buf[PATH_BUF - 1] = 0;
	bpf_loop(MAX_COMPONENTS, walk_step, &w, 0);
	if (w.done != 1)
		return -1;
	if (w.off == PATH_BUF - 1) {
		s->buf[PATH_BUF - 2] = '/';
		return PATH_BUF - 2;
	}
	return w.off & PATH_MASK;
}

static __always_inline int build_path_of(struct scratch *s, struct path *p)
{
	struct dentry *d = BPF_CORE_READ(p, dentry);
	struct vfsmount *m = BPF_CORE_READ(p, mnt);
	return build_path(s, d, m);
}

/* Copy the path at s->buf[off..] into dst (REC_PATH_LEN); true when it had to be cut. */
static __always_inline bool copy_path(struct scratch *s, int off, char *dst)
{
	__u32 start = off & BUF_MASK;

	bpf_probe_read_kernel_str(dst, REC_PATH_LEN, &s->buf[start]);
	/* a path of REC_PATH_LEN - 1 bytes or more was cut: its NUL was not in the copy */
	return s->buf[(start + REC_PATH_LEN - 1) & BUF_MASK] != 0;
}

/* Longest-prefix lookup of the path at s->buf[off..] in a trie; 0 when none matches. */
static __always_inline __u32 match_prefix(struct scratch *s, int off, void *trie)
{
	__u32 *v;
	s->key.prefixlen = LPM_PATH_LEN * 8;
	bpf_probe_read_kernel(s->key.path, LPM_PATH_LEN, &s->buf[off & BUF_MASK]);
	v = bpf_map_lookup_elem(trie, &s->key);
	return v ? *v : 0;
}

static __always_inline struct file *fd_file(struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file **arr;
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	arr = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

/*
 * Put the path a syscall names (dirfd + user string) at s->buf[off..]: an absolute name
 * as is, a relative one after its directory (the cwd for AT_FDCWD). Returns the offset or
 * a negative value. `relative` is set when a directory was joined.
 */
static __always_inline int user_path(struct scratch *s, struct task_struct *t, int dirfd,
				     const char *uname, bool *relative)
{
	char first = 0;
	int off;

	bpf_probe_read_user(&first, 1, uname);
	if (first == '/') {
		if (bpf_probe_read_user_str(&s->buf[PATH_BUF], REC_PATH_LEN, uname) < 0)
			return -1;
		*relative = false;
		return PATH_BUF;
	}
	if (dirfd == AT_FDCWD) {
		off = build_path(s, BPF_CORE_READ(t, fs, pwd.dentry), BPF_CORE_READ(t, fs, pwd.mnt));
	} else {
		struct file *f = fd_file(t, dirfd);
		if (!f)
			return -1;
		off = build_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
	}
	if (off < 0)
		return -1;
	/* "/" + name, or "dir" + "/" + name: the NUL at PATH_BUF - 1 becomes the separator */
	if (off == PATH_BUF - 2)
		off = PATH_BUF - 1;
	s->buf[PATH_BUF - 1] = '/';
	if (bpf_probe_read_user_str(&s->buf[PATH_BUF], REC_PATH_LEN, uname) < 0)
		return -1;
	*relative = true;
	return off;
}

/* ---- process execution --------------------------------------------------------------- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct scratch *s;
	struct exec_rec *r;
	struct proc_entry *pe;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	unsigned long arg_start, arg_end;
	__u32 args_len;
	int off;
	struct proc_entry init = {};
	__u32 key_old;

	if (!(cfg.enable & ENABLE_EXEC))
		return 0;
	key_old = old_pid;
	bpf_map_delete_elem(&in_exec, &key_old);
	s = get_scratch();
	if (!s)
		return 0;

	/* The kernel's own record of the process, kept even when the exec is filtered. */
	bpf_map_update_elem(&procs, &pid, &init, BPF_ANY);
	pe = bpf_map_lookup_elem(&procs, &pid);

	off = build_path_of(s, (struct path *)&bprm->file->f_path);
	if (pe) {
		pe->start_ns = BPF_CORE_READ(task, start_time);
		pe->uid = BPF_CORE_READ(task, cred, uid.val);
		pe->ppid = BPF_CORE_READ(task, real_parent, tgid);
		bpf_get_current_comm(pe->comm, sizeof(pe->comm));
		if (off >= 0)
			bpf_probe_read_kernel_str(pe->exe, sizeof(pe->exe), &s->buf[off & PATH_MASK]);
	}
	if (ignored_task()) {
		count(REC_EXEC, CNT_FILTERED);
		return 0;
	}
	if (off >= 0 && match_prefix(s, off, &trusted_exec) == MATCH_TRUSTED_EXEC) {
		count(REC_EXEC, CNT_FILTERED);
		return 0;
	}

	r = reserve(REC_EXEC, sizeof(*r));
	if (!r)
		return 0;
	fill_proc(&r->p, task);
	r->flags = 0;
	r->exe[0] = 0;
	if (off >= 0 && copy_path(s, off, r->exe))
		r->flags |= EXEC_F_EXE_TRUNCATED;
	bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), BPF_CORE_READ(bprm, filename));

	r->cwd[0] = 0;
	off = build_path(s, BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt));
	if (off >= 0 && copy_path(s, off, r->cwd))
		r->flags |= EXEC_F_CWD_TRUNCATED;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	args_len = arg_end - arg_start;
	if (args_len > REC_ARGS_LEN - 1) {
		args_len = REC_ARGS_LEN - 1;
		r->flags |= EXEC_F_ARGS_TRUNCATED;
	}
	barrier_var(args_len);
	args_len &= REC_ARGS_LEN - 1; /* a bound the verifier can see */
	r->args_len = 0;
	if (args_len > 0 && bpf_probe_read_user(r->args, args_len, (void *)arg_start) == 0)
		r->args_len = args_len;
	r->argc = BPF_CORE_READ(bprm, argc);
	submit(r);
	return 0;
}

/*
 * A process ended: its kernel record goes. No record is sent: the reader keeps its own
 * process table (bounded, oldest first), and an exit record per exec would double the
 * reader's work in an exec storm for nothing an event needs.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;

	if (!(cfg.enable & ENABLE_EXEC) || pid != (__u32)id) /* thread group leader only */
		return 0;
	bpf_map_delete_elem(&procs, &pid);
	return 0;
}

/*
 * A process renamed (prctl PR_SET_NAME, a write to /proc/<pid>/comm). Every exec renames
 * too, just before sched_process_exec; the reader drops a rename that an exec of the same
 * name follows (the kernel no longer marks a task as in exec where a tracepoint can see it).
 */
SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *task, const char *comm)
{
	struct comm_rec *r;

	__u32 tid = BPF_CORE_READ(task, pid);

	if (!(cfg.enable & ENABLE_EXEC))
		return 0;
	if (bpf_map_lookup_elem(&in_exec, &tid))
		return 0; /* the rename every exec does */
	if (ignored_task()) {
		count(REC_COMM, CNT_FILTERED);
		return 0;
	}
	r = reserve(REC_COMM, sizeof(*r));
	if (!r)
		return 0;
	fill_proc(&r->p, task);
	/* the renamed task may be another process (a write to /proc/<pid>/comm) */
	r->p.pid = BPF_CORE_READ(task, tgid);
	r->p.tid = BPF_CORE_READ(task, pid);
	bpf_probe_read_kernel_str(r->old_comm, sizeof(r->old_comm), task->comm);
	bpf_probe_read_kernel_str(r->new_comm, sizeof(r->new_comm), comm);
	submit(r);
	return 0;
}

static __always_inline int exec_enter(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;

	if (cfg.enable & ENABLE_EXEC)
		bpf_map_update_elem(&in_exec, &tid, &one, BPF_ANY);
	return 0;
}

static __always_inline int exec_exit(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (cfg.enable & ENABLE_EXEC)
		bpf_map_delete_elem(&in_exec, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct sys_enter_ctx *ctx)
{
	return exec_enter();
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int enter_execveat(struct sys_enter_ctx *ctx)
{
	return exec_enter();
}

/* A failed exec returns here; a successful one was cleared in on_exec. */
SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct sys_exit_ctx *ctx)
{
	return exec_exit();
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int exit_execveat(struct sys_exit_ctx *ctx)
{
	return exec_exit();
}

/* ---- files ---------------------------------------------------------------------------- */

/* True when the file or one of its SENSITIVE_DEPTH ancestors is a sensitive inode. */
static __always_inline bool sensitive_candidate(struct dentry *d)
{
	int i;
	for (i = 0; i < SENSITIVE_DEPTH; i++) {
		__u64 ino = BPF_CORE_READ(d, d_inode, i_ino);
		struct dentry *parent;
		if (bpf_map_lookup_elem(&sensitive_inodes, &ino))
			return true;
		parent = BPF_CORE_READ(d, d_parent);
		if (parent == d)
			break;
		d = parent;
	}
	return false;
}

static __always_inline int emit_file(struct scratch *s, struct task_struct *t, __u32 op,
				     __u32 flags, int off, int off2, __u32 open_flags, __u32 mode)
{
	struct file_rec *r;
	__u32 m = match_prefix(s, off, &watch_paths);

	if (m == MATCH_WATCH) {
		flags |= FILE_F_WATCHED;
	} else if (match_prefix(s, off, &ignore_paths) == MATCH_IGNORE) {
		count(REC_FILE, CNT_FILTERED);
		return 0;
	}
	r = reserve(REC_FILE, sizeof(*r));
	if (!r)
		return 0;
	fill_proc(&r->p, t);
	r->op = op;
	r->open_flags = open_flags;
	r->mode = mode;
	if (copy_path(s, off, r->path))
		flags |= FILE_F_TRUNCATED;
	r->path2[0] = 0;
	if (off2 >= 0)
		bpf_probe_read_kernel_str(r->path2, sizeof(r->path2), &s->buf[PATH_BUF + REC_PATH_LEN]);
	r->flags = flags;
	submit(r);
	return 0;
}

static __always_inline int open_enter(__u64 flags)
{
	__u64 id;
	__u32 f = (__u32)flags;
	if (!(cfg.enable & ENABLE_FILE))
		return 0;
	id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_open, &id, &f, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct sys_enter_ctx *ctx)
{
	return open_enter(ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_open")
int enter_open(struct sys_enter_ctx *ctx)
{
	return open_enter(ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int enter_creat(struct sys_enter_ctx *ctx)
{
	return open_enter(O_CREAT | O_TRUNC | 1);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int enter_openat2(struct sys_enter_ctx *ctx)
{
	__u64 flags = 0;
	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[2]); /* struct open_how */
	return open_enter(flags);
}

/* The fd is known only at exit: look the file up and decide on its real mode and path. */
static __always_inline int open_exit(struct sys_exit_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 *pflags = bpf_map_lookup_elem(&pending_open, &id);
	struct task_struct *t;
	struct scratch *s;
	struct file *f;
	__u32 open_flags, fmode, op, flags = 0;
	int off;

	if (!pflags)
		return 0;
	open_flags = *pflags;
	bpf_map_delete_elem(&pending_open, &id);
	if (ctx->ret < 0 || ignored_task())
		return 0;
	t = bpf_get_current_task_btf();
	f = fd_file(t, (int)ctx->ret);
	if (!f)
		return 0;
	fmode = BPF_CORE_READ(f, f_mode);
	if (fmode & FMODE_WRITE) {
		op = FILE_OPEN_WRITE;
	} else if (sensitive_candidate(BPF_CORE_READ(f, f_path.dentry))) {
		op = FILE_OPEN_READ;
		flags |= FILE_F_SENSITIVE;
	} else {
		return 0;
	}
	s = get_scratch();
	if (!s)
		return 0;
	off = build_path_of(s, (struct path *)&f->f_path);
	if (off < 0)
		return 0;
	if (op == FILE_OPEN_READ && match_prefix(s, off, &sensitive_paths) != MATCH_SENSITIVE) {
		count(REC_FILE, CNT_FILTERED);
		return 0;
	}
	if (open_flags & O_CREAT)
		flags |= FILE_F_CREATED;
	if (open_flags & O_TRUNC)
		flags |= FILE_F_TRUNC;
	return emit_file(s, t, op, flags, off, -1, open_flags, 0);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct sys_exit_ctx *ctx)
{
	return open_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct sys_exit_ctx *ctx)
{
	return open_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int exit_creat(struct sys_exit_ctx *ctx)
{
	return open_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct sys_exit_ctx *ctx)
{
	return open_exit(ctx);
}

/* unlink, chmod, chown: the path as the syscall names it, resolved against its directory. */
static __always_inline int path_op(int dirfd, const char *uname, __u32 op, __u32 a, __u32 b)
{
	struct task_struct *t;
	struct scratch *s;
	bool relative = false;
	int off;

	if (!(cfg.enable & ENABLE_FILE) || ignored_task())
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	t = bpf_get_current_task_btf();
	off = user_path(s, t, dirfd, uname, &relative);
	if (off < 0)
		return 0;
	return emit_file(s, t, op, relative ? FILE_F_RELATIVE : 0, off, -1, a, b);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int enter_unlinkat(struct sys_enter_ctx *ctx)
{
	return path_op((int)ctx->args[0], (const char *)ctx->args[1], FILE_UNLINK, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int enter_unlink(struct sys_enter_ctx *ctx)
{
	return path_op(AT_FDCWD, (const char *)ctx->args[0], FILE_UNLINK, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_fchmodat")
int enter_fchmodat(struct sys_enter_ctx *ctx)
{
	return path_op((int)ctx->args[0], (const char *)ctx->args[1], FILE_CHMOD, 0,
		       (__u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_fchmodat2")
int enter_fchmodat2(struct sys_enter_ctx *ctx)
{
	return path_op((int)ctx->args[0], (const char *)ctx->args[1], FILE_CHMOD, 0,
		       (__u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_chmod")
int enter_chmod(struct sys_enter_ctx *ctx)
{
	return path_op(AT_FDCWD, (const char *)ctx->args[0], FILE_CHMOD, 0, (__u32)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_fchownat")
int enter_fchownat(struct sys_enter_ctx *ctx)
{
	return path_op((int)ctx->args[0], (const char *)ctx->args[1], FILE_CHOWN,
		       (__u32)ctx->args[3], (__u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_chown")
int enter_chown(struct sys_enter_ctx *ctx)
{
	return path_op(AT_FDCWD, (const char *)ctx->args[0], FILE_CHOWN, (__u32)ctx->args[2],
		       (__u32)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_lchown")
int enter_lchown(struct sys_enter_ctx *ctx)
{
	return path_op(AT_FDCWD, (const char *)ctx->args[0], FILE_CHOWN, (__u32)ctx->args[2],
		       (__u32)ctx->args[1]);
}

/* fchmod/fchown act on an open file: its path comes from the fd. */
static __always_inline int fd_op(int fd, __u32 op, __u32 a, __u32 b)
{
	struct task_struct *t;
	struct scratch *s;
	struct file *f;
	int off;

	if (!(cfg.enable & ENABLE_FILE) || ignored_task())
		return 0;
	t = bpf_get_current_task_btf();
	f = fd_file(t, fd);
	s = get_scratch();
	if (!f || !s)
		return 0;
	off = build_path_of(s, (struct path *)&f->f_path);
	if (off < 0)
		return 0;
	return emit_file(s, t, op, 0, off, -1, a, b);
}

SEC("tracepoint/syscalls/sys_enter_fchmod")
int enter_fchmod(struct sys_enter_ctx *ctx)
{
	return fd_op((int)ctx->args[0], FILE_CHMOD, 0, (__u32)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_fchown")
int enter_fchown(struct sys_enter_ctx *ctx)
{
	return fd_op((int)ctx->args[0], FILE_CHOWN, (__u32)ctx->args[2], (__u32)ctx->args[1]);
}

/* rename: the old path is matched and reported; the new name goes in path2 as given. */
static __always_inline int rename_op(int olddirfd, const char *oldname, const char *newname)
{
	struct task_struct *t;
	struct scratch *s;
	bool relative = false;
	int off;

	if (!(cfg.enable & ENABLE_FILE) || ignored_task())
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	t = bpf_get_current_task_btf();
	off = user_path(s, t, olddirfd, oldname, &relative);
	if (off < 0)
		return 0;
	bpf_probe_read_user_str(&s->buf[PATH_BUF + REC_PATH_LEN], REC_PATH_LEN, newname);
	return emit_file(s, t, FILE_RENAME, relative ? FILE_F_RELATIVE : 0, off, 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int enter_renameat2(struct sys_enter_ctx *ctx)
{
	return rename_op((int)ctx->args[0], (const char *)ctx->args[1], (const char *)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int enter_renameat(struct sys_enter_ctx *ctx)
{
	return rename_op((int)ctx->args[0], (const char *)ctx->args[1], (const char *)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_rename")
int enter_rename(struct sys_enter_ctx *ctx)
{
	return rename_op(AT_FDCWD, (const char *)ctx->args[0], (const char *)ctx->args[1]);
}

/* ---- network -------------------------------------------------------------------------- */

static __always_inline int emit_net(struct sock *sk, __u8 op, __u16 result,
				    struct proc_info *who)
{
	struct net_rec *r;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return 0;
	r = reserve(REC_NET, sizeof(*r));
	if (!r)
		return 0;
	if (who)
		__builtin_memcpy(&r->p, who, sizeof(r->p));
	else
		fill_proc(&r->p, bpf_get_current_task_btf());
	r->op = op;
	r->result = result;
	__builtin_memset(r->saddr, 0, sizeof(r->saddr));
	__builtin_memset(r->daddr, 0, sizeof(r->daddr));
	r->sport = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
	r->dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (family == AF_INET) {
		r->family = 4;
		BPF_CORE_READ_INTO((__u32 *)r->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)r->daddr, sk, __sk_common.skc_daddr);
	} else {
		r->family = 6;
		BPF_CORE_READ_INTO(r->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(r->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	submit(r);
	return 0;
}

/*
 * An outbound connect. CLOSE -> SYN_SENT runs in the connecting process, before the
 * source port is chosen: remember who, and report when the socket leaves SYN_SENT
 * (established, or failed), possibly in softirq, with the ports known.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct proc_info *who;
	struct proc_info p = {};

	if (!(cfg.enable & ENABLE_NET) || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		if (ignored_task()) {
			count(REC_NET, CNT_FILTERED);
			return 0;
		}
		fill_proc(&p, bpf_get_current_task_btf());
		bpf_map_update_elem(&pending_connect, &key, &p, BPF_ANY);
		return 0;
	}
	if (oldstate != TCP_SYN_SENT)
		return 0;
	who = bpf_map_lookup_elem(&pending_connect, &key);
	if (!who)
		return 0;
	emit_net((struct sock *)sk, NET_CONNECT,
		 newstate == TCP_ESTABLISHED ? NET_RESULT_ESTABLISHED : NET_RESULT_FAILED, who);
	bpf_map_delete_elem(&pending_connect, &key);
	return 0;
}

/* An inbound accept: the new socket's fd is known at the syscall's exit. */
static __always_inline int accept_exit(struct sys_exit_ctx *ctx)
{
	struct task_struct *t;
	struct file *f;
	struct socket *sock;
	struct sock *sk;

	if (!(cfg.enable & ENABLE_NET) || ctx->ret < 0)
		return 0;
	t = bpf_get_current_task_btf();
	f = fd_file(t, (int)ctx->ret);
	if (!f)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (ignored_task()) {
		count(REC_NET, CNT_FILTERED);
		return 0;
	}
	return emit_net(sk, NET_ACCEPT, 0, NULL);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct sys_exit_ctx *ctx)
{
	return accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct sys_exit_ctx *ctx)
{
	return accept_exit(ctx);
}
