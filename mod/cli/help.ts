import { COMMANDS } from "./commands.ts";

const MAIN_HEAD = `ironpost — Linux host security agent

Usage: ironpost [command] [options]

Commands:`;

const MAIN_TAIL = `Options (every command):
  -c, --config PATH   config file (default /etc/ironpost/ironpost.toml)
  --log-level LEVEL   trace, debug, info, warn, error (overrides general.log_level)
  --log-format FMT    json or pretty (overrides general.log_format)
  --log-file PATH     log to a file instead of stderr
  --pid-file PATH     PID file (overrides general.pid_file)
  --validate          check the config and exit 0 (valid) or 1 (invalid)
  --format FMT        with --validate: human (default) or json
  -h, --help          help for a command: ironpost <command> --help

Precedence: command line > environment (IRONPOST_<SECTION>_<KEY>) > config file > defaults.`;

/** The main help: the commands' summary lines between the usage and the common options. */
function mainHelp(): string {
  const lines = Object.values(COMMANDS).flatMap((c) =>
    c.summary.map(([form, what]) =>
      `  ${form.length < 18 ? form.padEnd(18) + "  " : form + "   "}${what}`
    )
  );
  return `${MAIN_HEAD}\n${lines.join("\n")}\n\n${MAIN_TAIL}`;
}

/** Help for `topic` (a command), or the main help. */
export function helpText(topic: string): string {
  return COMMANDS[topic]?.help ?? mainHelp();
}
