/**
 * Run the real `main.ts` the way users do: `deno run` with exactly the permission flags
 * `derivePermissions` gives for the config (what `deno task start` and the compile task
 * use), never `-A`.
 */
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../mod/config/mod.ts";
import { agentPermissions, builtSections } from "../../mod/daemon/mod.ts";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** The agent's flags for a config, loaded with the given environment overrides. */
export async function agentFlags(configPath: string, env: Record<string, string> = {}) {
  const loaded = await loadConfig({
    path: configPath,
    env: (n) => env[n],
    builtModules: builtSections(),
  });
  // The NOTIFY_SOCKET the agent will get is allowed, as when flags are derived under systemd.
  return agentPermissions(loaded, Deno.execPath(), undefined, undefined, env.NOTIFY_SOCKET);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `ironpost <args>` to completion with the flags derived from `flagsFrom` (a valid config
 * path). `extraFlags` are appended after the derived flags, e.g. `--allow-read=DIR` so the
 * agent may read broken configs, from which no flags can be derived (repeated `--allow-read`
 * flags add to each other).
 */
export async function runAgent(
  args: string[],
  opts: {
    flagsFrom: string;
    env?: Record<string, string>;
    cwd?: string;
    extraFlags?: string[];
  },
): Promise<RunResult> {
  const flags = await agentFlags(opts.flagsFrom, opts.env);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, ...(opts.extraFlags ?? []), MAIN, ...args],
    env: { NO_COLOR: "1", ...opts.env },
    cwd: opts.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Spawn a long-running agent (foreground `run`) with derived flags. */
export async function spawnAgent(
  args: string[],
  opts: { flagsFrom: string; env?: Record<string, string> },
): Promise<Deno.ChildProcess> {
  const flags = await agentFlags(opts.flagsFrom, opts.env);
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN, ...args],
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A temp dir and a config inside it whose state, PID file and socket all live there. */
export async function tempAgentConfig(extra = ""): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-test-" });
  const config = `${dir}/ironpost.toml`;
  await Deno.writeTextFile(
    config,
    `[general]
state_dir = "${dir}/state"
pid_file = "${dir}/run/ironpost.pid"
control_socket = "${dir}/run/ironpost.sock"
log_format = "json"
shutdown_timeout_secs = 5
${extra}`,
    { mode: 0o644 },
  );
  return { dir, config };
}

/** Poll until `fn` returns true or `ms` pass. */
export async function waitFor(fn: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** Collects a child's output as it arrives, so a test can wait for a log line. */
export class OutputTail {
  text = "";
  #done: Promise<void>;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#done = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of stream) this.text += dec.decode(chunk, { stream: true });
    })();
  }
  /** Wait until `re` matches the output so far. */
  async waitFor(re: RegExp, ms = 5000): Promise<boolean> {
    return await waitFor(() => re.test(this.text), ms);
  }
  closed(): Promise<void> {
    return this.#done;
  }
}

/** Wait until the agent behind `socket` answers GET /health with 200. */
export async function waitHealthy(socket: string, ms = 15000): Promise<boolean> {
  const { controlRequest } = await import("../../mod/daemon/mod.ts");
  return await waitFor(async () => {
    try {
      return (await controlRequest(socket, "GET", "/health", 1000)).status === 200;
    } catch {
      return false;
    }
  }, ms);
}
