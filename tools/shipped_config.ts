/**
 * `deno task config:toml`: write `config/ironpost.toml` from the schema (the core's sections
 * and each capability's spec), so the documented config never drifts from what the agent
 * accepts. A test fails when the committed file differs.
 */
import { renderShippedToml } from "../mod/config/mod.ts";

const path = new URL("../config/ironpost.toml", import.meta.url);
await Deno.writeTextFile(path, renderShippedToml());
console.log(`config:toml: wrote ${path.pathname}`);
