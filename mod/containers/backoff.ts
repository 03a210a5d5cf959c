/**
 * Exponential backoff with a cap: `min`, `2·min`, `4·min`, … up to `max`, back to `min`
 * after `reset()` (a connection that worked).
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const b = new Backoff(100, 350);
 * console.assert([b.next(), b.next(), b.next(), b.next()].join() === "100,200,350,350");
 * b.reset();
 * console.assert(b.next() === 100);
 * ```
 */
export class Backoff {
  readonly min: number;
  readonly max: number;
  #next: number;

  constructor(minMs: number, maxMs: number) {
    this.min = Math.max(1, minMs);
    this.max = Math.max(this.min, maxMs);
    this.#next = this.min;
  }

  /** The delay to wait now; the following one doubles, up to the cap. */
  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.max, d * 2);
    return d;
  }

  /** The delay `next()` will return, without advancing. */
  peek(): number {
    return this.#next;
  }

  reset(): void {
    this.#next = this.min;
  }
}
