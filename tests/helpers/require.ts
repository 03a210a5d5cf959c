/**
 * Gate for tests that need root or a service. Without the part the test is skipped with a
 * note, unless IRONPOST_REQUIRE_ALL=1 (set by .ci/run), where a missing part fails it.
 */
export function requirePart(name: string, present: boolean): boolean {
  if (present) return true;
  if (Deno.env.get("IRONPOST_REQUIRE_ALL") === "1") {
    throw new Error(`${name} is required (IRONPOST_REQUIRE_ALL=1) but not available here`);
  }
  console.warn(`skipping: ${name} is not available (set IRONPOST_REQUIRE_ALL=1 to fail instead)`);
  return false;
}

/** True when running as root; see `requirePart`. */
export function requireRoot(): boolean {
  return requirePart("root", Deno.uid() === 0);
}
