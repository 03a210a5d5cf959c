/**
 * uid → user name from /etc/passwd, for Sigma's `User` field. Read once and again when the
 * file changes; a uid without a name is shown as its number.
 */
export class UserNames {
  #names = new Map<number, string>();
  #mtime = -1;
  #checkedAt = -Infinity;
  readonly #path: string;

  constructor(path = "/etc/passwd") {
    this.#path = path;
  }

  name(uid: number): string {
    this.#refresh();
    return this.#names.get(uid) ?? String(uid);
  }

  #refresh(): void {
    // stat at most every 5 s: this runs for every event
    const now = performance.now();
    if (now - this.#checkedAt < 5000) return;
    this.#checkedAt = now;
    let mtime: number;
    try {
      mtime = Deno.statSync(this.#path).mtime?.getTime() ?? 0;
    } catch {
      return;
    }
    if (mtime === this.#mtime) return;
    this.#mtime = mtime;
    const names = new Map<number, string>();
    for (const line of Deno.readTextFileSync(this.#path).split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && /^\d+$/.test(f[2])) names.set(Number(f[2]), f[0]);
    }
    this.#names = names;
  }
}
