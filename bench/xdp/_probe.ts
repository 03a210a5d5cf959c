import { XdpFilter } from "../../mod/ebpf/filter.ts";
import { XDP_OBJECT_PATH } from "../../mod/ebpf/module.ts";
import { type Cidr, parseCidr } from "../../mod/core/cidr.ts";
const obj = await Deno.readFile(XDP_OBJECT_PATH);
const f = XdpFilter.open(obj, {
  ifname: "iptbr0",
  mode: "xdp",
  xdpMode: "native",
  maxDecisions: 100000,
  listCapacity: 2_000_000,
  config: {
    synRate: 200,
    synBurst: 400,
    scanWindowNs: 10_000_000_000n,
    scanThreshold: 50,
    scanBlock: false,
    sampleRate: 1,
  },
});
console.log(f.mode, f.fallback);
const list: Cidr[] = [];
for (let i = 0; i < 10000; i++) {
  list.push(parseCidr(`198.18.${(i >> 8) & 0xff}.${i & 0xff}`) as Cidr);
}
list.push(parseCidr("198.18.200.2") as Cidr);
const t = performance.now();
f.replaceList("block", list);
console.log("load ms", performance.now() - t);
const cmd = new Deno.Command("/tmp/run1.sh", { env: { NUM: "1000000" } });
const o = await cmd.output();
console.log(new TextDecoder().decode(o.stdout));
console.log(f.counters().filter((c) => c.packets > 0n));
f.close();
