import { resolve } from "node:path";
import { DEFAULT_EXEC, renderUnit } from "../daemon/unit.ts";
import { DEFAULT_CONFIG, UsageError, type Values } from "./args.ts";
import { err, out } from "./output.ts";
import { isCompiled } from "./self.ts";

/**
 * `ironpost install-unit`: the systemd unit (mod/daemon/unit.ts) for this binary, on stdout
 * or written to --output. Under `deno run` the executable is not this process (that is
 * deno), so --exec names it, else the unit points at /usr/local/bin/ironpost with a note.
 */
export async function installUnitCommand(values: Values): Promise<number> {
  let exec = typeof values.exec === "string" ? values.exec : undefined;
  if (exec === undefined) {
    if (isCompiled()) exec = Deno.execPath();
    else {
      exec = DEFAULT_EXEC;
      err(
        `ironpost: note: running under deno run, so the unit runs ${DEFAULT_EXEC}; ` +
          "pass --exec PATH to name the installed binary",
      );
    }
  }
  const config = typeof values.config === "string" ? values.config : DEFAULT_CONFIG;
  for (const [flag, path] of [["--exec", exec], ["--config", config]]) {
    if (/[\n\r]/.test(path)) throw new UsageError(`${flag} cannot contain a line break`);
  }
  const unit = renderUnit({ exec: resolve(exec), config: resolve(config) });
  const output = typeof values.output === "string" ? values.output : undefined;
  if (!output) {
    Deno.stdout.writeSync(new TextEncoder().encode(unit));
    return 0;
  }
  await Deno.writeTextFile(output, unit, { mode: 0o644 });
  out(`wrote ${output}`);
  if (output.startsWith("/etc/systemd/system/")) {
    out("then: systemctl daemon-reload && systemctl enable --now ironpost");
  }
  return 0;
}
