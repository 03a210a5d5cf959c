/**
 * Paced UDP syslog sender for bench/logs.ts: `--rate` datagrams a second for `--secs`
 * seconds (at most rate × secs datagrams, and never longer than secs + 5 s) to
 * 127.0.0.1:`--port`, cycling through the sample's lines as RFC 3164 messages. Prints
 * `{"sent":N,"secs":S,"errors":E,"cpuPct":C}` on stdout.
 *
 *   deno run --unstable-net --allow-net=127.0.0.1 --allow-read bench/logs/udp_send.ts \
 *     --port P --rate 50000 --secs 10 --sample OpenSSH_2k.log
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { readSample, syslogDatagrams } from "./gen.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    rate: { type: "string", default: "10000" },
    secs: { type: "string", default: "10" },
    sample: { type: "string" },
  },
});
const port = Number(values.port);
const rate = Number(values.rate);
const secs = Number(values.secs);
if (!(port > 0 && rate > 0 && secs > 0) || !values.sample) {
  console.error("usage: udp_send.ts --port P --rate R --secs S --sample FILE");
  Deno.exit(2);
}

const enc = new TextEncoder();
const msgs = syslogDatagrams(
  readSample(await Deno.readTextFile(values.sample)),
  new Date().getUTCFullYear(),
  2000,
).map((m) => enc.encode(m));
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
const total = Math.round(rate * secs);
const limitMs = (secs + 5) * 1000;
/** At most this many sends in flight at once (each is an async op). */
const BATCH = 128;
let sent = 0;
let errors = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
while (sent < total) {
  const elapsed = performance.now() - t0;
  if (elapsed > limitMs) break;
  const due = Math.min(total, Math.floor(rate * elapsed / 1000));
  if (sent >= due) {
    await new Promise((r) => setTimeout(r, 1));
    continue;
  }
  const n = Math.min(due - sent, BATCH);
  const ps: Promise<number>[] = [];
  for (let j = 0; j < n; j++) ps.push(conn.send(msgs[(sent + j) % msgs.length], to));
  for (const r of await Promise.allSettled(ps)) if (r.status === "rejected") errors++;
  sent += n;
}
const took = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
conn.close();
console.log(JSON.stringify({
  sent: sent - errors,
  secs: took,
  errors,
  cpuPct: (cpu.user + cpu.system) / 1e4 / took,
}));
