/**
 * libbpf 1.1 (Debian's `libbpf1`, the system `libbpf.so.1`) through Deno FFI.
 *
 * Read it like a header: the symbol table, then one thin typed wrapper per call that turns
 * a negative errno (or a NULL pointer plus errno) into a `BpfError`. No policy here: what
 * to load, attach or put in a map is decided in mod/ebpf.
 */
import { errorMessage } from "../mod/core/mod.ts";
import { BpfError, EEXIST, EINVAL, ENOENT } from "./errno.ts";
import { cstr, errno } from "./libc.ts";
import { firstExisting, LIBBPF_PATHS, libbpfPath } from "./paths.ts";

export { LIBBPF_PATHS, libbpfPath };

const SYMBOLS = {
  libbpf_set_print: { parameters: ["pointer"], result: "pointer" },
  libbpf_num_possible_cpus: { parameters: [], result: "i32" },
  bpf_object__open_mem: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  bpf_object__load: { parameters: ["pointer"], result: "i32" },
  bpf_object__close: { parameters: ["pointer"], result: "void" },
  bpf_object__find_program_by_name: { parameters: ["pointer", "buffer"], result: "pointer" },
  bpf_object__find_map_by_name: { parameters: ["pointer", "buffer"], result: "pointer" },
  bpf_object__next_map: { parameters: ["pointer", "pointer"], result: "pointer" },
  bpf_map__name: { parameters: ["pointer"], result: "pointer" },
  bpf_map__fd: { parameters: ["pointer"], result: "i32" },
  bpf_map__set_max_entries: { parameters: ["pointer", "u32"], result: "i32" },
  bpf_map__set_initial_value: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  bpf_program__fd: { parameters: ["pointer"], result: "i32" },
  bpf_program__set_autoload: { parameters: ["pointer", "bool"], result: "i32" },
  bpf_program__attach: { parameters: ["pointer"], result: "pointer" },
  bpf_program__name: { parameters: ["pointer"], result: "pointer" },
  bpf_object__next_program: { parameters: ["pointer", "pointer"], result: "pointer" },
  bpf_link__destroy: { parameters: ["pointer"], result: "i32" },
  libbpf_get_error: { parameters: ["pointer"], result: "i64" },
  bpf_link_create: { parameters: ["i32", "i32", "u32", "buffer"], result: "i32" },
  bpf_tc_hook_create: { parameters: ["buffer"], result: "i32" },
  bpf_tc_hook_destroy: { parameters: ["buffer"], result: "i32" },
  bpf_tc_attach: { parameters: ["buffer", "buffer"], result: "i32" },
  bpf_tc_detach: { parameters: ["buffer", "buffer"], result: "i32" },
  bpf_map_update_elem: { parameters: ["i32", "buffer", "buffer", "u64"], result: "i32" },
  bpf_map_lookup_elem: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_map_delete_elem: { parameters: ["i32", "buffer"], result: "i32" },
  bpf_map_get_next_key: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_map_update_batch: {
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  ring_buffer__new: { parameters: ["i32", "function", "pointer", "pointer"], result: "pointer" },
  ring_buffer__consume: { parameters: ["pointer"], result: "i32" },
  ring_buffer__epoll_fd: { parameters: ["pointer"], result: "i32" },
  ring_buffer__free: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** Open libbpf once; throws a BpfError naming the paths tried when it is missing. */
function bpf(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (!lib) {
    const path = firstExisting(LIBBPF_PATHS);
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (err) {
      throw new BpfError(
        "dlopen",
        ENOENT,
        `libbpf.so.1 at ${path}`,
        `install Debian's libbpf1 (tried ${LIBBPF_PATHS.join(", ")}): ${errorMessage(err)}`,
      );
    }
    // libbpf prints warnings to stderr by default; the agent reports errors itself.
    lib.symbols.libbpf_set_print(null);
  }
  return lib.symbols;
}

export type Pointer = NonNullable<Deno.PointerValue>;

function check(call: string, rc: number, what = ""): number {
  if (rc < 0) throw new BpfError(call, -rc, what);
  return rc;
}

/** A call whose ENOENT means "no such key or hook": false then; any other error throws. */
function found(call: string, rc: number, what = ""): boolean {
  if (rc === -ENOENT) return false;
  check(call, rc, what);
  return true;
}

function nonNull(call: string, p: Deno.PointerValue, what = ""): Pointer {
  if (p === null) throw new BpfError(call, errno() || EINVAL, what);
  return p;
}

// --- objects ----------------------------------------------------------------------------

/** An opened (not yet loaded) object and the buffer the verifier writes its log into. */
export interface OpenedObject {
  obj: Pointer;
  log: Uint8Array<ArrayBuffer>;
  /** Kept alive: libbpf holds pointers into these until close. */
  keep: Uint8Array<ArrayBuffer>[];
}

/** bpf_object__open_mem with a name and a verifier-log buffer. */
export function objectOpenMem(bytes: Uint8Array, name: string, logSize = 1 << 20): OpenedObject {
  const buf = new Uint8Array(bytes);
  const nameC = cstr(name);
  const log = new Uint8Array(logSize);
  const opts = new Uint8Array(80);
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, 80n, true); // sz
  v.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(nameC))), true);
  v.setBigUint64(56, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(log))), true);
  v.setBigUint64(64, BigInt(logSize), true);
  v.setUint32(72, 0, true); // kernel_log_level 0: the log is filled only on failure
  const obj = nonNull(
    "bpf_object__open_mem",
    bpf().bpf_object__open_mem(buf, BigInt(buf.length), opts),
    name,
  );
  return { obj, log, keep: [buf, nameC, opts] };
}

