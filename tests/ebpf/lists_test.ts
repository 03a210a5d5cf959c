import { IronpostError } from "../../mod/core/mod.ts";
import {
  cidrKey,
  collectCidrs,
  DecisionTable,
  parseTtl,
  readCidrFile,
} from "../../mod/ebpf/mod.ts";
import { FIXTURES } from "../helpers/agent.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

Deno.test("CIDR list files", async (t) => {
  await t.step("one CIDR a line, # comments, blank lines, bare addresses as /32", async () => {
    const list = await readCidrFile(`${FIXTURES}ebpf/allow.txt`);
    assertEquals(list.map((c) => `${c.family}/${c.prefix}`), ["4/24", "6/48", "4/32"]);
  });

  await t.step("every bad line is reported with file:line", async () => {
    const path = `${FIXTURES}ebpf/bad_list.txt`;
    const e = await assertRejects(readCidrFile(path));
    assert(e instanceof IronpostError);
    assertEquals(e.code, "E_LIST_FILE");
    assertEquals(e.message.split("\n").slice(1), [
      `${path}:2: "not-an-ip" is not an IPv4 or IPv6 address`,
      `${path}:3: "198.18.6.1/24" has host bits set below /24; the network is 198.18.6.0/24`,
      `${path}:5: prefix "/129" is out of range for IPv6 (0 to 128)`,
    ]);
  });

  await t.step("inline and file entries merge (duplicates collapse in replaceList)", async () => {
    const list = await collectCidrs(["198.18.0.0/24", "198.18.9.9"], [`${FIXTURES}ebpf/allow.txt`]);
    assertEquals(list.length, 5);
    assertEquals(new Set(list.map(cidrKey)).size, 4);
  });
});

Deno.test("decision table and TTLs", async (t) => {
  await t.step("TTLs", () => {
    assertEquals(
      [parseTtl("90"), parseTtl("30s"), parseTtl("10m"), parseTtl("1h"), parseTtl("7d")],
      [
        90,
        30,
        600,
        3600,
        604800,
      ],
    );
    let msg = "";
    try {
      parseTtl("soon");
    } catch (e) {
      msg = (e as Error).message;
    }
    assertEquals(
      msg,
      'TTL "soon" is not a duration; expected seconds or a number with s, m, h or d (e.g. 10s, 1h)',
    );
  });

  await t.step("set, expire, persist and restore", () => {
    const table = new DecisionTable(10);
    const a = DecisionTable.parse("198.18.0.2");
    const b = DecisionTable.parse("2001:db8::/64");
    assert(typeof a !== "string" && typeof b !== "string");
    table.set(a, { expiresAt: 1000, reason: "ssh brute force", createdAt: 0 });
    table.set(b, { expiresAt: 0, reason: "manual", createdAt: 0 });
    assertEquals(table.list().map((d) => d.cidr), ["198.18.0.2/32", "2001:db8::/64"]);
    assertEquals(table.expired(999).length, 0);
    assertEquals(table.expired(1000).map((d) => d.cidr), ["198.18.0.2/32"]);
    assertEquals(table.reasonId("x"), 1);
    assertEquals(table.reasonId("y"), 2);
    assertEquals(table.reasonId("x"), 1);
    const restored = DecisionTable.fromJSON(table.toJSON());
    assertEquals(restored.decisions, table.list());
    assertEquals(
      DecisionTable.fromJSON('[{"cidr":1}, {"cidr":"198.18.0.1/32","expiresAt":0,"reason":"r"}]')
        .skipped,
      1,
    );
    assertEquals(DecisionTable.fromJSON("not json"), { decisions: [], skipped: 1 });
  });
});

Deno.test("a list file of 200,000 CIDRs loads (no call-stack limit on file size)", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) {
    lines.push(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
  }
  await Deno.writeTextFile(`${dir}/big.txt`, lines.join("\n") + "\n");
  const list = await collectCidrs([], [`${dir}/big.txt`]);
  assertEquals(list.length, 200_000);
  await Deno.remove(dir, { recursive: true });
});
