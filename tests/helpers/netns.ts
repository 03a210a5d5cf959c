/**
 * Network-namespace harness for tests that attach XDP/TC programs to a veth end in the ROOT
 * namespace and send real packets at it from a peer namespace.
 *
 * Each pair is `outer` (root namespace, where the program attaches) <-> `inner` (inside a
 * fresh namespace `ipt-<pid>-<n>`). Addresses are only from 198.18.0.0/15 (IPv4: 198.18.<n>.0/24,
 * VLAN devices 198.19.<n>.0/24) and the documentation prefix 2001:db8::/32 (2001:db8:12:<n>::/64,
 * VLAN devices 2001:db8:13:<n>::/64), and packets never leave the pair: IPv4 forwarding is
 * switched off on the outer devices.
 *
 * Needs root, `ip` (iproute2) and, to switch off the offloads that hide headers from XDP,
 * `ethtool` (Debian package `ethtool`; without it the pair still works, with a warning).
 * Raw frames are sent with `tests/fixtures/xdp/send_frames.py` (python3, stdlib only), see
 * `sendFrames`.
 *
 * Every command runs with a timeout and is killed when it runs over; a failed creation tears
 * down what it made and throws with the failing command and its stderr; `withVethPair` always
 * destroys. Pairs still alive when the process unloads are removed synchronously.
 */
import { fileURLToPath } from "node:url";

export const SEND_FRAMES = fileURLToPath(
  new URL("../fixtures/xdp/send_frames.py", import.meta.url),
);

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this long; default 30 s. The result has code 124 then. */
  timeoutMs?: number;
  /** Written to the command's stdin. */
  stdin?: string;
}

export interface VethPair {
  /** Namespace holding the sender end, `ipt-<pid>-<n>`. */
  ns: string;
  /** Sender-side interface (inside `ns`). */
  inner: string;
  /** Root-namespace interface, where XDP/TC programs attach. */
  outer: string;
  /** ifindex of `outer` in the root namespace. */
  outerIndex: number;
  /** ifindex of `inner` inside `ns`. */
  innerIndex: number;
  /** The /24 third octet: 198.18.<subnetIndex>.0/24. */
  subnetIndex: number;
  outerIp: string;
  /** Primary sender address. */
  innerIp: string;
  /** More sender addresses on `inner` (198.18.<n>.3, .4, ...) for multi-source tests. */
  extraIps: string[];
  outerIp6: string;
  innerIp6: string;
  innerMac: string;
  outerMac: string;
  /** True when `ethtool` switched off tx checksum and VLAN offloads on both ends. */
  offloadsOff: boolean;
  /** VLAN tags asked for ([] for none): [10] or [100, 10] (802.1ad outer, 802.1Q inner). */
  vlan: number[];
  /**
   * True when VLAN devices were created on both sides (the kernel may lack 802.1Q support,
   * CONFIG_VLAN_8021Q; tagged raw frames still reach `outer` and its XDP program then).
   */
  vlanDevices: boolean;
  /** Topmost VLAN device in the root namespace (the 802.1Q one), when `vlanDevices`. */
  vlanOuter?: string;
  /** Topmost VLAN device inside `ns`, when `vlanDevices`. */
  vlanInner?: string;
  /** 198.19.<n>.1 on `vlanOuter`, when `vlanDevices`. */
  vlanOuterIp?: string;
  /** 198.19.<n>.2 on `vlanInner`, when `vlanDevices`. */
  vlanInnerIp?: string;
  vlanOuterIp6?: string;
  vlanInnerIp6?: string;
  /** Run `ip netns exec <ns> ...cmd` (argv, no shell), killed after `timeoutMs`. */
  run(cmd: string[], opts?: RunOptions): Promise<CmdResult>;
  /** Remove the namespace and the links; safe to call more than once. */
  destroy(): Promise<void>;
}

