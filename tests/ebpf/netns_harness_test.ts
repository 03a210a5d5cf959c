/**
 * Self-test of the veth/netns harness (tests/helpers/netns.ts) and of the raw frame sender
 * (tests/fixtures/xdp/send_frames.py) that the XDP/TC tests build on.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import {
  createVethPair,
  exec,
  leftoverLinks,
  leftoverNamespaces,
  linkStat,
  SEND_FRAMES,
  sendFrames,
  type SendFramesOptions,
  type VethPair,
  waitQuiet,
  withVethPair,
} from "../helpers/netns.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

// ---------------------------------------------------------------------------------------
// Frame decoding, independent of send_frames.py, to check its bytes.

function sum16(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

interface Decoded {
  tags: { tpid: number; id: number }[];
  ipVersion: number;
  l4Offset: number;
  ipHeaderLen: number;
  nextHeaders: number[];
  proto: number;
  tcpFlags?: number;
  dport: number;
  l4ChecksumOk: boolean;
  ipChecksumOk: boolean;
}

function decode(hex: string): Decoded {
  const f = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const dv = new DataView(f.buffer);
  let off = 12;
  const tags: { tpid: number; id: number }[] = [];
  let type = dv.getUint16(off);
  while (type === 0x8100 || type === 0x88a8) {
    tags.push({ tpid: type, id: dv.getUint16(off + 2) & 0x0fff });
    off += 4;
    type = dv.getUint16(off);
  }
  const ip = off + 2;
  let l4: number, proto: number, pseudo: Uint8Array, ipChecksumOk = true;
  const nextHeaders: number[] = [];
  let ipHeaderLen: number;
  if (type === 0x0800) {
    ipHeaderLen = (f[ip] & 0x0f) * 4;
    ipChecksumOk = sum16(f.subarray(ip, ip + ipHeaderLen)) === 0xffff;
    proto = f[ip + 9];
    l4 = ip + ipHeaderLen;
    const len = dv.getUint16(ip + 2) - ipHeaderLen;
    pseudo = concat(f.subarray(ip + 12, ip + 20), new Uint8Array([0, proto, len >> 8, len & 0xff]));
  } else {
    assertEquals(type, 0x86dd);
    ipHeaderLen = 40;
    let nh = f[ip + 6];
    l4 = ip + 40;
    nextHeaders.push(nh);
    while (nh === 0 || nh === 60) {
      nh = f[l4];
      l4 += (f[l4 + 1] + 1) * 8;
      nextHeaders.push(nh);
    }
    proto = nh;
    const len = f.length - l4;
    pseudo = concat(
      f.subarray(ip + 8, ip + 40),
      new Uint8Array([0, 0, len >> 8, len & 0xff, 0, 0, 0, proto]),
    );
  }
  const seg = f.subarray(l4);
  return {
    tags,
    ipVersion: f[ip] >> 4,
    l4Offset: l4,
    ipHeaderLen,
    nextHeaders,
    proto,
    tcpFlags: proto === 6 ? seg[13] : undefined,
    dport: (seg[2] << 8) | seg[3],
    l4ChecksumOk: sum16(concat(pseudo, seg)) === 0xffff,
    ipChecksumOk,
  };
}

const MACS = ["--src-mac", "02:00:00:00:00:01", "--dst-mac", "02:00:00:00:00:02"];
const V4 = ["--src", "198.18.5.2", "--dst", "198.18.5.1"];
const V6 = ["--src", "2001:db8:12:5::2", "--dst", "2001:db8:12:5::1"];

async function hexFrames(args: string[]): Promise<Decoded[]> {
  const r = await exec(["python3", SEND_FRAMES, "--hex", ...MACS, ...args], { timeoutMs: 20_000 });
  assertEquals(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n").map(decode);
}

let python: boolean | undefined;
async function havePython(): Promise<boolean> {
  python ??= (await exec(["python3", "--version"], { timeoutMs: 10_000 })).code === 0;
  return requirePart("python3", python);
}

Deno.test("send_frames.py writes well-formed frames", async (t) => {
  if (!await havePython()) return;

  await t.step("IPv4 SYN: one frame per port, checksums correct", async () => {
    const frames = await hexFrames([...V4, "--kind", "syn", "--ports", "20000-20004"]);
    assertEquals(frames.map((d) => d.dport), [20000, 20001, 20002, 20003, 20004]);
    for (const d of frames) {
      assertEquals([d.ipVersion, d.proto, d.tcpFlags, d.l4Offset], [4, 6, 0x02, 34]);
      assert(d.ipChecksumOk && d.l4ChecksumOk);
    }
  });

  await t.step("IPv4 options push TCP to 14 + 32", async () => {
    const [d] = await hexFrames([...V4, "--kind", "syn-ipopts"]);
    assertEquals([d.ipHeaderLen, d.l4Offset, d.tcpFlags], [32, 46, 0x02]);
    assert(d.ipChecksumOk && d.l4ChecksumOk);
  });

  await t.step("IPv6 SYN, plain and behind Hop-by-Hop + Destination Options", async () => {
    const [plain] = await hexFrames([...V6, "--kind", "syn6"]);
    assertEquals([plain.ipVersion, plain.l4Offset, plain.nextHeaders], [6, 54, [6]]);
    assert(plain.l4ChecksumOk);
    const [ext] = await hexFrames([...V6, "--kind", "syn6-ext"]);
    assertEquals([ext.l4Offset, ext.nextHeaders, ext.tcpFlags], [70, [0, 60, 6], 0x02]);
    assert(ext.l4ChecksumOk);
  });

  await t.step("UDP over IPv4 and IPv6", async () => {
    for (const addrs of [V4, V6]) {
      const [d] = await hexFrames([...addrs, "--kind", "udp", "--ports", "53"]);
      assertEquals([d.proto, d.dport], [17, 53]);
      assert(d.ipChecksumOk && d.l4ChecksumOk);
    }
  });

  await t.step("VLAN tags: 802.1Q, and 802.1ad outer + 802.1Q inner", async () => {
    const [one] = await hexFrames([...V4, "--kind", "syn", "--vlan", "10"]);
    assertEquals([one.tags, one.l4Offset], [[{ tpid: 0x8100, id: 10 }], 38]);
    const [two] = await hexFrames([...V6, "--kind", "syn6-ext", "--vlan", "100,10"]);
    assertEquals(two.tags, [{ tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 10 }]);
    assertEquals(two.l4Offset, 78);
    assert(one.l4ChecksumOk && two.l4ChecksumOk && one.ipChecksumOk);
  });

  await t.step("--count repeats, varying the source port", async () => {
    const frames = await hexFrames([...V4, "--kind", "syn", "--ports", "22", "--count", "3"]);
    assertEquals(frames.map((d) => d.dport), [22, 22, 22]);
  });

  await t.step("refuses destinations outside 198.18.0.0/15 and 2001:db8::/32", async () => {
    for (const dst of ["192.0.2.1", "198.20.0.1", "2001:db9::1", "fd00::1"]) {
      const src = dst.includes(":") ? "2001:db8::2" : "198.18.0.2";
      const r = await exec(
        ["python3", SEND_FRAMES, "--hex", ...MACS, "--src", src, "--dst", dst, "--kind", "udp"],
        { timeoutMs: 10_000 },
      );
      assertEquals(r.code, 2, dst);
      assertMatch(r.stderr, /refusing destination/);
    }
  });

  await t.step("refuses more than 1,000,000 frames", async () => {
    const r = await exec(
      [
        "python3",
        SEND_FRAMES,
        "--hex",
        ...MACS,
        ...V4,
        "--kind",
        "syn",
        "--ports",
        "1-1000",
        "--count",
        "1001",
      ],
      { timeoutMs: 10_000 },
    );
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /at most 1000000/);
  });
});

// ---------------------------------------------------------------------------------------
// Real pairs (root).

/** Send frames and return how much the outer device's rx_packets grew. */
async function rxGrowth(p: VethPair, dev: string, o: SendFramesOptions): Promise<number> {
  const before = await linkStat(dev);
  const sent = await sendFrames(p, o);
  assertEquals(sent, (o.count ?? 1) * (typeof o.ports === "string" ? 1 : o.ports?.length ?? 1));
  // veth counts a frame on the receiver when the sender queues it; allow a moment anyway.
  let grown = 0;
  for (let i = 0; i < 20; i++) {
    grown = (await linkStat(dev)) - before;
    if (grown >= sent) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return grown;
}

function ownNamespaces(names: string[]): string[] {
  return names.filter((n) => n.startsWith(`ipt-${Deno.pid}-`));
}

Deno.test("veth pair in a namespace", async (t) => {
  if (!requireRoot() || !await havePython()) return;
  const p = await createVethPair({ extraIps: 2 });
  try {
    await t.step("names, addresses and indexes", async () => {
      assertMatch(p.ns, new RegExp(`^ipt-${Deno.pid}-\\d+$`));
      for (const name of [p.inner, p.outer]) assert(name.length <= 15, name);
      assert(p.inner !== p.outer);
      assert(ownNamespaces(await leftoverNamespaces()).includes(p.ns));
      const ifindex = Number((await Deno.readTextFile(`/sys/class/net/${p.outer}/ifindex`)).trim());
      assertEquals(p.outerIndex, ifindex);
      assertMatch(p.outerIp, /^198\.18\.\d+\.1$/);
      assertEquals(p.extraIps.length, 2);
      assertMatch(p.innerMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert(p.outerMac !== p.innerMac);
      assertEquals(p.innerIp6, `2001:db8:12:${p.subnetIndex}::2`);
      const r = await p.run(["ip", "-j", "addr", "show", "dev", p.inner]);
      assertEquals(r.code, 0, r.stderr);
      for (const ip of [p.innerIp, ...p.extraIps, p.innerIp6]) {
        assert(r.stdout.includes(`"${ip}"`), ip);
      }
    });

    await t.step("the same subnet cannot be taken twice", async () => {
      const e = await assertRejects(createVethPair({ subnetIndex: p.subnetIndex }));
      assertMatch((e as Error).message, /already in use/);
    });

    await t.step("ping over IPv4, also from an extra address, and IPv6", async () => {
      for (
        const argv of [
          ["ping", "-c", "1", "-W", "1", p.outerIp],
          ["ping", "-c", "1", "-W", "1", "-I", p.extraIps[1], p.outerIp],
          ["ping", "-6", "-c", "1", "-W", "1", p.outerIp6],
        ]
      ) {
        const r = await p.run(argv, { timeoutMs: 5000 });
        assertEquals(r.code, 0, `${argv.join(" ")}: ${r.stdout}${r.stderr}`);
      }
    });

    await t.step("raw frames of each kind reach the outer end", async () => {
      const cases: SendFramesOptions[] = [
        { kind: "syn", ports: "20000", count: 5 },
        { kind: "syn", ports: [20000, 20001, 20002, 20003, 20004] },
        { kind: "syn-ipopts", ports: "22", count: 5 },
        { kind: "syn6", ports: "22", count: 5 },
        { kind: "syn6-ext", ports: "22", count: 5 },
        { kind: "udp", ports: "53", count: 5 },
        { kind: "syn", ports: "80", count: 5, src: p.extraIps[0] },
      ];
      for (const c of cases) {
        const grown = await rxGrowth(p, p.outer, c);
        assert(grown >= 5, `${JSON.stringify(c)}: rx_packets grew by ${grown}`);
      }
    });

    await t.step("pacing: 10 frames at 100 pps take about 0.1 s", async () => {
      const t0 = performance.now();
      await sendFrames(p, { kind: "udp", count: 10, pps: 100 });
      assert(performance.now() - t0 >= 80);
    });

    await t.step("run: stdin, exit codes and the timeout kill", async () => {
      const cat = await p.run(["cat"], { stdin: "hello", timeoutMs: 5000 });
      assertEquals([cat.code, cat.stdout], [0, "hello"]);
      assertEquals((await p.run(["false"])).code, 1);
      const t0 = performance.now();
      const slow = await p.run(["sleep", "30"], { timeoutMs: 300 });
      assertEquals(slow.code, 124);
      assertMatch(slow.stderr, /killed after 300 ms/);
      assert(performance.now() - t0 < 5000);
    });
  } finally {
    await p.destroy();
  }

  await t.step("destroy removes the namespace and both ends; twice is fine", async () => {
    assert(!ownNamespaces(await leftoverNamespaces()).includes(p.ns));
    assert(!(await leftoverLinks()).includes(p.outer));
    const gone = await exec(["ip", "link", "show", "dev", p.outer]);
    assert(gone.code !== 0);
    await p.destroy();
  });
});

Deno.test("exact counts: static neighbours and a quiet link", async () => {
  if (!requireRoot() || !await havePython()) return;
  await withVethPair(async (p) => {
    assert(await waitQuiet(p), "the new pair did not go quiet within 5 s");
    // The root namespace answers the SYNs with RSTs; with permanent neighbour entries that
    // needs no ARP/NDP, so the outer end receives exactly the frames sent.
    for (const kind of ["syn", "syn6"] as const) {
      const before = await linkStat(p.outer);
      assertEquals(await sendFrames(p, { kind, ports: "20000-20009" }), 10);
      await new Promise((r) => setTimeout(r, 200));
      assertEquals((await linkStat(p.outer)) - before, 10, kind);
    }
  }, { staticNeighbors: true, extraIps: 0 });
});

for (const vlan of [[10], [100, 10]]) {
  Deno.test(`VLAN ${vlan.join(",")}: tagged frames reach the outer parent`, async (t) => {
    if (!requireRoot() || !await havePython()) return;
    let ns = "";
    await withVethPair(async (p) => {
      ns = p.ns;
      assertEquals(p.vlan, vlan);
      if (!p.vlanDevices) console.warn(`no VLAN devices on this kernel; raw tagged frames only`);

      await t.step("tagged SYNs (IPv4, IPv4 options, IPv6 ext headers)", async () => {
        for (const kind of ["syn", "syn-ipopts", "syn6-ext"] as const) {
          const grown = await rxGrowth(p, p.outer, { kind, ports: "22", count: 5 });
          assert(grown >= 5, `${kind}: rx_packets on ${p.outer} grew by ${grown}`);
        }
      });

      if (p.vlanDevices) {
        await t.step("ping over the VLAN devices", async () => {
          const before = await linkStat(p.vlanOuter!);
          const r = await p.run(["ping", "-c", "1", "-W", "1", p.vlanOuterIp!], {
            timeoutMs: 5000,
          });
          assertEquals(r.code, 0, r.stdout + r.stderr);
          assert((await linkStat(p.vlanOuter!)) > before);
        });
      }
    }, { vlan, extraIps: 0 });
    assert(!ownNamespaces(await leftoverNamespaces()).includes(ns));
  });
}

Deno.test("a failed creation tears down what it made", async () => {
  if (!requireRoot()) return;
  const nsBefore = ownNamespaces(await leftoverNamespaces());
  const linksBefore = await leftoverLinks();
  // 4095 is not a usable VLAN id (and some kernels have no VLAN devices at all): `ip` fails
  // after the namespace and the veth pair exist.
  const e = await assertRejects(createVethPair({ vlan: [4095], requireVlanDevices: true }));
  assertMatch(
    (e as Error).message,
    /`ip link add link ipt\w+ name ipt\w+ type vlan id 4095` failed/,
  );
  assertEquals(ownNamespaces(await leftoverNamespaces()), nsBefore);
  assertEquals(await leftoverLinks(), linksBefore);
});

Deno.test("withVethPair destroys the pair when the callback throws", async () => {
  if (!requireRoot()) return;
  let ns = "";
  const e = await assertRejects(withVethPair((p) => {
    ns = p.ns;
    return Promise.reject(new Error("boom"));
  }));
  assertEquals((e as Error).message, "boom");
  assert(ns !== "" && !ownNamespaces(await leftoverNamespaces()).includes(ns));
});
