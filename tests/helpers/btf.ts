/**
 * The BTF of a committed BPF object, as `bpftool -j btf dump file <obj> format raw` gives it,
 * for the C/TS layout drift tests: struct sizes and member offsets, enum values, functions.
 */
import { ROOT } from "./agent.ts";
import { assert } from "./assert.ts";

export interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  /** FUNC: `global` for a BPF program, `static` for a helper. */
  linkage?: string;
  members?: { name: string; bits_offset: number }[];
  values?: { name: string; val: number }[];
}

/** The types of `bpf/<object>`; undefined when bpftool is not installed. */
export async function readBtf(object: string): Promise<Btf | undefined> {
  try {
    const out = await new Deno.Command("bpftool", {
      args: ["-j", "btf", "dump", "file", `${ROOT}bpf/${object}`, "format", "raw"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return new Btf(JSON.parse(new TextDecoder().decode(out.stdout)).types);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

export class Btf {
  readonly types: BtfType[];

  constructor(types: BtfType[]) {
    this.types = types;
  }

  /** The struct `name` (asserted present). */
  struct(name: string): BtfType {
    const s = this.types.find((x) => x.kind === "STRUCT" && x.name === name);
    assert(s, `struct ${name} not in BTF`);
    return s;
  }

  /** Member name → byte offset of struct `name`. */
  offsets(name: string): Record<string, number> {
    return Object.fromEntries(this.struct(name).members!.map((m) => [m.name, m.bits_offset / 8]));
  }

  /** Enumerator name → value of enum `name` (asserted present). */
  enumValues(name: string): Record<string, number> {
    const e = this.types.find((x) => x.kind === "ENUM" && x.name === name);
    assert(e?.values, `enum ${name} not in BTF`);
    return Object.fromEntries(e.values.map((x) => [x.name, x.val]));
  }

  /** The names of the object's BPF programs (global functions). */
  programs(): string[] {
    return this.types.filter((x) => x.kind === "FUNC" && x.linkage === "global")
      .map((x) => x.name!);
  }
}
