/**
 * Assertions for tests, on `node:assert` (Deno's std is on JSR, which this build cannot
 * reach). Typed as assertion functions so TypeScript narrows after them.
 */
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, message?: string): asserts cond {
  nodeAssert.ok(cond, message);
}

export function assertEquals<T>(
  actual: unknown,
  expected: T,
  message?: string,
): asserts actual is T {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, re: RegExp, message?: string): void {
  nodeAssert.match(actual, re, message);
}

/** Await a promise that must reject; returns the error for further checks. */
export async function assertRejects(p: Promise<unknown>, message?: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new nodeAssert.AssertionError({ message: message ?? "expected the promise to reject" });
}
