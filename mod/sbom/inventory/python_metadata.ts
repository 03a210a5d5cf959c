/** Installed Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `PKG-INFO`. */
import type { Component } from "../component.ts";
import { malformed } from "./errors.ts";
import { baseName, type Extractor } from "./extractor.ts";
import { splitLines } from "./lines.ts";

/**
 * Core metadata files of installed distributions (and old single-file `*.egg-info`). The
 * header block (up to the first blank line) is read; field names ignore case; the first
 * `Name` and `Version` win, as Python's email parser returns them. The name is kept as the
 * distribution spells it (`pyOpenSSL`): matching normalises PyPI names itself. A file without
 * both is `E_MALFORMED`.
 *
 * @example
 * ```ts
 * import { pythonMetadata } from "./python_metadata.ts";
 * const path = "site-packages/pip-22.2.2.dist-info/METADATA";
 * const [c] = pythonMetadata.extract(path, "Metadata-Version: 2.1\nName: pip\nVersion: 22.2.2\n");
 * console.assert(c.name === "pip" && c.version === "22.2.2" && c.origin.line === 2);
 * ```
 */
export const pythonMetadata: Extractor = {
  name: "pypi/installed-metadata",
  ecosystem: "PyPI",
  fileRequired(path: string): boolean {
    const base = baseName(path);
    return /\.dist-info\/METADATA$/.test(path) || base === "PKG-INFO" || base.endsWith(".egg-info");
  },
  extract(path: string, text: string): Component[] {
    let name: { value: string; line: number } | undefined;
    let version: string | undefined;
    for (const [i, raw] of splitLines(text).entries()) {
      if (raw.trim() === "") break; // the description body follows
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (m === null) continue; // a folded or malformed line
      const key = m[1].toLowerCase();
      if (key === "name" && name === undefined) name = { value: m[2].trim(), line: i + 1 };
      if (key === "version" && version === undefined) version = m[2].trim();
    }
    if (!name?.value || !version) {
      throw malformed(path, 0, "Metadata has no Name or no Version header");
    }
    return [{
      name: name.value,
      version,
      ecosystem: "PyPI",
      origin: { file: path, line: name.line },
      groups: [],
    }];
  },
};
