import { controlRequest } from "../daemon/mod.ts";
import { IronpostError } from "../core/mod.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { out, table } from "./output.ts";

interface Decision {
  cidr: string;
  expiresAt: number;
  reason: string;
  createdAt: number;
}

async function socketOf(values: Values): Promise<string> {
  return (await loadOrFail(values)).config.general.control_socket;
}

/** Turn a control API answer into output or an error that says what the agent said. */
function expect(r: { status: number; body: string }, ok: number[], what: string): unknown {
  const body = JSON.parse(r.body || "{}");
  if (r.status === 404 && body.endpoints) {
    throw new IronpostError(
      "E_NO_FILTER",
      `the running agent has no packet filter (enable [ebpf] and restart it) to ${what}`,
    );
  }
  if (!ok.includes(r.status)) {
    throw new IronpostError("E_DECISION", `${what}: ${body.error ?? `HTTP ${r.status}`}`);
  }
  return body;
}

/** `ironpost block <cidr> [--ttl 1h] [--reason …]`. */
export async function blockCommand(positionals: string[], values: Values): Promise<number> {
  const cidr = positionals[0];
  if (!cidr) {
    throw new UsageError(
      "block needs an address or CIDR, e.g. ironpost block 198.18.0.2 --ttl 10m",
      "block",
    );
  }
  const q = new URLSearchParams({ cidr, ttl: String(values.ttl ?? "0") });
  if (typeof values.reason === "string") q.set("reason", values.reason);
  const r = await controlRequest(await socketOf(values), "POST", `/decisions?${q}`);
  const { decision } = expect(r, [201], `block ${cidr}`) as { decision: Decision };
  out(
    `blocked ${decision.cidr} ${
      decision.expiresAt ? `until ${new Date(decision.expiresAt).toISOString()}` : "until unblocked"
    } (${decision.reason})`,
  );
  return 0;
}

/** `ironpost unblock <cidr>`. */
export async function unblockCommand(positionals: string[], values: Values): Promise<number> {
  const cidr = positionals[0];
  if (!cidr) throw new UsageError("unblock needs the address or CIDR of a decision", "unblock");
  const r = await controlRequest(
    await socketOf(values),
    "DELETE",
    `/decisions?${new URLSearchParams({ cidr })}`,
  );
  expect(r, [200], `unblock ${cidr}`);
  out(`unblocked ${cidr}`);
  return 0;
}

/** `ironpost decisions [--json]`. */
export async function decisionsCommand(values: Values): Promise<number> {
  const r = await controlRequest(await socketOf(values), "GET", "/decisions");
  const { decisions } = expect(r, [200], "list decisions") as { decisions: Decision[] };
  if (values.json) {
    out(JSON.stringify(decisions, null, 2));
    return 0;
  }
  const now = Date.now();
  out(table(
    ["CIDR", "EXPIRES IN", "REASON"],
    decisions.map((d) => [
      d.cidr,
      d.expiresAt ? `${Math.max(0, Math.round((d.expiresAt - now) / 1000))} s` : "never",
      d.reason,
    ]),
  ));
  return 0;
}
