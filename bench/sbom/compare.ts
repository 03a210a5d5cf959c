/**
 * The component sets of two CycloneDX documents, made comparable: each component becomes
 * `type:name@version` keys read from its purl. Debian is the one place the two tools model
 * differently: cdxgen lists each binary package as trivy reports it (marked by trivy's
 * `aquasecurity:trivy:PkgID` property) and adds some source packages of its own; Ironpost
 * lists one component per source package with its binary packages as
 * `ironpost:debian:binary` properties (`name`, or `name=version` when the binary's version
 * differs). Binary packages are keyed `deb:`, source packages `deb-src:`.
 */

interface BomComponent {
  purl?: string;
  name?: string;
  version?: string;
  properties?: { name: string; value: string }[];
  components?: BomComponent[];
}

/** `type:name@version` of a purl (namespace kept in the name, qualifiers dropped). */
export function purlKey(purl: string): string | undefined {
  const m = /^pkg:([^/]+)\/([^?#]+?)(?:@([^?#]+))?(?:[?#].*)?$/.exec(purl);
  if (!m) return undefined;
  const type = m[1].toLowerCase();
  let path = decodeURIComponent(m[2]);
  // A Debian purl's namespace is the vendor (`debian/`), not part of the package name.
  if (type === "deb") path = path.replace(/^[^/]+\//, "");
  let version = m[3] !== undefined ? decodeURIComponent(m[3]) : "";
  // Go purls carry the module version with its `v`; the tools differ on writing it.
  if (type === "golang") version = version.replace(/^v/, "");
  return `${type}:${path}@${version}`;
}

function flatten(list: BomComponent[] | undefined): BomComponent[] {
  const out: BomComponent[] = [];
  for (const c of list ?? []) {
    out.push(c);
    out.push(...flatten(c.components));
  }
  return out;
}

/** The keys of every component of a CycloneDX JSON document (nested ones included). */
export function componentKeys(bomText: string): Set<string> {
  const bom = JSON.parse(bomText) as { components?: BomComponent[] };
  const keys = new Set<string>();
  for (const c of flatten(bom.components)) {
    if (c.purl === undefined) continue;
    const key = purlKey(c.purl);
    if (key === undefined) continue;
    if (!key.startsWith("deb:")) {
      keys.add(key);
      continue;
    }
    const props = c.properties ?? [];
    const binaries = props.filter((p) => p.name === "ironpost:debian:binary");
    if (binaries.length > 0) {
      keys.add(key.replace(/^deb:/, "deb-src:"));
      for (const p of binaries) {
        const [name, version] = p.value.split("=");
        keys.add(`deb:${name}@${version ?? c.version ?? ""}`);
      }
    } else if (props.some((p) => p.name === "aquasecurity:trivy:PkgID")) {
      keys.add(key);
    } else {
      keys.add(key.replace(/^deb:/, "deb-src:"));
    }
  }
  return keys;
}

/** Per purl type: how many keys each side has, how many both, and examples of each side's own. */
export interface TypeComparison {
  type: string;
  a: number;
  b: number;
  both: number;
  onlyA: string[];
  onlyB: string[];
}

export function compareKeys(a: Set<string>, b: Set<string>): TypeComparison[] {
  const typeOf = (k: string) => k.slice(0, k.indexOf(":"));
  const types = [...new Set([...a, ...b].map(typeOf))].sort();
  return types.map((type) => {
    const inA = [...a].filter((k) => typeOf(k) === type);
    const inB = [...b].filter((k) => typeOf(k) === type);
    const setB = new Set(inB);
    const setA = new Set(inA);
    return {
      type,
      a: inA.length,
      b: inB.length,
      both: inA.filter((k) => setB.has(k)).length,
      onlyA: inA.filter((k) => !setB.has(k)).sort(),
      onlyB: inB.filter((k) => !setA.has(k)).sort(),
    };
  });
}