export interface VethPairOptions {
  /** Third octet of 198.18.<n>.0/24 (0 to 255); default: the next free one from a pid-based start. */
  subnetIndex?: number;
  /** How many extra sender addresses to put on `inner` (default 4: .3 to .6; at most 200). */
  extraIps?: number;
  /** VLAN tags: [10] for one 802.1Q tag, [100, 10] for 802.1ad 100 then 802.1Q 10. */
  vlan?: number[];
  /** Throw when the kernel cannot create VLAN devices (default: carry on without them). */
  requireVlanDevices?: boolean;
  /**
   * Switch GRO on for `inner`, which gives a veth its NAPI context without an XDP program:
   * needed for frames an XDP program on `outer` sends back with XDP_TX or redirects into
   * `inner` (native XDP); not needed for packets going from `inner` to `outer`.
   */
  peerGro?: boolean;
  /**
   * Add permanent neighbour entries (ARP and NDP) for all the pair's addresses on both sides,
   * so no ARP/neighbour-discovery frames mix with the test's own (see `waitQuiet`).
   */
  staticNeighbors?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const SETUP_TIMEOUT_MS = 10_000;
const dec = new TextDecoder();

/**
 * Run argv with a timeout; on timeout the child is killed with SIGKILL and the result has
 * code 124 and a note in stderr. A missing program gives code 127.
 */
export async function exec(argv: string[], opts: RunOptions = {}): Promise<CmdResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${argv[0]}: command not found` };
    }
    throw e;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, timeoutMs);
  try {
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      try {
        await w.write(new TextEncoder().encode(opts.stdin));
        await w.close();
      } catch { /* the child may exit without reading */ }
    }
    const out = await child.output();
    const stderr = dec.decode(out.stderr);
    if (timedOut) {
      return {
        code: 124,
        stdout: dec.decode(out.stdout),
        stderr: `${stderr}\n[killed after ${timeoutMs} ms: ${argv.join(" ")}]`,
      };
    }
    return { code: out.code, stdout: dec.decode(out.stdout), stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Run argv and throw (with the command and its stderr) unless it exits 0. */
async function must(argv: string[], timeoutMs = SETUP_TIMEOUT_MS): Promise<CmdResult> {
  const r = await exec(argv, { timeoutMs });
  if (r.code !== 0) {
    throw new Error(`\`${argv.join(" ")}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return r;
}

let ethtoolPresent: boolean | undefined;
let vlanWarned = false;
async function haveEthtool(): Promise<boolean> {
  if (ethtoolPresent === undefined) {
    ethtoolPresent = (await exec(["ethtool", "--version"], { timeoutMs: 5000 })).code === 0;
    if (!ethtoolPresent) {
      console.warn(
        "netns: ethtool not found (Debian package `ethtool`); veth tx checksum and VLAN " +
          "offloads stay on, so XDP may see partial checksums and lifted VLAN tags",
      );
    }
  }
  return ethtoolPresent;
}

/** Offloads that hide or defer header bytes XDP/TC programs look at. */
const OFFLOADS_OFF =
  "tx off rxvlan off txvlan off tx-vlan-stag-hw-insert off rx-vlan-stag-hw-parse off".split(" ");

// Names: "ipt" + a 4-character per-process tag (3 from the pid, 1 random, so runs in other
// processes or pid namespaces sharing this network namespace do not collide) + the counter
// in base 36 + a role letter + VLAN suffix: at most 3 + 4 + 3 + 1 + 2 = 13 <= 15 characters.
const TAG = (Deno.pid % 46656).toString(36).padStart(3, "0") +
  Math.floor(Math.random() * 36).toString(36);
let counter = 0;
let subnetCursor = (Deno.pid % 250) + 1;

/** Pairs not yet destroyed, removed synchronously if the process unloads with them. */
const live = new Map<string, { ns: string; outer: string }>();
globalThis.addEventListener("unload", () => {
  for (const { ns, outer } of live.values()) {
    for (const args of [["link", "del", outer], ["netns", "del", ns]]) {
      try {
        new Deno.Command("ip", { args, stdout: "null", stderr: "null" }).outputSync();
      } catch { /* best effort */ }
    }
  }
  live.clear();
});

/** Third octets of 198.18.x.y and 198.19.x.y addresses in use in the root namespace. */
async function usedSubnets(): Promise<{ v4: Set<number>; vlan: Set<number> }> {
  const r = await must(["ip", "-j", "-4", "addr", "show"]);
  const v4 = new Set<number>();
  const vlan = new Set<number>();
  const links = JSON.parse(r.stdout || "[]") as { addr_info?: { local?: string }[] }[];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      const m = /^198\.(18|19)\.(\d+)\./.exec(a.local ?? "");
      if (m) (m[1] === "18" ? v4 : vlan).add(Number(m[2]));
    }
  }
  return { v4, vlan };
}

async function pickSubnet(wantVlan: boolean): Promise<number> {
  const used = await usedSubnets();
  for (let i = 0; i < 250; i++) {
    const n = subnetCursor;
    subnetCursor = (subnetCursor % 250) + 1;
    if (!used.v4.has(n) && !(wantVlan && used.vlan.has(n))) return n;
  }
  throw new Error("netns: no free 198.18.<n>.0/24 subnet (1 to 250) in the root namespace");
}

async function linkInfo(dev: string, ns?: string): Promise<{ ifindex: number; address: string }> {
  const argv = ["ip", ...(ns ? ["-n", ns] : []), "-j", "link", "show", "dev", dev];
  const r = await must(argv);
  const [info] = JSON.parse(r.stdout) as { ifindex: number; address: string }[];
  if (!info || typeof info.ifindex !== "number") {
    throw new Error(`\`${argv.join(" ")}\` gave no ifindex: ${r.stdout.trim()}`);
  }
  return info;
}