/** bpf_object__load; on failure the error carries the tail of the verifier log. */
export function objectLoad(o: OpenedObject, name: string): void {
  const rc = bpf().bpf_object__load(o.obj);
  if (rc < 0) {
    const text = new TextDecoder().decode(o.log.subarray(0, o.log.indexOf(0)));
    const tail = text.trim().split("\n").slice(-15).join("\n");
    throw new BpfError("bpf_object__load", -rc, name, tail ? `verifier log:\n${tail}` : "");
  }
}

export function objectClose(obj: Pointer): void {
  bpf().bpf_object__close(obj);
}

export function findProgram(obj: Pointer, name: string): Pointer {
  return nonNull(
    "bpf_object__find_program_by_name",
    bpf().bpf_object__find_program_by_name(obj, cstr(name)),
    name,
  );
}

export function findMap(obj: Pointer, name: string): Pointer {
  return nonNull(
    "bpf_object__find_map_by_name",
    bpf().bpf_object__find_map_by_name(obj, cstr(name)),
    name,
  );
}

/** Every map of an object, internal ones (`<obj>.rodata`, …) included, by name. */
export function listMaps(obj: Pointer): Map<string, Pointer> {
  const out = new Map<string, Pointer>();
  let m = bpf().bpf_object__next_map(obj, null);
  while (m !== null) {
    const namePtr = bpf().bpf_map__name(m);
    if (namePtr) out.set(new Deno.UnsafePointerView(namePtr).getCString(), m);
    m = bpf().bpf_object__next_map(obj, m);
  }
  return out;
}

export function mapFd(map: Pointer): number {
  return check("bpf_map__fd", bpf().bpf_map__fd(map));
}

export function mapSetMaxEntries(map: Pointer, n: number): void {
  check("bpf_map__set_max_entries", bpf().bpf_map__set_max_entries(map, n), `${n} entries`);
}

/** Set the bytes an internal map (.rodata, .data) starts with; before load only. */
export function mapSetInitialValue(map: Pointer, data: Uint8Array<ArrayBuffer>): void {
  check(
    "bpf_map__set_initial_value",
    bpf().bpf_map__set_initial_value(map, data, BigInt(data.length)),
  );
}

export function programFd(prog: Pointer): number {
  return check("bpf_program__fd", bpf().bpf_program__fd(prog));
}

export function programSetAutoload(prog: Pointer, load: boolean): void {
  check("bpf_program__set_autoload", bpf().bpf_program__set_autoload(prog, load));
}

export function numPossibleCpus(): number {
  return check("libbpf_num_possible_cpus", bpf().libbpf_num_possible_cpus());
}

// --- links ------------------------------------------------------------------------------

