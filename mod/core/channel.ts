/** Thrown by `send` on a closed channel; it keeps the value so the caller can spool it. */
export class ChannelClosedError<T> extends Error {
  readonly value: T;
  constructor(name: string, value: T) {
    super(`Channel "${name}" is closed`);
    this.name = "ChannelClosedError";
    this.value = value;
  }
}

/** Counters a channel exposes to `/status` and `/metrics`. */
export interface ChannelStats {
  name: string;
  capacity: number;
  depth: number;
  sent: number;
  received: number;
  dropped: number;
  closed: boolean;
}

/**
 * A bounded multi-producer, multi-consumer queue between modules.
 *
 * `send` waits while the channel is full, which is how a slow consumer slows its producers
 * instead of losing events. `trySend` never waits: for sources that cannot be paused (a
 * packet ring buffer) it drops and counts. `close()` refuses new values but every value
 * already queued is still delivered, so a graceful stop loses nothing.
 *
 * @example
 * ```ts
 * import { Channel } from "./channel.ts";
 * const ch = new Channel<number>("demo", 2);
 * await ch.send(1);
 * ch.close();
 * for await (const v of ch) console.assert(v === 1);
 * ```
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly name: string;
  readonly capacity: number;
  #buf: T[] = [];
  #head = 0;
  #closed = false;
  #sent = 0;
  #received = 0;
  #dropped = 0;
  // Receivers waiting for a value, and senders waiting for room, in arrival order.
  #receivers: ((r: IteratorResult<T>) => void)[] = [];
  #senders: { value: T; resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(name: string, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Channel "${name}" capacity must be an integer >= 1, got ${capacity}`);
    }
    this.name = name;
    this.capacity = capacity;
  }

  get depth(): number {
    return this.#buf.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queue a value, waiting while the channel is full. Rejects with `ChannelClosedError`. */
  send(value: T): Promise<void> {
    if (this.#closed) return Promise.reject(new ChannelClosedError(this.name, value));
    if (this.#deliver(value)) return Promise.resolve();
    return new Promise((resolve, reject) => this.#senders.push({ value, resolve, reject }));
  }

  /** Queue a value if there is room; otherwise count it as dropped and return false. */
  trySend(value: T): boolean {
    if (this.#closed) {
      this.#dropped++;
      return false;
    }
    if (this.#deliver(value)) return true;
    this.#dropped++;
    return false;
  }

  /** The next value if one is queued now, without waiting; undefined otherwise. */
  tryRecv(): T | undefined {
    if (this.depth === 0) return undefined;
    const value = this.#shift();
    this.#received++;
    this.#admitSender();
    return value;
  }

  /** The next value, or `done` once the channel is closed and drained. */
  recv(): Promise<IteratorResult<T>> {
    if (this.depth > 0) {
      const value = this.#shift();
      this.#received++;
      this.#admitSender();
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#receivers.push(resolve));
  }

  /**
   * Stop accepting values. Queued values and senders already waiting for room are still
   * delivered; receivers see `done` only after the last of them.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.depth === 0 && this.#senders.length === 0) {
      for (const r of this.#receivers.splice(0)) r({ value: undefined, done: true });
    }
  }

  stats(): ChannelStats {
    return {
      name: this.name,
      capacity: this.capacity,
      depth: this.depth,
      sent: this.#sent,
      received: this.#received,
      dropped: this.#dropped,
      closed: this.#closed,
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      const r = await this.recv();
      if (r.done) return;
      yield r.value;
    }
  }

  #deliver(value: T): boolean {
    const receiver = this.#receivers.shift();
    if (receiver) {
      this.#sent++;
      this.#received++;
      receiver({ value, done: false });
      return true;
    }
    if (this.depth < this.capacity) {
      this.#sent++;
      this.#buf.push(value);
      return true;
    }
    return false;
  }

  #shift(): T {
    const value = this.#buf[this.#head]!;
    this.#head++;
    if (this.#head === this.#buf.length) {
      this.#buf = [];
      this.#head = 0;
      return value;
    }
    // Compact once the consumed prefix dominates, so a long-lived channel stays small.
    if (this.#head > 1024 && this.#head * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#head);
      this.#head = 0;
    }
    return value;
  }

  #admitSender(): void {
    const s = this.#senders.shift();
    if (s) {
      this.#sent++;
      this.#buf.push(s.value);
      s.resolve();
    } else if (this.#closed && this.depth === 0) {
      for (const r of this.#receivers.splice(0)) r({ value: undefined, done: true });
    }
  }
}