/** Set a sysctl under /proc/sys for the root namespace or, with `ns`, inside it. */
async function sysctl(key: string, value: string, ns?: string): Promise<void> {
  if (ns) {
    // Inside `ip netns exec`, /proc/sys/net is the namespace's (sh is always there, sysctl not).
    const path = `/proc/sys/${key.replaceAll(".", "/")}`;
    await must(["ip", "netns", "exec", ns, "sh", "-c", 'echo "$1" > "$2"', "sh", value, path]);
  } else {
    await Deno.writeTextFile(`/proc/sys/${key.replaceAll(".", "/")}`, value);
  }
}

function validate(opts: VethPairOptions): void {
  const { subnetIndex, extraIps, vlan } = opts;
  if (
    subnetIndex !== undefined &&
    !(Number.isInteger(subnetIndex) && subnetIndex >= 0 && subnetIndex <= 255)
  ) {
    throw new Error(`netns: subnetIndex ${subnetIndex} is not 0 to 255`);
  }
  if (extraIps !== undefined && !(Number.isInteger(extraIps) && extraIps >= 0 && extraIps <= 200)) {
    throw new Error(`netns: extraIps ${extraIps} is not 0 to 200`);
  }
  if (vlan !== undefined) {
    if (vlan.length > 2 || vlan.some((v) => !Number.isInteger(v))) {
      throw new Error(`netns: vlan ${JSON.stringify(vlan)} is not [id] or [outer, inner]`);
    }
  }
}

/** Remove a pair's namespace and outer link; "not found" is fine. */
async function teardown(ns: string, outer: string): Promise<void> {
  const errors: string[] = [];
  // Deleting `outer` removes both veth ends (and the VLAN devices on them) synchronously;
  // deleting the namespace alone would leave that to the kernel's asynchronous netns cleanup.
  const del = await exec(["ip", "link", "del", "dev", outer], { timeoutMs: SETUP_TIMEOUT_MS });
  if (del.code !== 0 && !/Cannot find device|does not exist|No such device/.test(del.stderr)) {
    errors.push(`ip link del dev ${outer}: ${del.stderr.trim()}`);
  }
  const nsDel = await exec(["ip", "netns", "del", ns], { timeoutMs: SETUP_TIMEOUT_MS });
  if (nsDel.code !== 0 && !/No such file|does not exist/.test(nsDel.stderr)) {
    errors.push(`ip netns del ${ns}: ${nsDel.stderr.trim()}`);
  }
  live.delete(ns);
  if (errors.length) throw new Error(`netns: cleanup failed: ${errors.join("; ")}`);
}

