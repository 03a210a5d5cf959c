/**
 * C/TS drift check: the struct layouts in mod/ebpf/layout.ts must match the BTF of the
 * committed bpf/xdp_filter.bpf.o (decoded with bpftool), member by member.
 */
import { CONFIG_OFFSETS, EVENT_OFFSETS, REASONS, SIZE } from "../../mod/ebpf/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { readBtf } from "../helpers/btf.ts";
import { requirePart } from "../helpers/require.ts";

Deno.test("xdp_filter.h layouts match the object's BTF", async (t) => {
  const found = await readBtf("xdp_filter.bpf.o");
  if (!requirePart("bpftool (Debian package bpftool)", found !== undefined)) return;
  const btf = found!;

  await t.step("sizes", () => {
    for (const [name, size] of Object.entries(SIZE)) {
      assertEquals(btf.struct(name).size, size, name);
    }
  });

  await t.step("struct xdp_event offsets", () => {
    const o = btf.offsets("xdp_event");
    for (const [field, off] of Object.entries(EVENT_OFFSETS)) assertEquals(o[field], off, field);
  });

  await t.step("struct xdp_config offsets", () => {
    const o = btf.offsets("xdp_config");
    for (const [field, off] of Object.entries(CONFIG_OFFSETS)) assertEquals(o[field], off, field);
  });

  await t.step("enum ironpost_reason order", () => {
    const e = btf.types.find((x) => x.kind === "ENUM" && x.name === "ironpost_reason");
    assert(e?.values, "enum ironpost_reason not in BTF");
    for (const [i, r] of REASONS.entries()) {
      assertEquals(e.values.find((v) => v.val === i)?.name, `REASON_${r.toUpperCase()}`);
    }
  });
});
