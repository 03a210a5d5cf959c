/** Help text for each command; `ironpost <command> --help` prints it. */
export const HELP: Record<string, string> = {
  main: `ironpost — Linux host security agent

Usage: ironpost [command] [options]

Commands:
  run                 run the agent in the foreground (the default command)
  start               start the agent in the background and wait until it is healthy
  stop                stop a running agent gracefully
  status              show a running agent's health, modules and channels
  config show         print the effective config (credentials redacted)
  config validate     check a config and exit (same as --validate)
  permissions         print the Deno permission flags a config needs
  block CIDR          drop a source in the packet filter (--ttl 1h, --reason TEXT)
  unblock CIDR        remove a block decision
  decisions           list live block decisions
  rules list|validate|test   Sigma rules: list, check (file:line:col), replay a log offline
  alerts              list stored alerts (--since 1h, --severity high, --json); alerts show ID
  trace               follow host events live (--kind process,file,network, --container, --json)
  scan                find vulnerable packages in directories and containers (SBOM, SARIF, …)
  vulndb update|status   build or refresh the local OSV database scans read; show what it holds
  version             print the version

Options (every command):
  -c, --config PATH   config file (default /etc/ironpost/ironpost.toml)
  --log-level LEVEL   trace, debug, info, warn, error (overrides general.log_level)
  --log-format FMT    json or pretty (overrides general.log_format)
  --log-file PATH     log to a file instead of stderr
  --pid-file PATH     PID file (overrides general.pid_file)
  --validate          check the config and exit 0 (valid) or 1 (invalid)
  --format FMT        with --validate: human (default) or json
  -h, --help          help for a command: ironpost <command> --help

Precedence: command line > environment (IRONPOST_<SECTION>_<KEY>) > config file > defaults.`,
  run:
    `Usage: ironpost run [--config PATH] [--log-level L] [--log-format F] [--pid-file P] [--validate]

Runs the agent in the foreground until SIGTERM or SIGINT (graceful stop, exit 0).
SIGHUP re-reads the config and applies what can change live; an invalid config is refused
and the running one kept. Exit 1 when the config is invalid or a module fails to start.`,
  start: `Usage: ironpost start [--config PATH] [--timeout SECS]

Starts the agent in the background, waits until its control API reports it healthy
(default 15 s), then prints its PID and log file. Exit 1 with the reason when it exits or
does not become healthy in time. Logs go to general.log_file, or <state_dir>/ironpost.log.`,
  stop: `Usage: ironpost stop [--config PATH] [--timeout SECS]

Asks the running agent to stop gracefully through its control socket and waits until the
process is gone. Exit 0 when stopped or not running, 1 when it did not stop in time.`,
  status: `Usage: ironpost status [--config PATH] [--json]

Reads the control API of the agent the config points at and prints its health, modules
and channels. Exit 0 healthy or degraded, 1 unhealthy, 3 not running.`,
  config: `Usage: ironpost config show [--json] [--config PATH]
       ironpost config validate [--format human|json] [--config PATH]

show: the effective config after defaults, file, environment and CLI, credentials in URLs
redacted, each value marked with where it came from.
validate: every problem at once as file:line:col: error: key: what; expected what.
Exit 0 valid (warnings allowed), 1 invalid.`,
  permissions: `Usage: ironpost permissions [--config PATH] [--exec PATH] [--json]

Prints the Deno permission flags an agent running this config needs (what deno task start,
ironpost start and the compile task use). --exec names the executable 'ironpost start'
re-runs (default: this one).`,
  block: `Usage: ironpost block <address|CIDR> [--ttl DURATION] [--reason TEXT] [--config PATH]

Asks the running agent's packet filter to drop a source (v4 or v6, address or CIDR) until
the TTL passes (90, 30s, 10m, 1h, 7d; default: until unblocked). Takes effect in the kernel
before the command returns and survives an agent restart with the time it has left.`,
  unblock: `Usage: ironpost unblock <address|CIDR> [--config PATH]

Removes the block decision for exactly that address or CIDR. Exit 1 when there is none.`,
  trace: `Usage: ironpost trace [--kind process,file,network] [--container NAME] [--json]

Follows the running agent's host sensor events ([sensors] enabled) as they happen: process
executions with their parent, file writes and sensitive reads, TCP connects and accepts,
each with the container it came from. --json prints one event per line (NDJSON): the
recording format, e.g. ironpost trace --json > events.ndjson. Ctrl-C stops.`,
  decisions: `Usage: ironpost decisions [--json] [--config PATH]

Lists the live block decisions: network, time left, reason.`,
  rules: `Usage: ironpost rules list [--json]
       ironpost rules validate [PATH…] [--format human|json|github|sarif]
       ironpost rules test RULE_OR_DIR --input FILE [--source sshd|syslog|auditd|journal-json|json|events-ndjson] [--expect N] [--suppress SECS] [--json]

list: the rules of log_pipeline.rules_dir and extra_rules_dirs.
validate: every error in every file, as file:line:col (exit 1 on any).
test: replay a log file (or events recorded with \`ironpost trace --json\`) through the rules
offline, with the events' own timestamps, and print the alerts the agent would raise; with
--expect N, exit 1 unless exactly N alerts were raised. Repeats of a rule for one source within
--suppress seconds (default 60, as the agent) are counted, not printed.`,
  alerts: `Usage: ironpost alerts [--since DURATION] [--severity LEVEL] [--limit N] [--json]
       ironpost alerts show ID

Reads the alerts the agent stored (newest first): --since 1h keeps the last hour,
--severity high keeps high and critical. \`alerts show ID\` prints one alert with its evidence.`,
  scan: `Usage: ironpost scan [--dir PATH]… [--container NAME|ID]… [--format FMT] [--output FILE]
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
--container needs --allow-run=docker ([sbom] enabled with scan_containers = true).`,
  vulndb: `Usage: ironpost vulndb update [--source URL|DIR|ZIP] [--db PATH] [--force]
       ironpost vulndb status [--json] [--db PATH]

update: build the local OSV database from a directory of OSV records (<Ecosystem>/<ID>.json),
an OSV all.zip, the URL of one, or a base URL serving <Ecosystem>/all.zip (default: OSV's
bucket, https://osv-vulnerabilities.storage.googleapis.com/). Archives are checked (CRCs,
records) and the new database replaces the old one atomically, only when complete; a
source that would drop more than a tenth of an ecosystem's records is refused unless
--force.
status: the database's source, age, and records and packages per ecosystem.
--db PATH overrides [sbom] vuln_db_path. Exit 0 done, 1 refused or no database.`,
  version: `Usage: ironpost version [--json]

Prints Ironpost's version and the Deno, V8 and TypeScript versions it runs on.`,
};
