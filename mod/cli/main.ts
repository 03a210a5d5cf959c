import { errorMessage, IronpostError } from "../core/mod.ts";
import { COMMON_OPTIONS, parse, UsageError } from "./args.ts";
import { COMMANDS } from "./commands.ts";
import { helpText } from "./help.ts";
import { err, out } from "./output.ts";

/**
 * The `ironpost` command line. Each command's code is imported when it runs, so starting
 * the agent or asking its status never loads the Sigma engine, YAML or FFI it does not use. Returns the exit code: 0 success, 1 failure, 2 usage error,
 * 3 (status) not running.
 */
export async function main(argv: string[]): Promise<number> {
  // `ironpost --version` is `ironpost version`.
  if (argv.includes("--version") && commandIndex(argv) < 0) {
    argv = ["version", ...argv.filter((a) => a !== "--version")];
  }
  const at = commandIndex(argv);
  const first = at < 0 ? undefined : argv[at];
  const command = first ?? "run";
  const args = at < 0 ? argv : argv.filter((_, i) => i !== at);
  try {
    const spec = COMMANDS[command];
    if (!spec) {
      throw new UsageError(
        `unknown command "${first}"; expected one of ${Object.keys(COMMANDS).join(", ")}`,
      );
    }
    const { values, positionals } = parse(args, spec.options, command);
    if (values.help && command !== "help") {
      out(helpText(first ? command : "main"));
      return 0;
    }
    if (!spec.positionals && positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`, command);
    }
    return await spec.run(values, positionals);
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

/** Options that take a value, so the word after them is not the command. */
const VALUE_OPTIONS = new Set(
  [COMMON_OPTIONS, ...Object.values(COMMANDS).map((c) => c.options)].flatMap((opts) =>
    Object.entries(opts).flatMap(([name, o]: [string, { type: string; short?: string }]) =>
      o.type === "string" ? [`--${name}`, ...(o.short ? [`-${o.short}`] : [])] : []
    )
  ),
);

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
