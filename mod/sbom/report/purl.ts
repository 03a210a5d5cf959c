/**
 * Package URLs (purl) for components, built with `packageurl-js` and the purl-spec type
 * definitions (package-url/purl-spec `types/*-definition.json`):
 *
 * - npm: a scope is the namespace (`pkg:npm/%40babel/core@7.0.0`); packageurl-js lowercases.
 * - PyPI: lowercased, `_` → `-` (purl-spec's rule; dots are kept).
 * - Go: the module path up to its last `/` is the namespace, case kept (the type marks both
 *   case sensitive); a version gets Go's `v` prefix back when that makes it semver, since
 *   Ironpost's Go versions drop it. `stdlib` has no namespace.
 * - crates.io → `cargo`, Packagist → `composer` (`vendor/name`, lowercased), RubyGems → `gem`,
 *   Hex → `hex`.
 * - Debian: Ironpost names Debian components by their *source* package (OSV matches on it),
 *   so the purl is the source package's: `pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=source&distro=bookworm`,
 *   `arch=source` as the deb type defines it and `distro` as its examples spell it (the
 *   release's code name; `debian-<n>` for a release not in the table).
 *
 * One deliberate difference from packageurl-js 2.0.1: a `+` in the version is written `%2B`,
 * as the purl specification's character rules and its deb test suite require
 * (`pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64`); packageurl-js keeps it bare.
 */
import { PackageURL } from "packageurl-js";
import type { Component, Ecosystem } from "../component.ts";

/** Debian release numbers to code names, for the purl `distro` qualifier. */
const DEBIAN_CODENAMES: Record<string, string> = {
  "7": "wheezy",
  "8": "jessie",
  "9": "stretch",
  "10": "buster",
  "11": "bullseye",
  "12": "bookworm",
  "13": "trixie",
  "14": "forky",
};

const SEMVER = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

interface PurlParts {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Record<string, string>;
}

/** The OSV ecosystem without its release suffix (`Debian:12` → `Debian`). */
export function baseEcosystem(e: Ecosystem | string): string {
  const i = e.indexOf(":");
  return i < 0 ? e : e.slice(0, i);
}

function splitLast(path: string): [string | undefined, string] {
  const i = path.lastIndexOf("/");
  return i < 0 ? [undefined, path] : [path.slice(0, i), path.slice(i + 1)];
}

function goVersion(v: string): string {
  if (v === "" || v.startsWith("v")) return v;
  return SEMVER.test(`v${v}`) ? `v${v}` : v;
}

function debianDistro(ecosystem: string): string | undefined {
  const i = ecosystem.indexOf(":");
  if (i < 0) return undefined;
  const release = ecosystem.slice(i + 1).trim();
  if (release === "") return undefined;
  return DEBIAN_CODENAMES[release.split(".")[0]] ?? `debian-${release.toLowerCase()}`;
}

function parts(c: Component): PurlParts | undefined {
  // An unpinned requirement has no version; a VCS pin has only its commit.
  const version = c.version !== "" ? c.version : c.commit;
  switch (baseEcosystem(c.ecosystem)) {
    case "npm": {
      if (c.name.startsWith("@") && c.name.includes("/")) {
        const [scope, name] = splitLast(c.name);
        return { type: "npm", namespace: scope, name, version };
      }
      return { type: "npm", name: c.name, version };
    }
    case "PyPI":
      return { type: "pypi", name: c.name, version };
    case "Go": {
      const [namespace, name] = splitLast(c.name);
      return { type: "golang", namespace, name, version: version && goVersion(version) };
    }
    case "crates.io":
      return { type: "cargo", name: c.name, version };
    case "Packagist": {
      const [namespace, name] = splitLast(c.name);
      return { type: "composer", namespace, name, version };
    }
    case "RubyGems":
      return { type: "gem", name: c.name, version };
    case "Hex":
      return { type: "hex", name: c.name, version };
    case "Debian": {
      const qualifiers: Record<string, string> = { arch: "source" };
      const distro = debianDistro(c.ecosystem);
      if (distro !== undefined) qualifiers.distro = distro;
      return { type: "deb", namespace: "debian", name: c.name, version, qualifiers };
    }
    default:
      return undefined;
  }
}

/** `+` in the version as `%2B` (see the module note); the version ends at `?` or `#`. */
function encodePlusInVersion(purl: string): string {
  const end = purl.search(/[?#]/);
  const head = end < 0 ? purl : purl.slice(0, end);
  const at = head.lastIndexOf("@");
  if (at < 0) return purl;
  return head.slice(0, at) + head.slice(at).replaceAll("+", "%2B") +
    (end < 0 ? "" : purl.slice(end));
}

/**
 * The purl of a component, or `undefined` when its ecosystem has no purl type here, its name
 * is a local path, or packageurl-js rejects the parts (an empty name).
 *
 * @example
 * ```ts
 * import { toPurl } from "./purl.ts";
 * const purl = toPurl({
 *   name: "@babel/core", version: "7.0.0", ecosystem: "npm",
 *   origin: { file: "package-lock.json" }, groups: [],
 * });
 * console.assert(purl === "pkg:npm/%40babel/core@7.0.0");
 * ```
 */
export function toPurl(c: Component): string | undefined {
  // A local path (a Go `replace => ./fork/net`) names no published package.
  if (/^(\.{1,2}\/|\/)/.test(c.name)) return undefined;
  const p = parts(c);
  if (p === undefined || p.name === "") return undefined;
  try {
    const purl = new PackageURL(
      p.type,
      p.namespace,
      p.name,
      p.version === "" ? undefined : p.version,
      p.qualifiers,
      undefined,
    );
    return encodePlusInVersion(purl.toString());
  } catch {
    // packageurl-js 2.0.1 throws (a ReferenceError, from its golang validator) on some
    // versions it dislikes; a component without a purl is still a valid CycloneDX component.
    return undefined;
  }
}
