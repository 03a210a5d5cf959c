import { formatDiagnostic, renderJson, renderToml } from "../config/mod.ts";
import { loadOrReport, UsageError, type Values } from "./args.ts";
import { err, out } from "./output.ts";
import { validateCommand } from "./validate.ts";

/** `ironpost config show|validate`. */
export async function configCommand(sub: string | undefined, values: Values): Promise<number> {
  if (sub === "validate") return await validateCommand(values);
  if (sub !== "show") {
    throw new UsageError(
      sub
        ? `unknown config subcommand "${sub}"; expected show or validate`
        : "config needs a subcommand: show or validate",
      "config",
    );
  }
  const loaded = await loadOrReport(values);
  if (!loaded) return 1;
  for (const w of loaded.warnings) err(formatDiagnostic(w));
  out(
    values.json
      ? renderJson(loaded.config, loaded.origins)
      : renderToml(loaded.config, loaded.origins),
  );
  return 0;
}
