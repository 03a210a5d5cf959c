/**
 * The done-when of the log pipeline issue, for real: a brute force with wrong passwords
 * against a real sshd on loopback, logged the way Debian logs it when rsyslog runs
 * (sshd → /dev/log → rsyslogd → auth.log), tailed by the real agent, raises the brute-force
 * alert within 2 s of the threshold.
 */
import { controlRequest } from "../../mod/daemon/mod.ts";
import {
  OutputTail,
  ROOT,
  runAgent,
  spawnAgent,
  tempAgentConfig,
  waitFor,
  waitHealthy,
} from "../helpers/agent.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

const SSHD = "/usr/sbin/sshd";
const RSYSLOGD = "/usr/sbin/rsyslogd";
const ATTEMPTS = 10; // rules/ssh_brute_force.yml: gte 10 within 1m

function exists(p: string): boolean {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

async function sh(cmd: string, args: string[], env?: Record<string, string>) {
  return await new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
}

Deno.test({
  name: "real sshd brute force on loopback raises the alert within 2 s of the threshold",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (!requireRoot()) return;
    if (!requirePart("openssh-server and rsyslog", exists(SSHD) && exists(RSYSLOGD))) return;
    if (!requirePart("a free /dev/log (no syslog daemon running)", !exists("/dev/log"))) return;
    const { dir, config } = await tempAgentConfig();
    const auth = `${dir}/auth.log`;
    await Deno.writeTextFile(
      config,
      `[log_pipeline]\nenabled = true\nfile_paths = ["${auth}"]\nrules_dir = "${ROOT}rules"\n`,
      { append: true },
    );
    await Deno.writeTextFile(
      `${dir}/rsyslog.conf`,
      `module(load="imuxsock")\n$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat\n` +
        `auth,authpriv.* ${auth}\n`,
    );
    await Deno.writeTextFile(
      `${dir}/sshd_config`,
      `Port 2222\nListenAddress 127.0.0.1\nHostKey ${dir}/host_key\nPidFile ${dir}/sshd.pid\n` +
        "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n" +
        "PermitRootLogin no\nMaxAuthTries 10\nSyslogFacility AUTH\nLogLevel INFO\n",
    );
    await Deno.writeTextFile(`${dir}/askpass`, "#!/bin/sh\necho not-the-password\n", {
      mode: 0o755,
    });
    await Deno.mkdir("/run/sshd", { recursive: true });
    assert(
      (await sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_key`])).success,
    );

    const rsyslog = new Deno.Command(RSYSLOGD, {
      args: ["-n", "-f", `${dir}/rsyslog.conf`, "-i", `${dir}/rsyslogd.pid`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let sshd: Deno.ChildProcess | undefined;
    let agent: Deno.ChildProcess | undefined;
    let logs: OutputTail | undefined;
    let socket = "";
    try {
      assert(await waitFor(() => exists("/dev/log"), 5000), "rsyslogd did not create /dev/log");
      sshd = new Deno.Command(SSHD, {
        args: ["-D", "-f", `${dir}/sshd_config`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      assert(
        await waitFor(
          () => exists(auth) && Deno.readTextFileSync(auth).includes("Server listening"),
          5000,
        ),
        "sshd did not log through rsyslog",
      );

      agent = await spawnAgent(["run", "--config", config], { flagsFrom: config });
      logs = new OutputTail(agent.stderr);
      socket = `${dir}/run/ironpost.sock`;
      assert(
        await waitHealthy(socket),
        logs.text,
      );

      // Ten logins with a wrong password, one attempt each, as a brute-force tool would.
      for (let i = 0; i < ATTEMPTS; i++) {
        await sh("ssh", [
          "-p",
          "2222",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "PreferredAuthentications=password",
          "-o",
          "PubkeyAuthentication=no",
          "-o",
          "NumberOfPasswordPrompts=1",
          "-o",
          "ConnectTimeout=5",
          "-o",
          "LogLevel=ERROR",
          "admin@127.0.0.1",
          "true",
        ], { SSH_ASKPASS: `${dir}/askpass`, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" });
      }
      // The threshold is crossed when the 10th "Failed password" line reaches the file.
      const failed = () =>
        (Deno.readTextFileSync(auth).match(
          /Failed password for invalid user admin from 127\.0\.0\.1/g,
        ) ?? []).length;
      assert(
        await waitFor(() => failed() >= ATTEMPTS, 5000),
        `only ${failed()} failed logins logged`,
      );
      const t0 = Date.now();
      const cli = (args: string[]) =>
        runAgent([...args, "--config", config], { flagsFrom: config });
      let found: { title: string; srcIp?: string }[] = [];
      const ok = await waitFor(async () => {
        found = JSON.parse((await cli(["alerts", "--json"])).stdout || "[]");
        return found.some((a) => a.title === "SSH brute force from one source");
      }, 5000);
      const elapsed = Date.now() - t0;
      if (!ok) {
        const m = (await controlRequest(socket, "GET", "/metrics")).body;
        throw new Error(
          `no alert; metrics:\n${
            m.split("\n").filter((l) =>
              l.startsWith("ironpost_log") || l.startsWith("ironpost_rule") ||
              l.startsWith("ironpost_alert")
            ).join("\n")
          }\nauth.log:\n${Deno.readTextFileSync(auth)}\nagent log:\n${logs.text}`,
        );
      }
      assert(elapsed < 2000, `alert ${elapsed} ms after the threshold`);
      assertEquals(
        found.find((a) => a.title === "SSH brute force from one source")?.srcIp,
        "127.0.0.1",
      );
    } finally {
      agent?.kill("SIGTERM");
      if (agent) await agent.status;
      await logs?.closed();
      await agent?.stdout.cancel().catch(() => {});
      sshd?.kill("SIGTERM");
      if (sshd) await sshd.status;
      rsyslog.kill("SIGTERM");
      await rsyslog.status;
      await Deno.remove("/dev/log").catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
