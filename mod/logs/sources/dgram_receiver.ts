import dgram from "node:dgram";
import { errorMessage } from "../../core/mod.ts";
import type { DatagramReceiver, DatagramReceiverOptions, OnDatagram } from "./datagram_receiver.ts";
import { type ReceiveBuffer, UdpSocketControl } from "./socket_buffer.ts";

/**
 * UDP through node:dgram, not `Deno.listenDatagram`, which is still behind `--unstable-net`
 * in Deno 2.x. The fallback when FFI is not allowed: one event per datagram tops out around
 * 25–30k datagrams/s. The receive buffer is raised through FFI when it is allowed
 * (socket_buffer.ts); otherwise it stays at the kernel default and `buffer.problem` says so.
 */
export class DgramReceiver implements DatagramReceiver {
  readonly kind = "node:dgram";
  readonly addr: { hostname: string; port: number };
  readonly buffer: ReceiveBuffer;
  #problem: string | undefined;
  #socket: dgram.Socket;
  #control?: UdpSocketControl;

  private constructor(
    socket: dgram.Socket,
    addr: { hostname: string; port: number },
    buffer: ReceiveBuffer,
    control?: UdpSocketControl,
  ) {
    this.#socket = socket;
    this.addr = addr;
    this.buffer = buffer;
    this.#control = control;
    socket.on("error", (err) => this.#problem = String(err));
  }

  /** Bind and start delivering; rejects with node's error when the address cannot be bound. */
  static async open(opts: DatagramReceiverOptions, onDatagram: OnDatagram): Promise<DgramReceiver> {
    const socket = dgram.createSocket({ type: opts.hostname.includes(":") ? "udp6" : "udp4" });
    // Listen before binding: node:dgram starts reading at bind, and drops unheard messages.
    socket.on("message", (msg, rinfo) => onDatagram(msg, rinfo.address, false));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(opts.port, opts.hostname, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    const a = socket.address();
    let control: UdpSocketControl | undefined;
    let buffer: ReceiveBuffer;
    try {
      control = UdpSocketControl.find(a);
      buffer = control.raiseReceiveBuffer(opts.recvBufferBytes);
    } catch (err) {
      buffer = { bytes: 0, via: "none", problem: errorMessage(err) };
    }
    return new DgramReceiver(socket, { hostname: a.address, port: a.port }, buffer, control);
  }

  get problem(): string | undefined {
    return this.#problem;
  }

  drops(): number | undefined {
    return this.#control?.drops();
  }

  async close(): Promise<void> {
    // The descriptor number is only ours while the socket is open.
    this.#control?.close();
    this.#control = undefined;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
