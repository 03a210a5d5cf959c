import { controlRequest, runningAgentPid } from "../daemon/mod.ts";
import { IronpostError } from "../core/mod.ts";
import { loadOrFail, type Values } from "./args.ts";
import { out } from "./output.ts";

/** `ironpost stop`: graceful stop through the control socket, then wait for the PID. */
export async function stopCommand(values: Values): Promise<number> {
  const loaded = await loadOrFail(values, ", so the agent's socket is unknown");
  const g = loaded.config.general;
  const pid = await runningAgentPid(g.pid_file);
  if (pid === undefined) {
    out("ironpost is not running");
    return 0;
  }
  try {
    await controlRequest(g.control_socket, "POST", "/shutdown");
  } catch (e) {
    throw new IronpostError(
      "E_STOP_UNREACHABLE",
      `PID ${pid} is alive but its control socket ${g.control_socket} did not answer ` +
        `(${e instanceof Error ? e.message : e}); stop it with: kill -TERM ${pid}`,
      { pid },
    );
  }
  const timeoutSecs = Number(values.timeout ?? g.shutdown_timeout_secs + 5);
  const deadline = Date.now() + timeoutSecs * 1000;
  while (Date.now() < deadline) {
    if (await runningAgentPid(g.pid_file) === undefined) {
      out(`ironpost stopped (PID ${pid})`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new IronpostError(
    "E_STOP_TIMEOUT",
    `PID ${pid} is still running ${timeoutSecs} s after the stop request; see its log`,
    { pid },
  );
}