/** enum bpf_attach_type values used here (linux/bpf.h). */
export const ATTACH = { XDP: 37, TCX_INGRESS: 46, TCX_EGRESS: 47 } as const;
/** XDP attach flags (linux/if_link.h). */
export const XDP_FLAGS = { SKB_MODE: 1 << 1, DRV_MODE: 1 << 2 } as const;

/**
 * bpf_link_create: a link fd owned by this process. The kernel detaches the program when
 * the last fd closes, so it cannot outlive the agent, even after `kill -9`.
 */
export function linkCreate(
  progFd: number,
  targetFd: number,
  attachType: number,
  flags = 0,
  what = "",
): number {
  const opts = new Uint8Array(64);
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, 64n, true);
  v.setUint32(8, flags, true);
  return check("bpf_link_create", bpf().bpf_link_create(progFd, targetFd, attachType, opts), what);
}

/**
 * bpf_program__attach: attach by the program's section name (tracepoint, raw tracepoint,
 * kprobe, fentry, lsm, ...). The returned link detaches when destroyed or when the process
 * exits, so a `kill -9` leaves nothing attached.
 */
export function programAttach(prog: Pointer, what = ""): Pointer {
  const link = bpf().bpf_program__attach(prog);
  if (link === null) throw new BpfError("bpf_program__attach", errno() || EINVAL, what);
  const err = Number(bpf().libbpf_get_error(link));
  if (err < 0) throw new BpfError("bpf_program__attach", -err, what);
  return link;
}

/** bpf_link__destroy: detach and free a link from `programAttach`. */
export function linkDestroy(link: Pointer): void {
  bpf().bpf_link__destroy(link);
}

/** Every program in an opened object, by name. */
export function listPrograms(obj: Pointer): Map<string, Pointer> {
  const out = new Map<string, Pointer>();
  let p = bpf().bpf_object__next_program(obj, null);
  while (p !== null) {
    out.set(Deno.UnsafePointerView.getCString(bpf().bpf_program__name(p)!), p);
    p = bpf().bpf_object__next_program(obj, p);
  }
  return out;
}

/** enum bpf_tc_attach_point. */
export const TC = { INGRESS: 1, EGRESS: 2, BOTH: 3 } as const;

function tcHook(ifindex: number, point: number): Uint8Array<ArrayBuffer> {
  const hook = new Uint8Array(24);
  const v = new DataView(hook.buffer);
  v.setBigUint64(0, 24n, true);
  v.setInt32(8, ifindex, true);
  v.setUint32(12, point, true);
  return hook;
}

/** bpf_tc_hook_create (the clsact qdisc); EEXIST when it is already there is not an error. */
export function tcHookCreate(ifindex: number, point: number): boolean {
  const rc = bpf().bpf_tc_hook_create(tcHook(ifindex, point));
  if (rc === -EEXIST) return false;
  check("bpf_tc_hook_create", rc, `ifindex ${ifindex}`);
  return true;
}

export function tcHookDestroy(ifindex: number, point: number): void {
  found(
    "bpf_tc_hook_destroy",
    bpf().bpf_tc_hook_destroy(tcHook(ifindex, point)),
    `ifindex ${ifindex}`,
  );
}

/** A classic tc filter (netlink); unlike a link it survives the process. */
export interface TcFilter {
  ifindex: number;
  point: number;
  handle: number;
  priority: number;
}

export function tcAttach(
  ifindex: number,
  point: number,
  progFd: number,
  handle = 1,
  priority = 1,
): TcFilter {
  const opts = new Uint8Array(32);
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, 32n, true);
  v.setInt32(8, progFd, true);
  v.setUint32(20, handle, true);
  v.setUint32(24, priority, true);
  check("bpf_tc_attach", bpf().bpf_tc_attach(tcHook(ifindex, point), opts), `ifindex ${ifindex}`);
  return { ifindex, point, handle: v.getUint32(20, true), priority: v.getUint32(24, true) };
}

export function tcDetach(f: TcFilter): void {
  const opts = new Uint8Array(32);
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, 32n, true);
  v.setUint32(20, f.handle, true);
  v.setUint32(24, f.priority, true);
  found(
    "bpf_tc_detach",
    bpf().bpf_tc_detach(tcHook(f.ifindex, f.point), opts),
    `ifindex ${f.ifindex}`,
  );
}

