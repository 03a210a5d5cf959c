import { formatIp, parseIp } from "./cidr.ts";

/**
 * The client address of an `SSH_CONNECTION` value (`client port server port`), or of a bare
 * address; an IPv4-mapped IPv6 address becomes the IPv4 one, a zone is dropped. The packet
 * filter and the guard both refuse to block it: the operator must never lock themselves out.
 *
 * @example
 * ```ts
 * import { sshClientAddress } from "./operator.ts";
 * console.assert(sshClientAddress("198.18.2.2 51234 198.18.0.1 22") === "198.18.2.2");
 * ```
 */
export function sshClientAddress(value: string | undefined): string | undefined {
  const first = value?.trim().split(/\s+/)[0];
  if (!first) return undefined;
  let ip = first.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1];
  const parsed = parseIp(ip);
  return parsed ? formatIp(parsed.bytes) : undefined;
}
