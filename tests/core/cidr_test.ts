import fc from "fast-check";
import { formatIp, parseCidr, parseIp } from "../../mod/core/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("CIDR and IP parsing", async (t) => {
  await t.step("IPv4 and IPv6 networks", () => {
    const v4 = parseCidr("198.18.0.0/15");
    assert(typeof v4 !== "string");
    assertEquals([v4.family, v4.prefix, [...v4.bytes]], [4, 15, [198, 18, 0, 0]]);
    const v6 = parseCidr("2001:db8::/32");
    assert(typeof v6 !== "string");
    assertEquals([v6.family, v6.prefix, formatIp(v6.bytes)], [6, 32, "2001:db8::"]);
    const host = parseCidr("::ffff:198.18.0.1");
    assert(typeof host !== "string");
    assertEquals(host.prefix, 128);
  });

  await t.step("refusals say why", () => {
    assertEquals(
      parseCidr("198.18.0.1/15"),
      '"198.18.0.1/15" has host bits set below /15; the network is 198.18.0.0/15',
    );
    assertEquals(parseCidr("10.0.0.0/33"), 'prefix "/33" is out of range for IPv4 (0 to 32)');
    assertEquals(parseCidr("2001:db8::/129"), 'prefix "/129" is out of range for IPv6 (0 to 128)');
    assertEquals(parseCidr("300.1.1.1"), '"300.1.1.1" is not an IPv4 or IPv6 address');
    assertEquals(
      parseCidr("1:2:3:4:5:6:7:8:9"),
      '"1:2:3:4:5:6:7:8:9" is not an IPv4 or IPv6 address',
    );
    assertEquals(parseIp("010.0.0.1"), undefined);
    assertEquals(parseIp("1::2::3"), undefined);
  });

  await t.step("IPv6 edge forms", () => {
    const ok = ["::", "::1", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:198.18.0.1"];
    for (const t of ok) assert(parseIp(t), `${t} is an address`);
    const bad = [
      "1:",
      ":1",
      "1::2::3",
      "1:::2",
      ":::",
      "12345::",
      "fe80::1%eth0",
      "1::2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:g",
    ];
    for (const t of bad) assertEquals(parseIp(t), undefined, t);
  });

  await t.step("property: formatting then parsing any address round-trips", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const ip = parseIp(text);
        assert(ip, `failed to parse ${text}`);
        const again = parseIp(formatIp(ip.bytes));
        assertEquals(again?.bytes, ip.bytes);
      }),
      { numRuns: 500 },
    );
  });
});
