/**
 * C/TS drift check: the record layouts in mod/sensors/layout.ts must match the BTF of the
 * committed bpf/sensors.bpf.o (decoded with bpftool), member by member; so must the enums
 * the decoders compare with and the program names the sensor descriptors attach.
 */
import { layout, SENSORS } from "../../mod/sensors/mod.ts";
import { assertEquals } from "../helpers/assert.ts";
import { readBtf } from "../helpers/btf.ts";
import { requirePart } from "../helpers/require.ts";

Deno.test("sensors.h layouts match the object's BTF", async (t) => {
  const found = await readBtf("sensors.bpf.o");
  if (!requirePart("bpftool (Debian package bpftool)", found !== undefined)) return;
  const btf = found!;

  await t.step("sizes", () => {
    for (const [name, size] of Object.entries(layout.SIZE)) {
      assertEquals(btf.struct(name).size, size, name);
    }
  });

  for (const [name, fields] of Object.entries(layout.OFFSETS)) {
    await t.step(`struct ${name} offsets`, () => {
      const o = btf.offsets(name);
      assertEquals(Object.keys(o).sort(), Object.keys(fields).sort(), `${name} members`);
      for (const [field, off] of Object.entries(fields)) assertEquals(o[field], off, field);
    });
  }

  await t.step("enum rec_type values", () => {
    const v = btf.enumValues("rec_type");
    assertEquals(v.REC_EXEC, layout.REC.EXEC);
    assertEquals(v.REC_EXIT, layout.REC.EXIT);
    assertEquals(v.REC_FILE, layout.REC.FILE);
    assertEquals(v.REC_NET, layout.REC.NET);
    assertEquals(v.REC_COMM, layout.REC.COMM);
    assertEquals(v.REC_TYPE_MAX, layout.REC_TYPE_MAX);
  });

  await t.step("enum file_op, net_op, net_result and counter_kind values", () => {
    const prefixed = (table: Record<string, number>, prefix: string) =>
      Object.fromEntries(Object.entries(table).map(([k, v]) => [`${prefix}${k}`, v]));
    assertEquals(btf.enumValues("file_op"), prefixed(layout.FILE_OP, "FILE_"));
    assertEquals(btf.enumValues("net_op"), prefixed(layout.NET_OP, "NET_"));
    assertEquals(btf.enumValues("net_result"), prefixed(layout.NET_RESULT, "NET_RESULT_"));
    assertEquals(
      btf.enumValues("counter_kind"),
      Object.fromEntries(layout.COUNTER_KINDS.map((k, i) => [`CNT_${k.toUpperCase()}`, i])),
    );
  });

  await t.step("every program belongs to exactly one sensor descriptor", () => {
    const claimed = SENSORS.flatMap((d) => d.programs);
    assertEquals(claimed.length, new Set(claimed).size, "a program in two descriptors");
    assertEquals(claimed.toSorted(), btf.programs().toSorted());
  });

  await t.step("every record type has one descriptor", () => {
    assertEquals(SENSORS.map((d) => d.rec).toSorted(), Object.values(layout.REC).toSorted());
  });
});
