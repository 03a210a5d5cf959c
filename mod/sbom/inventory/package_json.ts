/** Installed npm packages: the `package.json` of each package under a `node_modules` folder. */
import type { Component } from "../component.ts";
import type { Extractor } from "./extractor.ts";
import { parseJsonObject } from "./parse_text.ts";
import { dict, isDict, str } from "./values.ts";

/** `node_modules/name/package.json` or `node_modules/@scope/name/package.json`, any depth. */
const INSTALLED = /(^|\/)node_modules\/(@[^/]+\/)?[^/.][^/]*\/package\.json$/;

/**
 * package.json files of installed packages. Only a package's own manifest counts (not a
 * nested `lib/package.json` that sets a module type). No component when the name or version
 * is empty, or when the manifest is a VS Code extension's (`contributes`, `engines.vscode`) or
 * a Unity package's (`unity`): those share the file name but are not npm packages, as
 * osv-scalibr decides too. Bad JSON is `E_MALFORMED`.
 *
 * @example
 * ```ts
 * import { nodeModulesPackageJson } from "./package_json.ts";
 * const path = "app/node_modules/accepts/package.json";
 * console.assert(nodeModulesPackageJson.fileRequired(path));
 * const [c] = nodeModulesPackageJson.extract(path, '{"name":"accepts","version":"1.3.8"}');
 * console.assert(c.name === "accepts" && c.version === "1.3.8");
 * ```
 */
export const nodeModulesPackageJson: Extractor = {
  name: "npm/node-modules-package-json",
  ecosystem: "npm",
  fileRequired(path: string): boolean {
    return INSTALLED.test(path);
  },
  extract(path: string, text: string): Component[] {
    const manifest = parseJsonObject(path, text);
    const name = str(manifest.name) ?? "";
    const version = str(manifest.version) ?? "";
    if (name === "" || version === "") return [];
    if (isDict(manifest.contributes) || "vscode" in dict(manifest.engines)) return [];
    if (str(manifest.unity) !== undefined) return [];
    return [{ name, version, ecosystem: "npm", origin: { file: path }, groups: [] }];
  },
};
