/** The OASIS SARIF 2.1.0 JSON schema as a validator, for every test that checks SARIF output. */
// Pinned like mod/sbom/report/validate.ts, until deno.json maps these names.
// deno-lint-ignore no-import-prefix
import { Ajv, type ErrorObject } from "npm:ajv@8.20.0";
// deno-lint-ignore no-import-prefix
import ajvFormats from "npm:ajv-formats@3.0.1";
import { fileURLToPath } from "node:url";

const SCHEMA = fileURLToPath(
  new URL("../fixtures/sbom/report/sarif-schema-2.1.0.json", import.meta.url),
);

/**
 * The schema (draft-04) made loadable by ajv 8 (draft-07 keywords): a function returning
 * each error as `path: message`, `[]` when the document is valid.
 */
export async function sarifValidator(): Promise<(data: unknown) => string[]> {
  const schema = JSON.parse(await Deno.readTextFile(SCHEMA));
  delete schema.$schema;
  schema.$id = schema.id;
  delete schema.id;
  const ajv = new Ajv({ strict: false, allErrors: true });
  // A CommonJS module whose `module.exports` is the plugin; its typings see the namespace.
  ajvFormats.default(ajv);
  const validate = ajv.compile(schema);
  return (data) =>
    validate(data)
      ? []
      : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || "/"}: ${e.message}`);
}