/**
 * Create a veth pair: `outer` in the root namespace, `inner` in a new namespace, both up with
 * their addresses (and VLAN devices when `opts.vlan` is given). See `VethPair`.
 */
export async function createVethPair(opts: VethPairOptions = {}): Promise<VethPair> {
  validate(opts);
  for (let attempt = 1;; attempt++) {
    try {
      return await createOnce(opts);
    } catch (e) {
      // Another process took the same automatic subnet at the same moment: try another one.
      if (!(e instanceof SubnetClash) || attempt >= 5) throw e;
      subnetCursor = ((subnetCursor + Math.floor(Math.random() * 50)) % 250) + 1;
    }
  }
}

class SubnetClash extends Error {}

async function createOnce(opts: VethPairOptions): Promise<VethPair> {
  const vlan = opts.vlan ?? [];
  const n = opts.subnetIndex ?? await pickSubnet(vlan.length > 0);
  if (opts.subnetIndex !== undefined) {
    const used = await usedSubnets();
    if (used.v4.has(n) || (vlan.length > 0 && used.vlan.has(n))) {
      throw new Error(`netns: subnet 198.18.${n}.0/24 (or 198.19.${n}.0/24) is already in use`);
    }
  }

  // Namespace: the first free ipt-<pid>-<k> (a crashed earlier run with the same pid may
  // have left one behind; it is reported by `leftoverNamespaces`, not reused).
  let ns = "";
  let id = "";
  for (let attempt = 0; attempt < 50 && !ns; attempt++) {
    const k = ++counter;
    const name = `ipt-${Deno.pid}-${k}`;
    const r = await exec(["ip", "netns", "add", name], { timeoutMs: SETUP_TIMEOUT_MS });
    if (r.code === 0) {
      ns = name;
      id = k.toString(36);
    } else if (!/exists/i.test(r.stderr)) {
      throw new Error(`\`ip netns add ${name}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }
  if (!ns) throw new Error(`netns: no free namespace name ipt-${Deno.pid}-<n> after 50 tries`);

  const outer = `ipt${TAG}${id}o`;
  const inner = `ipt${TAG}${id}i`;
  live.set(ns, { ns, outer });
  const inNs = (...args: string[]) => must(["ip", "-n", ns, ...args]);
  const extraCount = opts.extraIps ?? 4;
  const pair: VethPair = {
    ns,
    inner,
    outer,
    outerIndex: 0,
    innerIndex: 0,
    subnetIndex: n,
    outerIp: `198.18.${n}.1`,
    innerIp: `198.18.${n}.2`,
    extraIps: Array.from({ length: extraCount }, (_, i) => `198.18.${n}.${i + 3}`),
    outerIp6: `2001:db8:12:${n}::1`,
    innerIp6: `2001:db8:12:${n}::2`,
    innerMac: "",
    outerMac: "",
    offloadsOff: false,
    vlan: [...vlan],
    vlanDevices: false,
    run: (cmd, runOpts) => exec(["ip", "netns", "exec", ns, ...cmd], runOpts),
    destroy: () => teardown(ns, outer),
  };

  try {
    await inNs("link", "set", "dev", "lo", "up");
    await must(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns]);
    // No router solicitations from the sender: fewer stray packets in the counters.
    await sysctl(`net.ipv6.conf.${inner}.router_solicitations`, "0", ns);
    await sysctl(`net.ipv4.conf.${outer}.forwarding`, "0");
    await sysctl(`net.ipv6.conf.${outer}.accept_ra`, "0");

    if (await haveEthtool()) {
      await must(["ethtool", "-K", outer, ...OFFLOADS_OFF]);
      await must(["ip", "netns", "exec", ns, "ethtool", "-K", inner, ...OFFLOADS_OFF]);
      if (opts.peerGro) {
        await must(["ip", "netns", "exec", ns, "ethtool", "-K", inner, "gro", "on"]);
      }
      pair.offloadsOff = true;
    } else if (opts.peerGro) {
      throw new Error("netns: peerGro needs ethtool (Debian package `ethtool`)");
    }

    await must(["ip", "link", "set", "dev", outer, "mtu", "1500"]);
    await must(["ip", "addr", "add", `${pair.outerIp}/24`, "dev", outer]);
    await must(["ip", "-6", "addr", "add", `${pair.outerIp6}/64`, "dev", outer, "nodad"]);
    await inNs("addr", "add", `${pair.innerIp}/24`, "dev", inner);
    for (const ip of pair.extraIps) await inNs("addr", "add", `${ip}/24`, "dev", inner);
    await inNs("-6", "addr", "add", `${pair.innerIp6}/64`, "dev", inner, "nodad");

    if (vlan.length > 0) await addVlans(pair, opts.requireVlanDevices ?? false);

    await must(["ip", "link", "set", "dev", outer, "up"]);
    await inNs("link", "set", "dev", inner, "up");
    if (pair.vlanOuter && pair.vlanInner) {
      for (const dev of vlanChain(outer, vlan)) await must(["ip", "link", "set", "dev", dev, "up"]);
      for (const dev of vlanChain(inner, vlan)) await inNs("link", "set", "dev", dev, "up");
    }

    const o = await linkInfo(outer);
    const i = await linkInfo(inner, ns);
    pair.outerIndex = o.ifindex;
    pair.outerMac = o.address;
    pair.innerIndex = i.ifindex;
    pair.innerMac = i.address;

    if (opts.staticNeighbors) {
      const perm = (
        ip: string,
        mac: string,
        dev: string,
      ) => ["neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent"];
      for (const ip of [pair.innerIp, ...pair.extraIps, pair.innerIp6]) {
        await must(["ip", ...perm(ip, pair.innerMac, outer)]);
      }
      for (const ip of [pair.outerIp, pair.outerIp6]) await inNs(...perm(ip, pair.outerMac, inner));
    }

    // Another process may have picked the same /24 between our check and our `addr add`.
    if (opts.subnetIndex === undefined) {
      const clash = await exec(["ip", "-j", "-4", "addr", "show", "to", `198.18.${n}.0/24`]);
      const devs = (JSON.parse(clash.stdout || "[]") as { ifname: string }[]).map((l) => l.ifname);
      if (devs.some((d) => d !== outer)) {
        throw new SubnetClash(`netns: 198.18.${n}.0/24 is also on ${devs.join(", ")}`);
      }
    }
    return pair;
  } catch (e) {
    try {
      await teardown(ns, outer);
    } catch (e2) {
      throw new Error(`${(e as Error).message}\n(and tearing down: ${(e2 as Error).message})`);
    }
    throw e;
  }
}

/** Device names from the base device up to the topmost VLAN device. */
function vlanChain(base: string, vlan: number[]): string[] {
  return vlan.length === 2 ? [`${base}s`, `${base}sq`] : [`${base}q`];
}

async function addVlans(pair: VethPair, required: boolean): Promise<void> {
  const { ns, inner, outer, vlan, subnetIndex: n } = pair;
  const sides: [string, string[]][] = [[outer, []], [inner, ["-n", ns]]];
  for (const [base, where] of sides) {
    const [first, top] = vlan.length === 2 ? [`${base}s`, `${base}sq`] : [`${base}q`, `${base}q`];
    const firstArgs = vlan.length === 2
      ? ["type", "vlan", "proto", "802.1ad", "id", String(vlan[0])]
      : ["type", "vlan", "id", String(vlan[0])];
    const argv = ["ip", ...where, "link", "add", "link", base, "name", first, ...firstArgs];
    const r = await exec(argv, { timeoutMs: SETUP_TIMEOUT_MS });
    if (r.code !== 0) {
      if (/Unknown device type|not supported/i.test(r.stderr) && !required) {
        if (vlanWarned) return;
        vlanWarned = true;
        console.warn(
          "netns: this kernel cannot create VLAN devices (CONFIG_VLAN_8021Q); tagged raw " +
            "frames still reach the outer veth and its XDP program, but nothing answers them",
        );
        return;
      }
      throw new Error(`\`${argv.join(" ")}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    if (vlan.length === 2) {
      // Two tags on a 1500-byte veth: leave room for the second 4-byte tag.
      await must([
        "ip",
        ...where,
        "link",
        "add",
        "link",
        first,
        "name",
        top,
        "mtu",
        "1496",
        "type",
        "vlan",
        "id",
        String(vlan[1]),
      ]);
    }
    if (pair.offloadsOff) {
      const eth = where.length ? ["ip", "netns", "exec", ns, "ethtool"] : ["ethtool"];
      for (const dev of vlanChain(base, vlan)) {
        // VLAN devices may lack some of these features; only tx checksumming matters here.
        await exec([...eth, "-K", dev, "tx", "off"], { timeoutMs: SETUP_TIMEOUT_MS });
      }
    }
    const host = base === outer ? 1 : 2;
    await must(["ip", ...where, "addr", "add", `198.19.${n}.${host}/24`, "dev", top]);
    await must([
      "ip",
      ...where,
      "-6",
      "addr",
      "add",
      `2001:db8:13:${n}::${host}/64`,
      "dev",
      top,
      "nodad",
    ]);
    if (base === outer) {
      for (const dev of vlanChain(outer, vlan)) {
        await sysctl(`net.ipv4.conf.${dev}.forwarding`, "0");
      }
    }
  }
  const [oTop, iTop] = [vlanChain(outer, vlan).at(-1)!, vlanChain(inner, vlan).at(-1)!];
  pair.vlanDevices = true;
  pair.vlanOuter = oTop;
  pair.vlanInner = iTop;
  pair.vlanOuterIp = `198.19.${n}.1`;
  pair.vlanInnerIp = `198.19.${n}.2`;
  pair.vlanOuterIp6 = `2001:db8:13:${n}::1`;
  pair.vlanInnerIp6 = `2001:db8:13:${n}::2`;
}

/** Create a pair, run `fn` with it, and always destroy it (also when `fn` throws). */
export async function withVethPair<T>(
  fn: (p: VethPair) => Promise<T>,
  opts?: VethPairOptions,
): Promise<T> {
  const pair = await createVethPair(opts);
  let result: T;
  try {
    result = await fn(pair);
  } catch (e) {
    try {
      await pair.destroy();
    } catch (e2) {
      console.error(`netns: ${(e2 as Error).message}`);
    }
    throw e;
  }
  await pair.destroy();
  return result;
}

/** Namespaces named `ipt-*` (for a suite's final leak check). */
export async function leftoverNamespaces(): Promise<string[]> {
  const r = await must(["ip", "netns", "list"]);
  return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((s) =>
    s.startsWith("ipt-")
  );
}

/** Root-namespace links made by this harness (`ipt` + tag + counter + role), for leak checks. */
export async function leftoverLinks(): Promise<string[]> {
  const r = await must(["ip", "-j", "link", "show"]);
  return (JSON.parse(r.stdout || "[]") as { ifname: string }[]).map((l) => l.ifname)
    .filter((name) => /^ipt[0-9a-z]{4}[0-9a-z]+o(s|q|sq)?$/.test(name));
}

/**
 * Wait until `outer` has received nothing for `quietMs` (default 1500), at most `maxMs`
 * (default 5000); true when it went quiet. A new pair's `inner` sends IPv6 neighbour
 * solicitations (DAD for its link-local address) and two or three MLDv2 reports in its first
 * ~2 s, which land in `outer`'s counters and in any XDP program on it. Tests that count
 * frames exactly call this first (and use `staticNeighbors` so replies cause no ARP/NDP).
 */
export async function waitQuiet(
  p: VethPair,
  opts: { quietMs?: number; maxMs?: number } = {},
): Promise<boolean> {
  const quietMs = opts.quietMs ?? 1500;
  const deadline = Date.now() + (opts.maxMs ?? 5000);
  let last = await linkStat(p.outer);
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await linkStat(p.outer);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return true;
    }
  }
  return false;
}

/** A counter from /sys/class/net/<dev>/statistics (root namespace), e.g. "rx_packets". */
export async function linkStat(dev: string, stat = "rx_packets"): Promise<number> {
  return Number((await Deno.readTextFile(`/sys/class/net/${dev}/statistics/${stat}`)).trim());
}

export type FrameKind = "syn" | "syn-ipopts" | "syn6" | "syn6-ext" | "udp";

export interface SendFramesOptions {
  kind: FrameKind;
  /** "80", "20000-20199", "22,80" or a list of ports; default 80. */
  ports?: string | number[];
  /** Rounds over the ports (default 1). */
  count?: number;
  /** Tags to put in the frames; default the pair's `vlan`. */
  vlan?: number[];
  pps?: number;
  srcPort?: number;
  /**
   * Addresses; default inner -> outer of the pair (IPv6 for syn6/syn6-ext, the VLAN
   * addresses when the frames are tagged and the pair has VLAN devices).
   */
  src?: string;
  dst?: string;
  srcMac?: string;
  dstMac?: string;
  /** Interface inside the namespace to write on; default `inner`. */
  iface?: string;
  timeoutMs?: number;
}

/** The argv (after `python3`) of send_frames.py for a pair; see `sendFrames`. */
export function sendFramesArgs(p: VethPair, o: SendFramesOptions): string[] {
  const vlan = o.vlan ?? p.vlan;
  const v6 = o.kind === "syn6" || o.kind === "syn6-ext";
  const onVlan = vlan.length > 0 && p.vlanDevices;
  const src = o.src ??
    (v6 ? (onVlan ? p.vlanInnerIp6! : p.innerIp6) : (onVlan ? p.vlanInnerIp! : p.innerIp));
  const dst = o.dst ??
    (v6 ? (onVlan ? p.vlanOuterIp6! : p.outerIp6) : (onVlan ? p.vlanOuterIp! : p.outerIp));
  const args = [
    SEND_FRAMES,
    "--iface",
    o.iface ?? p.inner,
    "--src-mac",
    o.srcMac ?? p.innerMac,
    "--dst-mac",
    o.dstMac ?? p.outerMac,
    "--src",
    src,
    "--dst",
    dst,
    "--kind",
    o.kind,
    "--ports",
    Array.isArray(o.ports) ? o.ports.join(",") : String(o.ports ?? 80),
    "--count",
    String(o.count ?? 1),
  ];
  if (vlan.length) args.push("--vlan", vlan.join(","));
  if (o.pps) args.push("--pps", String(o.pps));
  if (o.srcPort) args.push("--src-port", String(o.srcPort));
  return args;
}

/** Send raw frames from the pair's namespace with send_frames.py; returns how many were sent. */
export async function sendFrames(p: VethPair, o: SendFramesOptions): Promise<number> {
  const r = await p.run(["python3", ...sendFramesArgs(p, o)], { timeoutMs: o.timeoutMs });
  const m = /^sent (\d+)$/m.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new Error(
      `send_frames.py failed (exit ${r.code}): ${r.stderr.trim()} ${r.stdout.trim()}`,
    );
  }
  return Number(m[1]);
}
