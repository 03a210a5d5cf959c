/**
 * Schema validation of CycloneDX 1.6 JSON with the library's own strict validator, which runs
 * the CycloneDX JSON schema it ships (`res/schema/bom-1.6.SNAPSHOT.schema.json`) through ajv.
 *
 * The library `require`s ajv, ajv-formats and ajv-formats-draft2019 as optional peer
 * dependencies. Under Deno they resolve only when the same npm resolution holds them, which
 * a static import anywhere in the module graph achieves (an import map entry alone does
 * not, nor does `import type`): hence the side-effect imports below. The resolution is
 * recorded in deno.lock and so holds for every program of the project, which is why
 * quiet_punycode.ts exists. Reading the schema needs read access to Deno's npm cache.
 *
 * XML is not validated here: the library's XML validator needs `libxmljs2`, a native addon
 * that Deno loads only from a local `node_modules` with install scripts run, which this
 * project does not use (`nodeModulesDir: "none"`).
 */
import { errorMessage } from "../../core/errors.ts";
import "./quiet_punycode.ts";
// Pinned inline until deno.json maps these names (then: bare `import "ajv";` …).
// deno-lint-ignore no-import-prefix
import "npm:ajv@8.20.0";
// deno-lint-ignore no-import-prefix
import "npm:ajv-formats@3.0.1";
// deno-lint-ignore no-import-prefix
import "npm:ajv-formats-draft2019@1.6.1";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { ReportError } from "./errors.ts";

/** One ajv error as the validator returns it. */
interface AjvError {
  instancePath?: string;
  schemaPath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

let validator: Validation.JsonStrictValidator | undefined;

function describe(e: AjvError): string {
  const where = e.instancePath ? e.instancePath : "/";
  const extra = e.params?.additionalProperty !== undefined
    ? ` (${String(e.params.additionalProperty)})`
    : "";
  return `${where}: ${e.message ?? "is invalid"}${extra} [${e.schemaPath ?? "?"}]`;
}

/**
 * Validate CycloneDX 1.6 JSON text against the specification's JSON schema. Resolves to the
 * errors found, `[]` when the document is valid; rejects with a `ReportError`
 * (`E_REPORT_VALIDATOR`) when the validator cannot be loaded.
 *
 * @example
 * ```ts ignore
 * // ignored by `deno test --doc`: reading the schema needs read access to Deno's npm cache
 * import { validateCycloneDxJson } from "./validate.ts";
 * const errors = await validateCycloneDxJson('{"bomFormat":"CycloneDX","specVersion":"1.6"}');
 * console.assert(errors.length === 0);
 * ```
 */
export async function validateCycloneDxJson(text: string): Promise<string[]> {
  try {
    JSON.parse(text);
  } catch (e) {
    return [`not JSON: ${errorMessage(e)}`];
  }
  validator ??= new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  let result: unknown;
  try {
    result = await validator.validate(text);
  } catch (e) {
    if (e instanceof Validation.MissingOptionalDependencyError) {
      throw new ReportError(
        "E_REPORT_VALIDATOR",
        "The CycloneDX JSON validator could not load ajv, ajv-formats and ajv-formats-draft2019",
        {},
        { cause: e },
      );
    }
    throw e;
  }
  if (result === null || result === undefined) return [];
  return Array.isArray(result) ? result.map((e: AjvError) => describe(e)) : [String(result)];
}
