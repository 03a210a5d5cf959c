import { formatIp, parseIp } from "../core/mod.ts";

/**
 * The client address of an `SSH_CONNECTION` value (`client port server port`), or of a bare
 * address; an IPv4-mapped IPv6 address becomes the IPv4 one, a zone is dropped.
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
