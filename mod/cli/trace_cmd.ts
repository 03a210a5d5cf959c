import type { HostEvent } from "../core/mod.ts";
import { controlStream } from "../daemon/mod.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { out } from "./output.ts";

const KINDS = ["process", "file", "network"];

/** One event as a terminal line: time, container or host, what, who. */
export function formatEvent(e: HostEvent): string {
  const time = e.ts.slice(11, 23);
  const where = e.container ? `${e.container.name}` : "host";
  const f = e.fields;
  const who = `${e.image} (pid ${e.pid}${f.User !== undefined ? `, ${f.User}` : ""})`;
  let what: string;
  switch (e.sensor) {
    case "process":
      what = e.action === "exec"
        ? `exec     ${e.commandLine ?? e.image}  <- ${f.ParentImage ?? "?"}`
        : e.action === "rename"
        ? `rename   ${f.OldName} -> ${f.NewName}  ${who}`
        : `${e.action.padEnd(8)} ${f.Image} (/proc shows ${f.ProcImage})`;
      break;
    case "file": {
      const flag = f.Watched ? " [watched]" : f.Sensitive ? " [sensitive]" : "";
      const target = e.action === "rename"
        ? `${f.SourceFilename} -> ${f.TargetFilename}`
        : String(f.TargetFilename);
      what = `${e.action.padEnd(8)} ${target}${flag}  by ${who}`;
      break;
    }
    case "network":
      what = `${e.action.padEnd(8)} ${f.SourceIp}:${f.SourcePort} -> ` +
        `${f.DestinationIp}:${f.DestinationPort}${
          f.Established === false ? " (failed)" : ""
        }  by ${who}`;
      break;
  }
  return `${time} ${where.padEnd(16)} ${what}`;
}

/**
 * `ironpost trace [--kind process,file,network] [--container NAME] [--json]`: follow the
 * running agent's host events live. `--json` prints one event per line (NDJSON), the
 * recording format that `ironpost rules test --input` replays.
 */
export async function traceCommand(values: Values): Promise<number> {
  const kind = typeof values.kind === "string" ? values.kind : KINDS.join(",");
  for (const k of kind.split(",")) {
    if (!KINDS.includes(k.trim())) {
      throw new UsageError(`unknown --kind "${k}"; expected ${KINDS.join(", ")}`, "trace");
    }
  }
  const q = new URLSearchParams({ kind });
  if (typeof values.container === "string") q.set("container", values.container);
  const socket = (await loadOrFail(values)).config.general.control_socket;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await controlStream(socket, `/events?${q}`, (line) => {
      const e = JSON.parse(line) as HostEvent | { kind: "hello" };
      if (e.kind !== "host") return;
      out(values.json ? line : formatEvent(e));
    }, stop.signal);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  return 0;
}
