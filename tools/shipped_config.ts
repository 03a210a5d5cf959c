/**
 * `deno task config:toml`: write `config/ironpost.toml` and the README's config reference from
 * the schema (the core's sections and each capability's spec), so the documented config never
 * drifts from what the agent accepts. Tests fail when the committed files differ.
 */
import { renderShippedToml, withConfigReference } from "../mod/config/mod.ts";

const toml = new URL("../config/ironpost.toml", import.meta.url);
await Deno.writeTextFile(toml, renderShippedToml());
console.log(`config:toml: wrote ${toml.pathname}`);
const readme = new URL("../README.md", import.meta.url);
await Deno.writeTextFile(readme, withConfigReference(await Deno.readTextFile(readme)));
// The tables are written plain; deno fmt aligns them as the rest of the README.
const fmt = await new Deno.Command("deno", { args: ["fmt", readme.pathname] }).output();
if (!fmt.success) {
  throw new Error(`deno fmt README.md failed: ${new TextDecoder().decode(fmt.stderr)}`);
}
console.log(`config:toml: wrote the config reference in ${readme.pathname}`);
