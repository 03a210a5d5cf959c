/**
 * C/TS drift check: the struct layouts in mod/ebpf/layout.ts must match the BTF of the
 * committed bpf/xdp_filter.bpf.o (decoded with bpftool), member by member.
 */
import { CONFIG_OFFSETS, EVENT_OFFSETS, REASONS, SIZE } from "../../mod/ebpf/mod.ts";
import { ROOT } from "../helpers/agent.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  members?: { name: string; bits_offset: number }[];
  values?: { name: string; val: number }[];
}

async function btf(): Promise<BtfType[] | undefined> {
  try {
    const out = await new Deno.Command("bpftool", {
      args: ["-j", "btf", "dump", "file", `${ROOT}bpf/xdp_filter.bpf.o`, "format", "raw"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout)).types;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

Deno.test("xdp_filter.h layouts match the object's BTF", async (t) => {
  const types = await btf();
  if (!requirePart("bpftool (Debian package bpftool)", types !== undefined)) return;
  const struct = (name: string) => {
    const s = types!.find((x) => x.kind === "STRUCT" && x.name === name);
    assert(s, `struct ${name} not in BTF`);
    return s;
  };
  const offsets = (name: string) =>
    Object.fromEntries(struct(name).members!.map((m) => [m.name, m.bits_offset / 8]));

  await t.step("sizes", () => {
    for (const [name, size] of Object.entries(SIZE)) assertEquals(struct(name).size, size, name);
  });

  await t.step("struct xdp_event offsets", () => {
    const o = offsets("xdp_event");
    for (const [field, off] of Object.entries(EVENT_OFFSETS)) assertEquals(o[field], off, field);
  });

  await t.step("struct xdp_config offsets", () => {
    const o = offsets("xdp_config");
    for (const [field, off] of Object.entries(CONFIG_OFFSETS)) assertEquals(o[field], off, field);
  });

  await t.step("enum ironpost_reason order", () => {
    const e = types!.find((x) => x.kind === "ENUM" && x.name === "ironpost_reason");
    assert(e?.values, "enum ironpost_reason not in BTF");
    for (const [i, r] of REASONS.entries()) {
      assertEquals(e.values.find((v) => v.val === i)?.name, `REASON_${r.toUpperCase()}`);
    }
  });
});
