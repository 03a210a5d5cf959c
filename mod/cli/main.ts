import { errorMessage, IronpostError } from "../core/mod.ts";
import { VERSION } from "../version.ts";
import { parse, UsageError } from "./args.ts";
import { HELP } from "./help.ts";
import { err, out } from "./output.ts";

const COMMANDS = [
  "run",
  "start",
  "stop",
  "status",
  "config",
  "permissions",
  "block",
  "unblock",
  "decisions",
  "alerts",
  "rules",
  "trace",
  "scan",
  "vulndb",
  "version",
  "help",
];
/** Commands that take positional arguments. */
const WITH_POSITIONALS = new Set([
  "config",
  "block",
  "unblock",
  "alerts",
  "rules",
  "vulndb",
  "help",
]);

const OPTIONS: Record<
  string,
  Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>
> = {
  run: { validate: { type: "boolean" }, format: { type: "string" } },
  start: { timeout: { type: "string" } },
  stop: { timeout: { type: "string" } },
  status: { json: { type: "boolean" } },
  config: { json: { type: "boolean" }, format: { type: "string" } },
  permissions: { json: { type: "boolean" }, exec: { type: "string" } },
  block: { ttl: { type: "string" }, reason: { type: "string" } },
  unblock: {},
  decisions: { json: { type: "boolean" } },
  rules: {
    json: { type: "boolean" },
    format: { type: "string" },
    input: { type: "string" },
    source: { type: "string" },
    expect: { type: "string" },
    suppress: { type: "string" },
  },
  alerts: {
    json: { type: "boolean" },
    since: { type: "string" },
    severity: { type: "string" },
    limit: { type: "string" },
  },
  trace: { json: { type: "boolean" }, kind: { type: "string" }, container: { type: "string" } },
  scan: {
    dir: { type: "string", multiple: true },
    container: { type: "string", multiple: true },
    format: { type: "string" },
    output: { type: "string" },
    "fail-on": { type: "string" },
    db: { type: "string" },
  },
  vulndb: {
    source: { type: "string" },
    db: { type: "string" },
    json: { type: "boolean" },
    force: { type: "boolean" },
  },
  version: { json: { type: "boolean" } },
  help: {},
};

/**
 * The `ironpost` command line. Each command's code is imported when it runs, so starting
 * the agent or asking its status never loads the Sigma engine, YAML or FFI it does not use. Returns the exit code: 0 success, 1 failure, 2 usage error,
 * 3 (status) not running.
 */
export async function main(argv: string[]): Promise<number> {
  const at = commandIndex(argv);
  const first = at < 0 ? undefined : argv[at];
  const command = first ?? "run";
  const args = at < 0 ? argv : argv.filter((_, i) => i !== at);
  try {
    if (first && !COMMANDS.includes(first)) {
      throw new UsageError(`unknown command "${first}"; expected one of ${COMMANDS.join(", ")}`);
    }
    const { values, positionals } = parse(args, OPTIONS[command], command);
    if (values.help || command === "help") {
      const topic = command === "help" ? positionals[0] ?? "main" : first ? command : "main";
      out(HELP[topic] ?? HELP.main);
      return 0;
    }
    if (!WITH_POSITIONALS.has(command) && positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`, command);
    }
    switch (command) {
      case "run":
        return values.validate
          ? await (await import("./validate.ts")).validateCommand(values)
          : await (await import("./run.ts")).runCommand(values);
      case "start":
        return await (await import("./start.ts")).startCommand(values);
      case "stop":
        return await (await import("./stop.ts")).stopCommand(values);
      case "status":
        return await (await import("./status.ts")).statusCommand(values);
      case "config":
        return await (await import("./config_cmd.ts")).configCommand(positionals[0], values);
      case "permissions":
        return await (await import("./permissions_cmd.ts")).permissionsCommand(values);
      case "block":
        return await (await import("./decisions_cmd.ts")).blockCommand(positionals, values);
      case "unblock":
        return await (await import("./decisions_cmd.ts")).unblockCommand(positionals, values);
      case "decisions":
        return await (await import("./decisions_cmd.ts")).decisionsCommand(values);
      case "alerts":
        return await (await import("./alerts_cmd.ts")).alertsCommand(positionals, values);
      case "rules":
        return await (await import("./rules_cmd.ts")).rulesCommand(positionals, values);
      case "trace":
        return await (await import("./trace_cmd.ts")).traceCommand(values);
      case "scan":
        return await (await import("./scan_cmd.ts")).scanCommand(values);
      case "vulndb":
        return await (await import("./vulndb_cmd.ts")).vulndbCommand(positionals, values);
      case "version":
        out(
          values.json
            ? JSON.stringify({ ironpost: VERSION, ...Deno.version })
            : `ironpost ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
        );
        return 0;
    }
    return 2;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`ironpost: ${e.message}`);
      err(`Run 'ironpost ${e.context.command ?? ""} --help'.`.replace("  ", " "));
      return 2;
    }
    err(`ironpost: error: ${errorMessage(e)}`);
    if (!(e instanceof IronpostError) && e instanceof Error && e.stack) err(e.stack);
    return 1;
  }
}

const VALUE_OPTIONS = new Set([
  "--config",
  "-c",
  "--log-level",
  "--log-format",
  "--log-file",
  "--pid-file",
  "--format",
  "--timeout",
  "--exec",
  "--ttl",
  "--reason",
  "--since",
  "--severity",
  "--limit",
  "--input",
  "--source",
  "--expect",
  "--suppress",
  "--kind",
  "--container",
  "--dir",
  "--output",
  "--fail-on",
  "--db",
]);

/** Index of the command word: the first argument that is neither an option nor its value. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return -1;
    if (a.startsWith("-")) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    return i;
  }
  return -1;
}
