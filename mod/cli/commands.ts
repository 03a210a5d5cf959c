/**
 * Every `ironpost` command, declared once: its line in the main help, its own help, its
 * options, whether it takes positional arguments, and how it runs (its code is imported when
 * it runs, so starting the agent or asking its status never loads the Sigma engine, YAML or
 * FFI it does not use). `main.ts` parses with this table; `help.ts` renders it.
 */
import { VERSION } from "../version.ts";
import type { Values } from "./args.ts";
import { helpText } from "./help.ts";
import { out } from "./output.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

export interface CommandSpec {
  /** Lines of the main help: the usage form and what it does. */
  summary: readonly (readonly [string, string])[];
  /** `ironpost <command> --help`. */
  help: string;
  options: Record<string, OptionSpec>;
  /** Takes positional arguments (a subcommand, an address, paths). */
  positionals?: boolean;
  run(values: Values, positionals: string[]): Promise<number>;
}

const STR: OptionSpec = { type: "string" };
const BOOL: OptionSpec = { type: "boolean" };
const STRS: OptionSpec = { type: "string", multiple: true };

export const COMMANDS: Record<string, CommandSpec> = {
  run: {
    summary: [["run", "run the agent in the foreground (the default command)"]],
    help: `Usage: ironpost run [--config PATH] [--log-level L] [--log-format F] [--pid-file P]
       ironpost --validate [--config PATH] [--format human|json|github|sarif] [--strict]

Runs the agent in the foreground until SIGTERM or SIGINT (graceful stop, exit 0).
SIGHUP re-reads the config and applies what can change live; an invalid config is refused
and the running one kept. Exit 1 when the config is invalid or a module fails to start.

--validate checks the config, every rule and every policy (no privileges, no network) and
prints every problem as file:line:col, as GitHub Actions ::error/::warning commands
(--format github) or as SARIF 2.1.0 with paths relative to the repository (--format sarif).
--strict makes warnings errors. Exit 0 valid, 1 invalid, 2 usage error or unreadable config.`,
    options: { validate: BOOL, format: STR, strict: BOOL },
    run: async (v) =>
      v.validate
        ? await (await import("./validate.ts")).validateCommand(v)
        : await (await import("./run.ts")).runCommand(v),
  },
  start: {
    summary: [["start", "start the agent in the background and wait until it is healthy"]],
    help: `Usage: ironpost start [--config PATH] [--timeout SECS]

Starts the agent in the background, waits until its control API reports it healthy
(default 15 s), then prints its PID and log file. Exit 1 with the reason when it exits or
does not become healthy in time. Logs go to general.log_file, or <state_dir>/ironpost.log.`,
    options: { timeout: STR },
    run: async (v) => await (await import("./start.ts")).startCommand(v),
  },
  stop: {
    summary: [["stop", "stop a running agent gracefully"]],
    help: `Usage: ironpost stop [--config PATH] [--timeout SECS]

Asks the running agent to stop gracefully through its control socket and waits until the
process is gone. Exit 0 when stopped or not running, 1 when it did not stop in time.`,
    options: { timeout: STR },
    run: async (v) => await (await import("./stop.ts")).stopCommand(v),
  },
  status: {
    summary: [["status", "show a running agent's health, modules and channels"]],
    help: `Usage: ironpost status [--config PATH] [--json]

Reads the control API of the agent the config points at and prints its health, modules
and channels. Exit 0 healthy or degraded, 1 unhealthy, 3 not running.`,
    options: { json: BOOL },
    run: async (v) => await (await import("./status.ts")).statusCommand(v),
  },
  config: {
    summary: [["config show", "print the effective config (credentials redacted)"], [
      "config validate",
      "check a config and exit (same as --validate)",
    ]],
    help: `Usage: ironpost config show [--json] [--config PATH]
       ironpost config validate [--format human|json|github|sarif] [--strict] [--config PATH]

show: the effective config after defaults, file, environment and CLI, credentials in URLs
redacted, each value marked with where it came from.
validate: every problem at once as file:line:col: error: key: what; expected what.
Exit 0 valid (warnings allowed), 1 invalid.`,
    options: { json: BOOL, format: STR, strict: BOOL },
    positionals: true,
    run: async (v, p) => await (await import("./config_cmd.ts")).configCommand(p[0], v),
  },
  permissions: {
    summary: [["permissions", "print the Deno permission flags a config needs"]],
    help: `Usage: ironpost permissions [--config PATH] [--exec PATH] [--json]

Prints the Deno permission flags an agent running this config needs (what deno task start,
ironpost start and the compile task use). --exec names the executable 'ironpost start'
re-runs (default: this one).`,
    options: { json: BOOL, exec: STR },
    run: async (v) => await (await import("./permissions_cmd.ts")).permissionsCommand(v),
  },
  "install-unit": {
    summary: [["install-unit", "write the hardened systemd unit for this binary"]],
    help: `Usage: ironpost install-unit [--output PATH] [--exec PATH] [--config PATH]

Prints (or writes to --output, e.g. /etc/systemd/system/ironpost.service) the systemd unit
that runs this binary with the config: Type=notify with a watchdog, --validate before start
and reload, SIGHUP to reload, and the hardening the agent lives with. --exec names the
binary (default: this one when compiled, else /usr/local/bin/ironpost); --config the
config it runs (default /etc/ironpost/ironpost.toml).`,
    options: { output: STR, exec: STR },
    run: async (v) => await (await import("./install_unit_cmd.ts")).installUnitCommand(v),
  },
  block: {
    summary: [[
      "block CIDR",
      "drop a source in the packet filter (--ttl 1h|permanent, --reason TEXT, --force)",
    ]],
    help: `Usage: ironpost block <address|CIDR> --ttl DURATION|permanent [--reason TEXT] [--force]
                      [--config PATH]

Asks the running agent's packet filter to drop a source (v4 or v6, address or CIDR) until
the TTL passes: 90, 30s, 10m, 1h, 7d, at most 365d; --ttl permanent blocks until
unblocked (--ttl is required, and 0 is refused). Takes effect in the kernel before the
command returns and survives an agent restart with the time it has left.

A network wider than ebpf.max_block_prefix_v4 (default /8) or ebpf.max_block_prefix_v6
(default /32), such as 0.0.0.0/0, is refused unless --force is given. A network containing
the operator's own address (this session's SSH_CONNECTION client, or the one the agent was
started from) is refused even with --force. A block an allowlist entry makes a no-op is
applied with a warning on stderr. Exit 0 when applied, 1 when the agent refused it, 2 for
a usage error (a bad or missing TTL).`,
    options: { ttl: STR, reason: STR, force: BOOL },
    positionals: true,
    run: async (v, p) => await (await import("./decisions_cmd.ts")).blockCommand(p, v),
  },
  unblock: {
    summary: [["unblock CIDR", "remove a block decision"]],
    help: `Usage: ironpost unblock <address|CIDR> [--config PATH]

Removes the block decision for exactly that address or CIDR. Exit 1 when there is none.`,
    options: {},
    positionals: true,
    run: async (v, p) => await (await import("./decisions_cmd.ts")).unblockCommand(p, v),
  },
  decisions: {
    summary: [["decisions", "list live block decisions"]],
    help: `Usage: ironpost decisions [--json] [--config PATH]

Lists the live block decisions: network, time left, reason.`,
    options: { json: BOOL },
    run: async (v) => await (await import("./decisions_cmd.ts")).decisionsCommand(v),
  },
  rules: {
    summary: [[
      "rules list|validate|test",
      "Sigma rules: list, check (file:line:col), replay a log offline",
    ]],
    help: `Usage: ironpost rules list [--json]
       ironpost rules validate [PATH…] [--format human|json|github|sarif]
       ironpost rules test RULE_OR_DIR --input FILE [--source sshd|syslog|auditd|journal-json|json|events-ndjson] [--expect N] [--suppress SECS] [--json]

list: the rules of log_pipeline.rules_dir and extra_rules_dirs.
validate: every error in every file, as file:line:col (exit 1 on any).
test: replay a log file (or events recorded with \`ironpost trace --json\`) through the rules
offline, with the events' own timestamps, and print the alerts the agent would raise; with
--expect N, exit 1 unless exactly N alerts were raised. Repeats of a rule for one source within
--suppress seconds (default 60, as the agent) are counted, not printed.`,
    options: {
      json: BOOL,
      format: STR,
      input: STR,
      source: STR,
      expect: STR,
      suppress: STR,
    },
    positionals: true,
    run: async (v, p) => await (await import("./rules_cmd.ts")).rulesCommand(p, v),
  },
  alerts: {
    summary: [[
      "alerts",
      "list stored alerts (--since 1h, --severity high, --json); alerts show ID",
    ]],
    help: `Usage: ironpost alerts [--since DURATION] [--severity LEVEL] [--limit N] [--json]
       ironpost alerts show ID

Reads the alerts the agent stored (newest first): --since 1h keeps the last hour,
--severity high keeps high and critical. \`alerts show ID\` prints one alert with its evidence.`,
    options: {
      json: BOOL,
      since: STR,
      severity: STR,
      limit: STR,
    },
    positionals: true,
    run: async (v, p) => await (await import("./alerts_cmd.ts")).alertsCommand(p, v),
  },
  trace: {
    summary: [[
      "trace",
      "follow host events live (--kind process,file,network, --container, --json)",
    ]],
    help: `Usage: ironpost trace [--kind process,file,network] [--container NAME] [--json]

Follows the running agent's host sensor events ([sensors] enabled) as they happen: process
executions with their parent, file writes and sensitive reads, TCP connects and accepts,
each with the container it came from. --json prints one event per line (NDJSON): the
recording format, e.g. ironpost trace --json > events.ndjson. Ctrl-C stops.`,
    options: { json: BOOL, kind: STR, container: STR },
    run: async (v) => await (await import("./trace_cmd.ts")).traceCommand(v),
  },
  scan: {
    summary: [[
      "scan",
      "find vulnerable packages in directories and containers (SBOM, SARIF, \u2026)",
    ]],
    help: `Usage: ironpost scan [--dir PATH]… [--container NAME|ID]… [--format FMT] [--output FILE]
                    [--fail-on SEVERITY] [--db PATH] [--config PATH]

Inventories each directory (lockfiles of npm, yarn, pnpm, Cargo, Go, pip, Poetry, Pipenv,
uv, Composer and Bundler; installed dpkg packages, node_modules, Python dist-info) and each
running container's root filesystem, matches every package against the local OSV database
(each ecosystem's own version order; Debian by source package and the release in the
scanned root's os-release), and prints what is vulnerable. Without --dir or --container it
scans [sbom] scan_dirs. Files are recognised by their standard names.

  --format FMT        table (default), json, cyclonedx (CycloneDX 1.6 JSON), cyclonedx-xml,
                      sarif (SARIF 2.1.0, with the lockfile line where known)
  --output FILE       write the report there instead of stdout
  --fail-on SEV       critical, high, medium, low, none (any finding) or never
                      (default: [sbom] min_severity, else medium)
  --db PATH           the OSV database (default: [sbom] vuln_db_path); build one with
                      ironpost vulndb update

Exit 0: no finding at or above --fail-on. 1: at least one is. 2: the scan could not run
(usage, no database, a directory or container that cannot be read). Files that cannot be
parsed are warned about on stderr and do not change the exit code.
Severity comes from the CVSS vector (v4.0, else v3), else the database's own label. A
finding with neither is "unknown" and counts as medium: it fails --fail-on medium, low and
none, not high or critical (the same rule decides what [sbom] min_severity alerts on).
The command runs with the Deno permissions its config derives: a directory outside
[sbom] scan_dirs is refused with the --allow-read flag that would allow it, and
--container reaches Docker through its socket (container.docker_socket), which the
flags include when [sbom] is enabled with scan_containers = true.`,
    options: {
      dir: STRS,
      container: STRS,
      format: STR,
      output: STR,
      "fail-on": STR,
      db: STR,
    },
    run: async (v) => await (await import("./scan_cmd.ts")).scanCommand(v),
  },
  guard: {
    summary: [[
      "guard actions|release|test",
      "response actions taken; undo one; which policies an alert would trigger",
    ]],
    help: `Usage: ironpost guard actions [--since DURATION] [--limit N] [--json]
       ironpost guard release <container|address>
       ironpost guard test --alert FILE [--json]

actions: the container guard's audit trail from the store (newest first): what each response
policy decided for which alert and target, and how it ended (planned, done, would, failed,
suppressed, gone, queued, expired, skipped), with Docker's answer.
release: undo what the guard did, through the running agent: unpause a container it paused
and reconnect the networks it was isolated from (with their aliases), as recorded before the
first action; for an address, remove its block decision. Exit 1 when anything could not be
restored.
test: which policies of container.policy_dir an alert (an AlertEvent as JSON, e.g. from
"ironpost alerts show ID") would trigger and the actions each would take, without acting.`,
    options: { since: STR, limit: STR, json: BOOL, alert: STR },
    positionals: true,
    run: async (v, p) => await (await import("./guard_cmd.ts")).guardCommand(p, v),
  },
  vulndb: {
    summary: [[
      "vulndb update|status",
      "build or refresh the local OSV database scans read; show what it holds",
    ]],
    help: `Usage: ironpost vulndb update [--source URL|DIR|ZIP] [--db PATH] [--force]
       ironpost vulndb status [--json] [--db PATH]

update: build the local OSV database from a directory of OSV records (<Ecosystem>/<ID>.json),
an OSV all.zip, the URL of one, or a base URL serving <Ecosystem>/all.zip (default: OSV's
bucket, https://osv-vulnerabilities.storage.googleapis.com/). Archives are checked (CRCs,
records) and the new database replaces the old one atomically, only when complete; a
source that would drop more than a tenth of an ecosystem's records is refused unless
--force.
status: the database's source, age, and records and packages per ecosystem.
--db PATH overrides [sbom] vuln_db_path. Exit 0 done, 1 refused or no database.`,
    options: {
      source: STR,
      db: STR,
      json: BOOL,
      force: BOOL,
    },
    positionals: true,
    run: async (v, p) => await (await import("./vulndb_cmd.ts")).vulndbCommand(p, v),
  },
  version: {
    summary: [["version", "print the version"]],
    help: `Usage: ironpost version [--json]

Prints Ironpost's version and the Deno, V8 and TypeScript versions it runs on.`,
    options: { json: BOOL },
    run: (v) => {
      out(
        v.json
          ? JSON.stringify({ ironpost: VERSION, ...Deno.version })
          : `ironpost ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
      );
      return Promise.resolve(0);
    },
  },
  help: {
    summary: [],
    help: `Usage: ironpost help [COMMAND]\n\nPrints the help of a command, or this overview.`,
    options: {},
    positionals: true,
    run: (_v, p) => {
      out(helpText(p[0] ?? "main"));
      return Promise.resolve(0);
    },
  },
};
