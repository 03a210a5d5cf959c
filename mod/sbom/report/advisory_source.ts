/**
 * Which database published an advisory id, and where a person reads it. Used for CycloneDX
 * `vulnerabilities[].source` and `references[]`, and for SARIF `helpUri` when a finding has
 * no URL of its own. Decided by the id's prefix, as OSV assigns them; anything unknown is
 * sent to osv.dev, which serves every id it imported.
 */

/** A publisher of vulnerability records. */
export interface AdvisorySource {
  name: string;
  /** The page of this one advisory. */
  url: string;
}

const enc = encodeURIComponent;

/**
 * The database that published `id`, with the advisory's page.
 *
 * @example
 * ```ts
 * import { advisorySource } from "./advisory_source.ts";
 * const s = advisorySource("RUSTSEC-2021-0001");
 * console.assert(s.name === "RustSec" && s.url === "https://rustsec.org/advisories/RUSTSEC-2021-0001.html");
 * ```
 */
export function advisorySource(id: string): AdvisorySource {
  const upper = id.toUpperCase();
  if (upper.startsWith("GHSA-")) {
    return { name: "GitHub Advisory Database", url: `https://github.com/advisories/${enc(id)}` };
  }
  if (upper.startsWith("CVE-")) {
    return { name: "NVD", url: `https://nvd.nist.gov/vuln/detail/${enc(id)}` };
  }
  if (upper.startsWith("RUSTSEC-")) {
    return { name: "RustSec", url: `https://rustsec.org/advisories/${enc(id)}.html` };
  }
  if (upper.startsWith("GO-")) {
    return { name: "Go Vulnerability Database", url: `https://pkg.go.dev/vuln/${enc(id)}` };
  }
  if (upper.startsWith("PYSEC-")) {
    return { name: "PyPI Advisory Database", url: `https://osv.dev/vulnerability/${enc(id)}` };
  }
  if (/^(DSA|DLA|DTSA)-/.test(upper)) {
    return {
      name: "Debian Security Tracker",
      url: `https://security-tracker.debian.org/tracker/${enc(id)}`,
    };
  }
  if (upper.startsWith("DEBIAN-")) {
    // OSV's Debian records are `DEBIAN-CVE-…`; the tracker knows them by the CVE id.
    return {
      name: "Debian Security Tracker",
      url: `https://security-tracker.debian.org/tracker/${enc(id.slice("DEBIAN-".length))}`,
    };
  }
  return { name: "OSV", url: `https://osv.dev/vulnerability/${enc(id)}` };
}
