/**
 * `deno task build:bpf`: compile every `bpf/*.bpf.c` into the committed `bpf/*.bpf.o`.
 *
 * Usage: deno task build:bpf [--check]
 *
 * Each object is built with clang (`-target bpf -O2 -g`, so the object carries BTF) and then
 * `llvm-strip -g`, which drops the DWARF sections but keeps `.BTF`/`.BTF.ext`. Both tools run
 * from the repository root with relative paths, and `-fdebug-compilation-dir=.` keeps the
 * checkout's absolute path out of the BTF line info, so the bytes do not depend on where the
 * repository lives: the same sources and toolchain give the same object.
 *
 * Only committed inputs are read: sources that include `vmlinux.h` (CO-RE programs) get the
 * pinned header in `bpf/include/<arch>/` (its README says which kernel it was dumped from),
 * never the running kernel's BTF, so `--check` gives the same bytes on every machine with the
 * same clang. CO-RE relocations at load time make the object run on other kernels; the header
 * only supplies the type definitions the program names.
 *
 * `--check` builds into temporary files next to the sources and exits 1 when a committed
 * object differs from a fresh build (CI runs this); it leaves the committed objects alone.
 */
import { parseArgs } from "node:util";
import { errorMessage } from "../mod/core/mod.ts";

const BPF_DIR = "bpf";
/** The pinned kernel type header for the one architecture objects are built for today. */
const VMLINUX_DIR = `${BPF_DIR}/include/x86_64`;

const { values } = parseArgs({
  args: Deno.args,
  options: { check: { type: "boolean", default: false } },
});

/** The clang argv for one source (relative paths only, for reproducible output). */
function clangArgs(source: string, output: string): string[] {
  return [
    "-target",
    "bpf",
    "-O2",
    "-g",
    "-fdebug-compilation-dir=.",
    "-D__TARGET_ARCH_x86",
    "-I/usr/include/x86_64-linux-gnu",
    `-I${BPF_DIR}`,
    `-I${VMLINUX_DIR}`,
    "-c",
    source,
    "-o",
    output,
  ];
}

async function run(cmd: string, args: string[]): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "inherit", stderr: "inherit" })
      .output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} not found; install clang and llvm (apt-get install clang llvm)`);
    }
    throw err;
  }
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code})`);
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Build `source` into `output` through `<output>.tmp` (the clang output before stripping). */
async function build(source: string, output: string): Promise<void> {
  const unstripped = `${output}.tmp`;
  try {
    await run("clang", clangArgs(source, unstripped));
    await run("llvm-strip", ["-g", unstripped, "-o", output]);
  } finally {
    await removeIfPresent(unstripped);
  }
}

// Paths are relative to the repository root, where `deno task` runs the script.
const sources: string[] = [];
try {
  for await (const entry of Deno.readDir(BPF_DIR)) {
    if (entry.isFile && entry.name.endsWith(".bpf.c")) sources.push(`${BPF_DIR}/${entry.name}`);
  }
} catch (err) {
  if (!(err instanceof Deno.errors.NotFound)) throw err;
  console.error(
    `build:bpf: no ${BPF_DIR}/ here; run it from the repository root (deno task build:bpf)`,
  );
  Deno.exit(1);
}
sources.sort();
if (sources.length === 0) {
  console.error(`build:bpf: no ${BPF_DIR}/*.bpf.c sources found`);
  Deno.exit(1);
}

let stale = 0;
try {
  try {
    await Deno.stat(`${VMLINUX_DIR}/vmlinux.h`);
  } catch {
    throw new Error(`${VMLINUX_DIR}/vmlinux.h is missing; it is committed (see its README)`);
  }
  for (const source of sources) {
    const object = source.replace(/\.c$/, ".o");
    if (!values.check) {
      await build(source, object);
      console.log(`build:bpf: ${object} (${(await Deno.stat(object)).size} bytes)`);
      continue;
    }
    const fresh = `${object}.check`;
    try {
      await build(source, fresh);
      const built = await Deno.readFile(fresh);
      const committed = await readOrNull(object);
      if (committed === null || !sameBytes(built, committed)) {
        console.error(
          `${object} is out of date; run deno task build:bpf and commit it`,
        );
        stale++;
      } else {
        console.log(`build:bpf: ${object} is up to date`);
      }
    } finally {
      await removeIfPresent(fresh);
    }
  }
} catch (err) {
  console.error(`build:bpf: ${errorMessage(err)}`);
  Deno.exit(1);
}
if (stale > 0) Deno.exit(1);
