import { join } from "node:path";
import { controlRequest, runningAgentPid } from "../daemon/mod.ts";
import { errorMessage, IronpostError } from "../core/mod.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { out } from "./output.ts";
import { selfArgv } from "./self.ts";

/** `ironpost start`: run the daemon in the background and wait until it is healthy. */
export async function startCommand(values: Values): Promise<number> {
  const timeoutSecs = Number(values.timeout ?? 15);
  if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds`, "start");
  }
  const loaded = await loadOrFail(values, "; nothing was started");
  const g = loaded.config.general;
  const existing = await runningAgentPid(g.pid_file);
  if (existing !== undefined) {
    throw new IronpostError(
      "E_ALREADY_RUNNING",
      `Ironpost is already running with PID ${existing} (PID file ${g.pid_file})`,
      { pid: existing },
    );
  }
  const logFile = g.log_file || join(g.state_dir, "ironpost.log");
  const args = ["run", "--config", loaded.path, "--log-file", logFile];
  for (const flag of ["log-level", "log-format", "pid-file"]) {
    if (typeof values[flag] === "string") args.push(`--${flag}`, values[flag] as string);
  }
  await Deno.mkdir(g.state_dir, { recursive: true, mode: 0o700 });
  const logStart = await fileSize(logFile);
  const [cmd, ...rest] = selfArgv(loaded, args);
  const child = new Deno.Command(cmd, {
    args: rest,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  let exited: Deno.CommandStatus | undefined;
  child.status.then((s) => (exited = s));
  child.unref();

  const deadline = Date.now() + timeoutSecs * 1000;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (exited) {
      const tail = await logTail(logFile, logStart);
      throw new IronpostError(
        "E_START_FAILED",
        `the agent exited with code ${exited.code} before becoming healthy` +
          (tail ? `:\n${tail}` : ` (see ${logFile})`),
        { log: logFile },
      );
    }
    try {
      const r = await controlRequest(g.control_socket, "GET", "/health", 2000);
      const body = JSON.parse(r.body);
      if (r.status === 200) {
        out(`ironpost started: PID ${child.pid}, ${body.status}`);
        out(`log: ${logFile}`);
        out(`control socket: ${g.control_socket}`);
        return 0;
      }
      last = `health ${body.status}: ${JSON.stringify(body.modules)}`;
    } catch (e) {
      last = errorMessage(e);
    }
  }
  // Not healthy in time: do not leave a half-working agent behind.
  await controlRequest(g.control_socket, "POST", "/shutdown").catch(() => {});
  throw new IronpostError(
    "E_START_TIMEOUT",
    `the agent (PID ${child.pid}) did not become healthy within ${timeoutSecs} s (${last}); ` +
      `it was asked to stop. Log: ${logFile}`,
    { pid: child.pid, log: logFile },
  );
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** The log lines this start wrote, last 20, for the failure message. */
async function logTail(path: string, from: number): Promise<string> {
  try {
    const bytes = await Deno.readFile(path);
    const lines = new TextDecoder().decode(bytes.subarray(from)).trim().split("\n");
    return lines.slice(-20).join("\n");
  } catch {
    return "";
  }
}
