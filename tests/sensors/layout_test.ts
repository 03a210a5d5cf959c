/**
 * C/TS drift check: the record layouts in mod/sensors/layout.ts must match the BTF of the
 * committed bpf/sensors.bpf.o (decoded with bpftool), member by member.
 */
import { layout } from "../../mod/sensors/mod.ts";
import { ROOT } from "../helpers/agent.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

interface BtfType {
  kind: string;
  name?: string;
  size?: number;
  members?: { name: string; bits_offset: number }[];
  values?: { name: string; val: number }[];
}

async function btf(): Promise<BtfType[] | undefined> {
  try {
    const out = await new Deno.Command("bpftool", {
      args: ["-j", "btf", "dump", "file", `${ROOT}bpf/sensors.bpf.o`, "format", "raw"],
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

Deno.test("sensors.h layouts match the object's BTF", async (t) => {
  const types = await btf();
  if (!requirePart("bpftool (Debian package bpftool)", types !== undefined)) return;
  const struct = (name: string) => {
    const s = types!.find((x) => x.kind === "STRUCT" && x.name === name);
    assert(s, `struct ${name} not in BTF`);
    return s;
  };

  await t.step("sizes", () => {
    for (const [name, size] of Object.entries(layout.SIZE)) {
      assertEquals(struct(name).size, size, name);
    }
  });

  for (const [name, fields] of Object.entries(layout.OFFSETS)) {
    await t.step(`struct ${name} offsets`, () => {
      const o = Object.fromEntries(struct(name).members!.map((m) => [m.name, m.bits_offset / 8]));
      assertEquals(Object.keys(o).sort(), Object.keys(fields).sort(), `${name} members`);
      for (const [field, off] of Object.entries(fields)) assertEquals(o[field], off, field);
    });
  }

  await t.step("enum rec_type values", () => {
    const e = types!.find((x) => x.kind === "ENUM" && x.name === "rec_type");
    assert(e?.values);
    const v = Object.fromEntries(e.values.map((x) => [x.name, x.val]));
    assertEquals(v.REC_EXEC, layout.REC.EXEC);
    assertEquals(v.REC_EXIT, layout.REC.EXIT);
    assertEquals(v.REC_FILE, layout.REC.FILE);
    assertEquals(v.REC_NET, layout.REC.NET);
    assertEquals(v.REC_COMM, layout.REC.COMM);
    assertEquals(v.REC_TYPE_MAX, layout.REC_TYPE_MAX);
  });
});
