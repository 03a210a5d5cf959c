import { controlRequest } from "../daemon/mod.ts";
import { IronpostError, parseCidr, sshClientAddress } from "../core/mod.ts";
import { loadOrFail, UsageError, type Values } from "./args.ts";
import { err, out, table } from "./output.ts";
import { parseBlockTtl, PERMANENT } from "../ebpf/ttl.ts";

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

/** The address this command's SSH session comes from, if any (`SSH_CONNECTION`). */
function operatorAddress(): string | undefined {
  try {
    return sshClientAddress(Deno.env.get("SSH_CONNECTION"));
  } catch {
    return undefined; // not granted: the agent still spares the one it was started from
  }
}

/** An epoch-ms expiry as text, never throwing on a value out of Date's range. */
function until(expiresAt: number): string {
  if (!expiresAt) return "until unblocked";
  const d = new Date(expiresAt);
  return Number.isNaN(d.getTime()) ? `until epoch ms ${expiresAt}` : `until ${d.toISOString()}`;
}

/**
 * `ironpost block <cidr> --ttl DURATION|permanent [--reason …] [--force]`. The TTL is
 * required (1s to 365d, or `permanent`) and checked here before anything is sent; the agent
 * refuses a network wider than `ebpf.max_block_prefix_v4`/`_v6` without `--force`, and one
 * containing this session's own address (`SSH_CONNECTION`) in any case. Warnings (e.g. an
 * allowlist entry making the block a no-op) go to stderr; the exit code stays 0.
 */
export async function blockCommand(positionals: string[], values: Values): Promise<number> {
  const cidr = positionals[0];
  if (!cidr) {
    throw new UsageError(
      "block needs an address or CIDR, e.g. ironpost block 198.18.0.2 --ttl 10m",
      "block",
    );
  }
  // What the agent would refuse anyway, refused here first (same words, exit 1).
  const net = parseCidr(cidr.trim());
  if (typeof net === "string") {
    throw new IronpostError("E_DECISION", `block ${cidr}: Cannot block ${cidr}: ${net}`);
  }
  if (typeof values.ttl !== "string") {
    throw new UsageError(
      `block needs --ttl: a duration from 1s to 365d (e.g. --ttl 10m), or --ttl ${PERMANENT} for a block without expiry`,
      "block",
    );
  }
  try {
    parseBlockTtl(values.ttl);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), "block");
  }
  const q = new URLSearchParams({ cidr, ttl: values.ttl });
  if (typeof values.reason === "string") q.set("reason", values.reason);
  if (values.force === true) q.set("force", "1");
  const operator = operatorAddress();
  if (operator) q.set("operator", operator);
  const r = await controlRequest(await socketOf(values), "POST", `/decisions?${q}`);
  const { decision, warnings } = expect(r, [201], `block ${cidr}`) as {
    decision: Decision;
    warnings?: string[];
  };
  for (const w of warnings ?? []) err(`warning: ${w}`);
  out(`blocked ${decision.cidr} ${until(decision.expiresAt)} (${decision.reason})`);
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
