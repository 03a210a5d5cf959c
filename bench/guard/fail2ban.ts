/**
 * fail2ban as the peer of bench/guard.ts: Debian's fail2ban 1.0.2, run in the foreground
 * (`fail2ban-server -xf -c DIR start`) with its own config dir (a copy of /etc/fail2ban
 * without jail.d, so Debian's defaults do not apply) INSIDE the defender's network
 * namespace, so the nftables table its action creates lives and dies there. One jail:
 * `sshd` (the package's filter, mode normal), `maxretry = 5`, `findtime = 10m`,
 * `bantime = 10m`, the package's `nftables` action (type multiport on the listener's port,
 * `blocktype = drop` so a banned source's SYNs are dropped as XDP drops them), backend auto
 * (pyinotify when installed, else polling), database in memory.
 */
import { type Pair, run, sleep, which } from "./sys.ts";

export interface Fail2ban {
  pid: number;
  backend: string;
  /** Addresses in the jail's nftables set (what is dropped), read inside the namespace. */
  banned(): Promise<Set<string>>;
  stop(): Promise<void>;
}

/** What is missing to run fail2ban here, or undefined. */
export function fail2banMissing(): string | undefined {
  const miss = ["fail2ban-server", "fail2ban-client", "nft"].filter((n) => !which(n));
  if (miss.length === 0) return undefined;
  return `${miss.join(", ")} not installed (apt-get install fail2ban nftables)`;
}

export async function startFail2ban(
  p: Pair,
  dir: string,
  logFile: string,
  port: number,
): Promise<Fail2ban> {
  const conf = `${dir}/etc`;
  const cp = await run(["cp", "-a", "/etc/fail2ban", conf]);
  if (cp.code !== 0) throw new Error(`copying /etc/fail2ban: ${cp.stderr}`);
  for (const e of Deno.readDirSync(`${conf}/jail.d`)) await Deno.remove(`${conf}/jail.d/${e.name}`);
  await Deno.writeTextFile(
    `${conf}/fail2ban.local`,
    `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/fail2ban.log\n` +
      `socket = ${dir}/fail2ban.sock\npidfile = ${dir}/fail2ban.pid\ndbfile = :memory:\n`,
  );
  await Deno.writeTextFile(
    `${conf}/jail.local`,
    `[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n\n[sshd]\nenabled = true\nfilter = sshd\n` +
      `logpath = ${logFile}\nbackend = auto\nmaxretry = 5\nfindtime = 10m\nbantime = 10m\n` +
      `port = ${port}\n` +
      `action = nftables[type=multiport, name=sshd, port="${port}", protocol=tcp, blocktype=drop]\n`,
  );
  const argv = p.defender([
    "fail2ban-server",
    "-xf",
    "-c",
    conf,
    "-s",
    `${dir}/fail2ban.sock`,
    "-p",
    `${dir}/fail2ban.pid`,
    "start",
  ]);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const client = (args: string[]) =>
    run(["fail2ban-client", "-s", `${dir}/fail2ban.sock`, ...args], 10_000);
  const stop = async () => {
    await client(["stop"]).catch(() => undefined);
    const t = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await child.status;
    clearTimeout(t);
  };
  let ok = false;
  for (let i = 0; i < 100 && !ok; i++) {
    await sleep(100);
    const r = await client(["status", "sshd"]);
    ok = r.code === 0 && /Currently failed/.test(r.stdout);
  }
  if (!ok) {
    await stop();
    const log = await Deno.readTextFile(`${dir}/fail2ban.log`).catch(() => "");
    throw new Error(`fail2ban did not start its sshd jail:\n${log.slice(-2000)}`);
  }
  const log = await Deno.readTextFile(`${dir}/fail2ban.log`).catch(() => "");
  const backend = /Initiated '(\w+)' backend/.exec(log)?.[1] ??
    /backend\s*[:=]\s*'?(\w+)/i.exec(log)?.[1] ?? "auto";
  return {
    pid: child.pid,
    backend,
    async banned() {
      const r = await run(
        p.defender(["nft", "-j", "list", "set", "inet", "f2b-table", "addr-set-sshd"]),
        10_000,
      );
      const out = new Set<string>();
      if (r.code !== 0) return out;
      for (const m of r.stdout.matchAll(/"(\d+\.\d+\.\d+\.\d+)"/g)) out.add(m[1]);
      return out;
    },
    stop,
  };
}
