/**
 * A sleep that `wake()` ends early, so a polling loop notices `stop()` at once instead of
 * after its poll interval or backoff.
 */
export class Sleeper {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: (() => void) | undefined;
  #pending = false;

  sleep(ms: number): Promise<void> {
    this.wake();
    // A nudge that came while the loop was busy ends the next sleep at once.
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.wake(), ms);
    });
  }

  /**
   * End the current sleep early; with `remember`, a wake while nobody sleeps ends the next
   * sleep at once (a file change noticed while the loop was reading).
   */
  wake(remember = false): void {
    if (remember && !this.#resolve) this.#pending = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const r = this.#resolve;
    this.#resolve = undefined;
    r?.();
  }
}

/**
 * Wait for `p` at most `ms`; true if it settled in time. The timer is always cleared, so a
 * stopped source leaves no timer behind.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
