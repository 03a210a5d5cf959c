/**
 * The `ironpost` executable: the same entry point for `deno run` and `deno compile`.
 * @module
 */
import { main } from "./mod/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
