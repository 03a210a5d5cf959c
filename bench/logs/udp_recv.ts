/**
 * UDP syslog intake for bench/logs.ts: a `SyslogUdpSource` on 127.0.0.1 (4 MiB receive
 * buffer, the agent's 10,000-line channel) drained by a loop that counts lines, while
 * bench/logs/udp_send.ts offers `--rate` messages a second for `--secs` seconds from another
 * process. After the sender ends it waits for the count to settle (at most 5 s), then prints
 * sent, received, lost (sent − received) and the source's own drop counters as JSON.
 *
 *   deno run -A bench/logs/udp_recv.ts --rate 50000 --secs 10 --sample OpenSSH_2k.log \
 *     [--receiver auto|recvmmsg|node:dgram]
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Channel } from "../../mod/core/channel.ts";
import { type RawLine, SyslogUdpSource } from "../../mod/logs/sources/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "10000" },
    secs: { type: "string", default: "10" },
    sample: { type: "string" },
    receiver: { type: "string", default: "auto" },
  },
});
const receiver = values.receiver as "auto" | "recvmmsg" | "node:dgram";
if (!values.sample || !["auto", "recvmmsg", "node:dgram"].includes(receiver)) {
  console.error("usage: udp_recv.ts --rate R --secs S --sample FILE [--receiver KIND]");
  Deno.exit(2);
}

const channel = new Channel<RawLine>("log-lines", 10_000);
const source = new SyslogUdpSource(
  { hostname: "127.0.0.1", port: 0, recvBufferBytes: 4 << 20, receiver },
  channel,
);
await source.start();
let received = 0;
let bytes = 0;
const drained = (async () => {
  for await (const l of channel) {
    received++;
    bytes += l.line.length;
  }
})();

const sender = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--no-prompt",
    "--unstable-net",
    "--allow-net=127.0.0.1",
    `--allow-read=${values.sample}`,
    fileURLToPath(new URL("./udp_send.ts", import.meta.url)),
    "--port",
    String(source.addr!.port),
    "--rate",
    values.rate!,
    "--secs",
    values.secs!,
    "--sample",
    values.sample,
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const out = await sender.output();
const cpu = process.cpuUsage(cpu0);
const recvCpuPct = (cpu.user + cpu.system) / 10 / (performance.now() - t0);
if (!out.success) throw new Error(`sender exited with ${out.code}`);
const sent = JSON.parse(new TextDecoder().decode(out.stdout)) as {
  sent: number;
  secs: number;
  errors: number;
  cpuPct: number;
};

// Let what is still in the socket buffer and the queue come through: wait until the count
// has not moved for 300 ms (or everything arrived), 5 s at most.
let last = -1;
let stableSince = performance.now();
const settleDeadline = performance.now() + 5000;
while (performance.now() < settleDeadline && received < sent.sent) {
  await new Promise((r) => setTimeout(r, 50));
  if (received !== last) {
    last = received;
    stableSince = performance.now();
  } else if (performance.now() - stableSince > 300) break;
}
const stats = source.stats();
const health = source.health();
await source.stop();
channel.close();
await drained;

console.log(JSON.stringify({
  rate: Number(values.rate),
  sent: sent.sent,
  sendErrors: sent.errors,
  sendSecs: sent.secs,
  sendCpuPct: sent.cpuPct,
  recvCpuPct,
  received,
  bytes,
  lost: sent.sent - received,
  lossPct: sent.sent > 0 ? 100 * (sent.sent - received) / sent.sent : 0,
  kernelDrops: stats.kernelDrops,
  queueDrops: stats.dropped,
  recvBufferBytes: stats.recvBufferBytes,
  receiver: stats.receiver,
  fallbackReason: source.fallbackReason,
  health,
}));
