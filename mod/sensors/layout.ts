/**
 * The ring-buffer records and map layouts of bpf/sensors.h, as byte offsets. Kept in step
 * with the C header by tests/sensors/layout_test.ts, which reads the object's BTF.
 */

export const RECORD_VERSION = 1;

export const REC = { EXEC: 1, EXIT: 2, FILE: 3, NET: 4, COMM: 5 } as const;
export const REC_TYPE_MAX = 6;
export const COUNTER_KINDS = ["emitted", "filtered", "lost"] as const;
export const COUNTER_SLOTS = REC_TYPE_MAX * 3;

export const FILE_OP = {
  OPEN_WRITE: 1,
  OPEN_READ: 2,
  UNLINK: 3,
  RENAME: 4,
  CHMOD: 5,
  CHOWN: 6,
} as const;

export const FILE_F = {
  WATCHED: 1 << 0,
  SENSITIVE: 1 << 1,
  TRUNCATED: 1 << 2,
  RELATIVE: 1 << 3,
  CREATED: 1 << 4,
  TRUNC: 1 << 5,
} as const;

export const EXEC_F = { ARGS_TRUNCATED: 1 << 0, EXE_TRUNCATED: 1 << 1, CWD_TRUNCATED: 1 << 2 };
export const NET_OP = { CONNECT: 1, ACCEPT: 2 } as const;
export const NET_RESULT = { ESTABLISHED: 1, FAILED: 2 } as const;
export const MATCH = { TRUSTED_EXEC: 1, WATCH: 2, IGNORE: 3, SENSITIVE: 4 } as const;
export const ENABLE = { EXEC: 1 << 0, FILE: 1 << 1, NET: 1 << 2 } as const;

export const COMM_LEN = 16;
export const CGROUP_NAME_LEN = 128;
export const REC_PATH_LEN = 256;
export const REC_ARGS_LEN = 512;
export const LPM_PATH_LEN = 252;

export const SIZE = {
  rec_hdr: 16,
  proc_info: 192,
  exec_rec: 1496,
  exit_rec: 32,
  file_rec: 736,
  net_rec: 248,
  comm_rec: 240,
  proc_entry: 288,
  path_key: 256,
  sensors_config: 12,
} as const;

export const OFFSETS = {
  rec_hdr: { version: 0, type: 2, size: 4, ts_ns: 8 },
  proc_info: {
    pid: 0,
    tid: 4,
    ppid: 8,
    uid: 12,
    gid: 16,
    euid: 20,
    mntns: 24,
    pidns: 28,
    cgroup_id: 32,
    start_ns: 40,
    comm: 48,
    cgroup: 64,
  },
  exec_rec: {
    hdr: 0,
    p: 16,
    flags: 208,
    args_len: 212,
    argc: 214,
    exe: 216,
    filename: 472,
    cwd: 728,
    args: 984,
  },
  exit_rec: { hdr: 0, pid: 16, exit_code: 20, start_ns: 24 },
  file_rec: {
    hdr: 0,
    p: 16,
    op: 208,
    flags: 212,
    open_flags: 216,
    mode: 220,
    path: 224,
    path2: 480,
  },
  net_rec: {
    hdr: 0,
    p: 16,
    op: 208,
    family: 209,
    result: 210,
    sport: 212,
    dport: 214,
    saddr: 216,
    daddr: 232,
  },
  comm_rec: { hdr: 0, p: 16, old_comm: 208, new_comm: 224 },
  proc_entry: { start_ns: 0, uid: 8, ppid: 12, comm: 16, exe: 32 },
  path_key: { prefixlen: 0, path: 4 },
  sensors_config: { agent_pid: 0, enable: 4, wakeup_bytes: 8 },
} as const;

/** Load-time settings (`.rodata`). */
export function encodeConfig(
  agentPid: number,
  enable: number,
  wakeupBytes: number,
): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(SIZE.sensors_config);
  const v = new DataView(b.buffer);
  v.setUint32(OFFSETS.sensors_config.agent_pid, agentPid, true);
  v.setUint32(OFFSETS.sensors_config.enable, enable, true);
  v.setUint32(OFFSETS.sensors_config.wakeup_bytes, wakeupBytes, true);
  return b;
}

const enc = new TextEncoder();

/**
 * An LPM trie key for a path prefix: `prefix` as bytes, prefixlen in bits. The kernel
 * looks up the whole path, so a key matches every path that starts with its bytes.
 */
export function encodePathKey(prefix: string): Uint8Array<ArrayBuffer> {
  const bytes = enc.encode(prefix);
  if (bytes.length > LPM_PATH_LEN) {
    throw new RangeError(`path prefix longer than ${LPM_PATH_LEN} bytes: ${prefix}`);
  }
  const key = new Uint8Array(SIZE.path_key);
  new DataView(key.buffer).setUint32(OFFSETS.path_key.prefixlen, bytes.length * 8, true);
  key.set(bytes, OFFSETS.path_key.path);
  return key;
}

/** A comm as the kernel stores it: up to 15 bytes and a NUL, in 16. */
export function encodeComm(comm: string): Uint8Array<ArrayBuffer> {
  const key = new Uint8Array(COMM_LEN);
  key.set(enc.encode(comm).subarray(0, COMM_LEN - 1));
  return key;
}
