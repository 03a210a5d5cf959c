/**
 * Run a command under a seccomp allow list, as systemd's SystemCallFilter= does: the test
 * of the unit's filter (tests/daemon/unit_test.ts). Not a test itself.
 *
 * Usage: deno run --allow-ffi --allow-run seccomp_exec.ts SYSCALLS_JSON -- CMD ARGS…
 * Every syscall not in SYSCALLS_JSON fails with EPERM (SystemCallErrorNumber=EPERM). The
 * filter is synchronised to all of this process's threads (TSYNC), so the child inherits it.
 */
const [list, sep, cmd, ...args] = Deno.args;
if (sep !== "--" || !cmd) throw new Error("usage: seccomp_exec.ts SYSCALLS_JSON -- CMD ARGS…");
const allowed: string[] = JSON.parse(list);

const lib = Deno.dlopen("libseccomp.so.2", {
  seccomp_init: { parameters: ["u32"], result: "pointer" },
  seccomp_syscall_resolve_name: { parameters: ["buffer"], result: "i32" },
  seccomp_rule_add_array: {
    parameters: ["pointer", "u32", "i32", "u32", "pointer"],
    result: "i32",
  },
  seccomp_attr_set: { parameters: ["pointer", "i32", "u32"], result: "i32" },
  seccomp_load: { parameters: ["pointer"], result: "i32" },
});
const SCMP_ACT_ALLOW = 0x7fff0000;
const SCMP_ACT_ERRNO_EPERM = 0x00050000 | 1;
const SCMP_FLTATR_CTL_TSYNC = 4;
const cstr = (s: string) => new TextEncoder().encode(s + "\0");

const ctx = lib.symbols.seccomp_init(SCMP_ACT_ERRNO_EPERM);
if (ctx === null) throw new Error("seccomp_init failed");
for (const name of allowed) {
  const nr = lib.symbols.seccomp_syscall_resolve_name(cstr(name));
  if (nr < 0) continue; // not a syscall on this architecture
  const rc = lib.symbols.seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 0, null);
  if (rc !== 0 && rc !== -17) throw new Error(`seccomp_rule_add ${name}: ${rc}`);
}
if (lib.symbols.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) !== 0) {
  throw new Error("seccomp_attr_set TSYNC failed");
}
const rc = lib.symbols.seccomp_load(ctx);
if (rc !== 0) throw new Error(`seccomp_load: ${rc}`);
const st = await new Deno.Command(cmd, { args, stdin: "null" }).spawn().status;
Deno.exit(st.code);
