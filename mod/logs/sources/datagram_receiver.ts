import type { ReceiveBuffer } from "./socket_buffer.ts";

/**
 * Called once per datagram, in arrival order. `data` is only valid during the call (the
 * receiver reuses its buffers); `longer` says the datagram did not fit the receiver's buffer
 * and `data` is its first part.
 */
export type OnDatagram = (data: Uint8Array, peer: string, longer: boolean) => void;

/** Where a UDP receiver binds and how large a receive buffer it asks for. */
export interface DatagramReceiverOptions {
  hostname: string;
  port: number;
  recvBufferBytes: number;
}

/**
 * A bound UDP socket delivering datagrams to an `OnDatagram` callback: `MmsgReceiver`
 * (recvmmsg through FFI, the fast one) or `DgramReceiver` (node:dgram, without FFI).
 */
export interface DatagramReceiver {
  /** "recvmmsg" or "node:dgram", for health and stats. */
  readonly kind: string;
  /** The bound address (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** The receive buffer as set, or why not. */
  readonly buffer: ReceiveBuffer;
  /** The last receive error, if any (the receiver keeps going). */
  readonly problem: string | undefined;
  /** Datagrams the kernel dropped on this socket; undefined when it cannot tell. */
  drops(): number | undefined;
  /** Stop receiving; resolves once the callback will not be called again. */
  close(): Promise<void>;
}