// --- maps -------------------------------------------------------------------------------

export const MAP_UPDATE = { ANY: 0n, NOEXIST: 1n, EXIST: 2n } as const;

export function mapUpdate(
  fd: number,
  key: Uint8Array<ArrayBuffer>,
  value: Uint8Array<ArrayBuffer>,
  flags = MAP_UPDATE.ANY,
): void {
  check("bpf_map_update_elem", bpf().bpf_map_update_elem(fd, key, value, flags), `map fd ${fd}`);
}

/** The value under `key` into `out`; false when there is none. */
export function mapLookup(
  fd: number,
  key: Uint8Array<ArrayBuffer>,
  out: Uint8Array<ArrayBuffer>,
): boolean {
  return found("bpf_map_lookup_elem", bpf().bpf_map_lookup_elem(fd, key, out), `map fd ${fd}`);
}

/** Delete `key`; false when it was not there. */
export function mapDelete(fd: number, key: Uint8Array<ArrayBuffer>): boolean {
  return found("bpf_map_delete_elem", bpf().bpf_map_delete_elem(fd, key), `map fd ${fd}`);
}

/** The key after `key` (the first key when `key` is null) into `out`; false at the end. */
export function mapNextKey(
  fd: number,
  key: Uint8Array<ArrayBuffer> | null,
  out: Uint8Array<ArrayBuffer>,
): boolean {
  return found("bpf_map_get_next_key", bpf().bpf_map_get_next_key(fd, key, out), `map fd ${fd}`);
}

/**
 * bpf_map_update_batch: `count` keys and values packed back to back. Returns how many the
 * kernel wrote (all of them unless it throws).
 */
export function mapUpdateBatch(
  fd: number,
  keys: Uint8Array<ArrayBuffer>,
  values: Uint8Array<ArrayBuffer>,
  count: number,
): number {
  const n = new Uint32Array([count]);
  const opts = new Uint8Array(24);
  new DataView(opts.buffer).setBigUint64(0, 24n, true);
  check(
    "bpf_map_update_batch",
    bpf().bpf_map_update_batch(fd, keys, values, new Uint8Array(n.buffer), opts),
    `map fd ${fd}, ${count} entries`,
  );
  return n[0];
}

// --- ring buffer ------------------------------------------------------------------------

/** A libbpf ring_buffer and the callback it calls, freed together. */
const SAMPLE_FN = { parameters: ["pointer", "pointer", "usize"], result: "i32" } as const;

export interface RingBuffer {
  rb: Pointer;
  callback: Deno.UnsafeCallback<typeof SAMPLE_FN>;
}

/**
 * ring_buffer__new over a RINGBUF map. `onRecord` gets a copy of each record; it runs
 * synchronously inside `ringBufferConsume`, on the JS thread, so nothing blocks the loop.
 */
export function ringBufferNew(mapFd: number, onRecord: (record: Uint8Array) => void): RingBuffer {
  const callback = new Deno.UnsafeCallback(
    SAMPLE_FN,
    (_ctx, data, size) => {
      if (data) {
        const len = Number(size);
        onRecord(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(data, len).slice(0)));
      }
      return 0;
    },
  );
  const rb = bpf().ring_buffer__new(mapFd, callback.pointer, null, null);
  if (rb === null) {
    callback.close();
    throw new BpfError("ring_buffer__new", errno() || EINVAL, `map fd ${mapFd}`);
  }
  return { rb, callback };
}

/** Drain every record available now, without waiting; returns how many were read. */
export function ringBufferConsume(r: RingBuffer): number {
  return check("ring_buffer__consume", bpf().ring_buffer__consume(r.rb));
}

/** The epoll fd that becomes readable when the ring buffer has records (to wait on). */
export function ringBufferEpollFd(r: RingBuffer): number {
  return check("ring_buffer__epoll_fd", bpf().ring_buffer__epoll_fd(r.rb));
}

export function ringBufferFree(r: RingBuffer): void {
  bpf().ring_buffer__free(r.rb);
  r.callback.close();
}
