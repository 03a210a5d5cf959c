/**
 * SBOM reports: purls per ecosystem, CycloneDX 1.6 JSON checked by the library's own schema
 * validator and XML by the CycloneDX XSD (through the system libxml2), determinism, SARIF
 * 2.1.0 against the OASIS schema, the terminal table against a snapshot, and the scan-result
 * JSON. Set UPDATE_SNAPSHOTS=1 to rewrite the snapshots under tests/fixtures/sbom/report/.
 */
// The report module first: it loads quiet_punycode.ts before the CycloneDX library.
import {
  formatFindingsTable,
  ReportError,
  type ScanSubject,
  scopeOfGroups,
  toCycloneDx,
  toPurl,
  toSarif,
  toScanError,
  toScanJson,
  validateCycloneDxJson,
} from "../../mod/sbom/report/mod.ts";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { fileURLToPath } from "node:url";
import type { Component, Ecosystem } from "../../mod/sbom/component.ts";
import type { Finding } from "../../mod/sbom/finding.ts";
import { IronpostError } from "../../mod/core/errors.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";
import { sarifValidator } from "../helpers/sarif.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/sbom/report/", import.meta.url));
const SHARED_LOCKFILES = fileURLToPath(
  new URL("../../../shared/data/lockfiles/expected.json", import.meta.url),
);
const UPDATE = Deno.env.get("UPDATE_SNAPSHOTS") === "1";
const TOOL = { name: "ironpost" as const, version: "0.1.0" };
const T0 = new Date("2025-03-04T05:06:07Z");
const HOST: ScanSubject = { type: "host", name: "web-1" };

// ---------------------------------------------------------------------------------------
// The data set: every ecosystem, scopes, dependsOn, a container, and every kind of rating.

function comp(
  ecosystem: Component["ecosystem"],
  name: string,
  version: string,
  file: string,
  line?: number,
  extra: Partial<Component> = {},
): Component {
  return { name, version, ecosystem, origin: { file, line }, groups: [], ...extra };
}

const LOCK = "/srv/app/package-lock.json";
// component.ts documents `Debian:12` but its Ecosystem union does not include it yet.
const DEBIAN_12 = "Debian:12" as Ecosystem;
const C = {
  express: comp("npm", "express", "4.17.1", LOCK, 10, {
    dependsOn: ["body-parser@1.19.0", "qs", "missing@9.9.9"],
  }),
  bodyParser: comp("npm", "body-parser", "1.19.0", LOCK, 40, { dependsOn: ["qs@6.7.0"] }),
  qs: comp("npm", "qs", "6.7.0", LOCK, 80, { dependsOn: [] }),
  babel: comp("npm", "@babel/core", "7.22.5", LOCK, 120, { groups: ["dev"], dependsOn: [] }),
  fsevents: comp("npm", "fsevents", "2.3.2", LOCK, 160, { groups: ["optional"] }),
  django: comp("PyPI", "Django_REST.framework", "3.14.0", "/srv/app/requirements.txt", 3),
  pytest: comp("PyPI", "pytest", "7.4.0", "/srv/app/requirements-dev.txt", 1, {
    groups: ["requirements-dev.txt"],
  }),
  azure: comp("Go", "github.com/Azure/go-autorest/autorest", "0.11.28", "/srv/app/go.mod", 7),
  yamlV3: comp("Go", "gopkg.in/yaml.v3", "3.0.0-20200313102051-9f266ea9e77c", "/srv/app/go.mod", 9),
  stdlib: comp("Go", "stdlib", "1.21.4", "/srv/app/go.mod", 3),
  forkNet: comp("Go", "./fork/net", "", "/srv/app/go.mod", 12),
  smallvec: comp("crates.io", "smallvec", "1.6.0", "/srv/app/Cargo.lock", 88),
  symfony: comp("Packagist", "Symfony/HTTP-Kernel", "v5.4.0", "/srv/app/composer.lock", 200, {
    groups: ["dev"],
  }),
  rails: comp("RubyGems", "rails", "7.0.4", "/srv/app/Gemfile.lock", 150),
  rack: comp("RubyGems", "rack", "2.2.3", "/srv/app/Gemfile.lock", 140, {
    groups: ["development", "test"],
  }),
  openssl: comp(DEBIAN_12, "openssl", "3.0.11-1~deb12u2", "/var/lib/dpkg/status", 1200, {
    binaryName: "libssl3",
    binaryVersion: "3.0.11-1~deb12u2+b1",
  }),
  opensslBin: comp(DEBIAN_12, "openssl", "3.0.11-1~deb12u2", "/var/lib/dpkg/status", 1300, {
    binaryName: "openssl",
  }),
  attr: comp("Debian", "attr", "1:2.4.47-2+b1", "/var/lib/dpkg/status", 40),
  jason: comp("Hex", "Jason", "1.4.1", "/srv/app/mix.lock", 5),
  unpinned: comp("PyPI", "requests", "", "/srv/app/requirements.txt", 4, {
    note: "unpinned: >=2.0",
  }),
  inContainer: comp("npm", "qs", "6.7.0", "/app/package-lock.json", 33, {
    container: { id: "0123456789abcdef0123", name: "api", image: "acme/api:1.2" },
  }),
  // The same package found again, as a production dependency: required wins over dev.
  babelAgain: comp("npm", "@babel/core", "7.22.5", "/srv/app/other/package-lock.json", 7),
};
const COMPONENTS: Component[] = Object.values(C);

const V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

function finding(id: string, c: Component, extra: Partial<Finding> = {}): Finding {
  return { id, aliases: [], summary: `${id} summary`, component: c, severity: "unknown", ...extra };
}

const FINDINGS: Finding[] = [
  finding("GHSA-hrpp-h998-j3pp", C.qs, {
    aliases: ["CVE-2022-24999"],
    summary: "qs vulnerable to Prototype Pollution",
    severity: "high",
    score: 7.5,
    vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    fixedVersion: "6.7.3",
    url: "https://github.com/advisories/GHSA-hrpp-h998-j3pp",
  }),
  // The same advisory in a container's copy of qs: one vulnerability, two affects.
  finding("GHSA-hrpp-h998-j3pp", C.inContainer, {
    aliases: ["CVE-2022-24999"],
    summary: "qs vulnerable to Prototype Pollution",
    severity: "high",
    score: 7.5,
    vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    fixedVersion: "6.7.3",
  }),
  finding("RUSTSEC-2021-0003", C.smallvec, {
    aliases: ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"],
    summary: "Buffer overflow in SmallVec::insert_many",
    severity: "critical",
    score: 9.3,
    vector: V40,
    fixedVersion: "1.6.1",
  }),
  finding("PYSEC-2023-0001", C.django, {
    summary: "Label-only record",
    severity: "medium",
    fixedVersion: "3.14.1",
  }),
  finding("GO-2023-2102", C.stdlib, {
    aliases: ["CVE-2023-39325"],
    summary: "HTTP/2 rapid reset can cause excessive work in net/http",
    severity: "unknown",
    fixedVersion: "1.21.5",
  }),
  finding("DEBIAN-CVE-2023-5678", C.openssl, {
    aliases: ["CVE-2023-5678"],
    summary: "Excessive time spent in DH checks",
    severity: "medium",
    score: 5.3,
    vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",
  }),
  finding("GHSA-wxyz-0000-critical", C.express, {
    summary: "Remote code execution",
    severity: "critical",
    score: 9.8,
    vector: V31,
  }),
  finding("GHSA-low0-0000-0000", C.rack, { summary: "Low", severity: "low", score: 3.1 }),
  finding("GHSA-none-0000-0000", C.rails, { summary: "Informational", severity: "none" }),
];

const INPUT = {
  components: COMPONENTS,
  findings: FINDINGS,
  subject: HOST,
  tool: TOOL,
  timestamp: T0,
};

// ---------------------------------------------------------------------------------------
// Helpers: snapshots, a seeded shuffle, libxml2 through FFI.

async function snapshot(name: string, actual: string): Promise<void> {
  const path = `${FIXTURES}${name}`;
  if (UPDATE) {
    await Deno.writeTextFile(path, actual.endsWith("\n") ? actual : `${actual}\n`);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(path);
  } catch {
    throw new Error(`Snapshot ${path} is missing: run with UPDATE_SNAPSHOTS=1 to write it`);
  }
  assertEquals(actual.endsWith("\n") ? actual : `${actual}\n`, expected, `snapshot ${name}`);
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const LIBXML2 = "/usr/lib/x86_64-linux-gnu/libxml2.so.2";

const XML_SYMBOLS = {
  xmlReadMemory: { parameters: ["buffer", "i32", "buffer", "pointer", "i32"], result: "pointer" },
  xmlFreeDoc: { parameters: ["pointer"], result: "void" },
  xmlSchemaNewParserCtxt: { parameters: ["buffer"], result: "pointer" },
  xmlSchemaSetParserStructuredErrors: {
    parameters: ["pointer", "function", "pointer"],
    result: "void",
  },
  xmlSchemaParse: { parameters: ["pointer"], result: "pointer" },
  xmlSchemaFreeParserCtxt: { parameters: ["pointer"], result: "void" },
  xmlSchemaFree: { parameters: ["pointer"], result: "void" },
  xmlSchemaNewValidCtxt: { parameters: ["pointer"], result: "pointer" },
  xmlSchemaSetValidStructuredErrors: {
    parameters: ["pointer", "function", "pointer"],
    result: "void",
  },
  xmlSchemaValidateDoc: { parameters: ["pointer", "pointer"], result: "i32" },
  xmlSchemaFreeValidCtxt: { parameters: ["pointer"], result: "void" },
  xmlSetStructuredErrorFunc: { parameters: ["pointer", "function"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** XML_PARSE_NONET: the schema and document must never be fetched from anywhere. */
const XML_PARSE_NONET = 1 << 11;

/**
 * Validate XML against an XSD file with the system libxml2 (the CycloneDX library's own XML
 * validator needs the native libxmljs2 addon, which Deno cannot load here). Returns parse
 * errors (not well-formed) or schema errors, `[]` when valid.
 */
function validateXml(xml: string, xsdPath: string): string[] {
  const lib = Deno.dlopen(LIBXML2, XML_SYMBOLS);
  const errors: string[] = [];
  // struct _xmlError on x86-64: int domain @0, int code @4, char *message @8, int level @16,
  // char *file @24, int line @32.
  const onError = new Deno.UnsafeCallback(
    { parameters: ["pointer", "pointer"], result: "void" } as const,
    (_ctx, err) => {
      if (err === null) return;
      const view = new Deno.UnsafePointerView(err);
      const msg = view.getPointer(8);
      const text = msg === null ? "?" : Deno.UnsafePointerView.getCString(msg).trim();
      errors.push(`line ${view.getInt32(32)}: ${text}`);
    },
  );
  const cstr = (s: string) => new TextEncoder().encode(`${s}\0`);
  const x = lib.symbols;
  try {
    x.xmlSetStructuredErrorFunc(null, onError.pointer);
    const pctx = x.xmlSchemaNewParserCtxt(cstr(xsdPath));
    x.xmlSchemaSetParserStructuredErrors(pctx, onError.pointer, null);
    const schema = x.xmlSchemaParse(pctx);
    x.xmlSchemaFreeParserCtxt(pctx);
    if (schema === null) throw new Error(`XSD ${xsdPath} did not load: ${errors.join("; ")}`);
    const bytes = new TextEncoder().encode(xml);
    const doc = x.xmlReadMemory(bytes, bytes.length, cstr("bom.xml"), null, XML_PARSE_NONET);
    if (doc !== null) {
      const vctx = x.xmlSchemaNewValidCtxt(schema);
      x.xmlSchemaSetValidStructuredErrors(vctx, onError.pointer, null);
      const rc = x.xmlSchemaValidateDoc(vctx, doc);
      if (rc !== 0 && errors.length === 0) errors.push(`xmlSchemaValidateDoc returned ${rc}`);
      x.xmlSchemaFreeValidCtxt(vctx);
      x.xmlFreeDoc(doc);
    } else if (errors.length === 0) {
      errors.push("not well-formed");
    }
    x.xmlSchemaFree(schema);
    return errors;
  } finally {
    x.xmlSetStructuredErrorFunc(null, null);
    onError.close();
    lib.close();
  }
}

/** The CycloneDX 1.6 XSD the library ships (its `_Resources` are not in its typings). */
function cycloneDxXsd(): string {
  const res = (CDX as unknown as {
    _Resources: { FILES: { CDX: { XML_SCHEMA: Record<string, string | undefined> } } };
  })._Resources;
  const path = res.FILES.CDX.XML_SCHEMA["1.6"];
  assert(path !== undefined, "the library ships no CycloneDX 1.6 XSD");
  return path;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

// ---------------------------------------------------------------------------------------

Deno.test("purl for every ecosystem", async (t) => {
  await t.step("npm, scoped and plain", () => {
    assertEquals(toPurl(C.babel), "pkg:npm/%40babel/core@7.22.5");
    assertEquals(toPurl(C.express), "pkg:npm/express@4.17.1");
  });
  await t.step("PyPI names lowercased with _ as -", () => {
    assertEquals(toPurl(C.django), "pkg:pypi/django-rest.framework@3.14.0");
    assertEquals(toPurl(C.unpinned), "pkg:pypi/requests");
  });
  await t.step("Go module path as namespace/name, case kept, v prefix restored", () => {
    assertEquals(toPurl(C.azure), "pkg:golang/github.com/Azure/go-autorest/autorest@v0.11.28");
    assertEquals(
      toPurl(C.yamlV3),
      "pkg:golang/gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c",
    );
    assertEquals(toPurl(C.stdlib), "pkg:golang/stdlib@v1.21.4");
    assertEquals(
      toPurl(comp("Go", "golang.org/x/net", "v0.17.0", "go.mod")),
      "pkg:golang/golang.org/x/net@v0.17.0",
    );
    // Not semver with a v: left as it is rather than made up.
    assertEquals(toPurl(comp("Go", "stdlib", "1.21", "go.mod")), "pkg:golang/stdlib@1.21");
    assertEquals(toPurl(C.forkNet), undefined, "a local replace path has no purl");
  });
  await t.step("crates.io → cargo, Packagist → composer, RubyGems → gem, Hex → hex", () => {
    assertEquals(toPurl(C.smallvec), "pkg:cargo/smallvec@1.6.0");
    assertEquals(toPurl(C.symfony), "pkg:composer/symfony/http-kernel@v5.4.0");
    assertEquals(toPurl(C.rails), "pkg:gem/rails@7.0.4");
    assertEquals(toPurl(C.jason), "pkg:hex/jason@1.4.1");
  });
  await t.step("Debian source packages: arch=source, distro code name, + as %2B", () => {
    assertEquals(
      toPurl(C.openssl),
      "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=source&distro=bookworm",
    );
    assertEquals(toPurl(C.attr), "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=source");
    assertEquals(
      toPurl(comp("Debian:99" as Ecosystem, "zlib", "1.3", "status")),
      "pkg:deb/debian/zlib@1.3?arch=source&distro=debian-99",
    );
  });
  await t.step("a VCS pin without a version uses the commit", () => {
    assertEquals(
      toPurl(comp("npm", "left-pad", "", "package-lock.json", 1, { commit: "abc123" })),
      "pkg:npm/left-pad@abc123",
    );
  });
});

Deno.test("scope from dependency groups", () => {
  assertEquals(scopeOfGroups([]), "required");
  assertEquals(scopeOfGroups(["dev"]), "excluded");
  assertEquals(scopeOfGroups(["devDependencies"]), "excluded");
  assertEquals(scopeOfGroups(["requirements-dev.txt"]), "excluded");
  assertEquals(scopeOfGroups(["development", "test"]), "excluded");
  assertEquals(scopeOfGroups(["optional"]), "optional");
  assertEquals(scopeOfGroups(["requirements.txt"]), "required");
  assertEquals(scopeOfGroups(["device"]), "required", "a word, not a prefix");
});

Deno.test("CycloneDX JSON", async (t) => {
  const text = toCycloneDx(INPUT, "json");
  const bom: Json = JSON.parse(text);
  const byRef = new Map<string, Json>(bom.components.map((c: Json) => [c["bom-ref"], c]));
  const props = (ref: string, name: string) =>
    byRef.get(ref).properties.filter((p: Json) => p.name === name).map((p: Json) => p.value);

  await t.step("validates with the library's strict JSON schema validator", async () => {
    assertEquals(await validateCycloneDxJson(text), []);
  });

  await t.step("the validator reports errors", async () => {
    const broken = JSON.parse(text);
    broken.components[0].scope = "sometimes";
    const errors = await validateCycloneDxJson(JSON.stringify(broken));
    assert(errors.length > 0);
    assertMatch(errors[0], /^\/components\/0\/scope: /);
    const notJson = await validateCycloneDxJson("{");
    assertEquals(notJson.length, 1);
    assertMatch(notJson[0], /^not JSON: /);
  });

  await t.step("header and metadata", () => {
    assertEquals(bom.bomFormat, "CycloneDX");
    assertEquals(bom.specVersion, "1.6");
    assertMatch(
      bom.serialNumber,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assertEquals(bom.metadata.timestamp, "2025-03-04T05:06:07.000Z");
    assertEquals(bom.metadata.tools, {
      components: [{ type: "application", name: "ironpost", version: "0.1.0" }],
    });
    assertEquals(bom.metadata.component.type, "operating-system");
    assertEquals(bom.metadata.component.name, "web-1");
    assertEquals(bom.metadata.component["bom-ref"], "ironpost:subject:host:web-1");
  });

  await t.step("one component per key, merged, with bom-ref, purl and properties", () => {
    const refs = bom.components.map((c: Json) => c["bom-ref"]).sort();
    assertEquals(refs, [
      "Debian:12:openssl@3.0.11-1~deb12u2",
      "Debian:attr@1:2.4.47-2+b1",
      "Go:./fork/net@",
      "Go:github.com/Azure/go-autorest/autorest@0.11.28",
      "Go:gopkg.in/yaml.v3@3.0.0-20200313102051-9f266ea9e77c",
      "Go:stdlib@1.21.4",
      "Hex:Jason@1.4.1",
      "Packagist:Symfony/HTTP-Kernel@v5.4.0",
      "PyPI:Django_REST.framework@3.14.0",
      "PyPI:pytest@7.4.0",
      "PyPI:requests@",
      "RubyGems:rack@2.2.3",
      "RubyGems:rails@7.0.4",
      "crates.io:smallvec@1.6.0",
      "npm:@babel/core@7.22.5",
      "npm:body-parser@1.19.0",
      "npm:express@4.17.1",
      "npm:fsevents@2.3.2",
      "npm:qs@6.7.0",
      "npm:qs@6.7.0#container:0123456789ab",
    ]);
    const express = byRef.get("npm:express@4.17.1");
    assertEquals(express.purl, "pkg:npm/express@4.17.1");
    assertEquals(express.type, "library");
    assertEquals(props("npm:express@4.17.1", "ironpost:origin"), [
      "/srv/app/package-lock.json:10",
    ]);
    assertEquals(props("npm:express@4.17.1", "ironpost:ecosystem"), ["npm"]);
    assertEquals(props("npm:@babel/core@7.22.5", "ironpost:origin"), [
      "/srv/app/other/package-lock.json:7",
      "/srv/app/package-lock.json:120",
    ]);
    assertEquals(props("Debian:12:openssl@3.0.11-1~deb12u2", "ironpost:debian:binary"), [
      "libssl3=3.0.11-1~deb12u2+b1",
      "openssl",
    ]);
    assertEquals(props("PyPI:requests@", "ironpost:note"), ["unpinned: >=2.0"]);
    assertEquals(byRef.get("PyPI:requests@").version, undefined);
    assertEquals(byRef.get("Go:./fork/net@").purl, undefined);
    assertEquals(props("npm:qs@6.7.0#container:0123456789ab", "ironpost:container:image"), [
      "acme/api:1.2",
    ]);
    assertEquals(props("RubyGems:rack@2.2.3", "ironpost:group"), ["development", "test"]);
  });

  await t.step("scope: dev → excluded, optional → optional, required not written", () => {
    assertEquals(byRef.get("Packagist:Symfony/HTTP-Kernel@v5.4.0").scope, "excluded");
    assertEquals(byRef.get("PyPI:pytest@7.4.0").scope, "excluded");
    assertEquals(byRef.get("RubyGems:rack@2.2.3").scope, "excluded");
    assertEquals(byRef.get("npm:fsevents@2.3.2").scope, "optional");
    assertEquals(byRef.get("npm:express@4.17.1").scope, undefined);
    // Found once as dev and once as a production dependency: required.
    assertEquals(byRef.get("npm:@babel/core@7.22.5").scope, undefined);
  });

  await t.step("dependency graph only where dependsOn is known", () => {
    assertEquals(bom.dependencies, [
      { ref: "npm:@babel/core@7.22.5" },
      { ref: "npm:body-parser@1.19.0", dependsOn: ["npm:qs@6.7.0"] },
      { ref: "npm:express@4.17.1", dependsOn: ["npm:body-parser@1.19.0", "npm:qs@6.7.0"] },
      { ref: "npm:qs@6.7.0" },
    ]);
  });

  await t.step("vulnerabilities: source, ratings, affects, references, recommendation", () => {
    const vulns = new Map<string, Json>(bom.vulnerabilities.map((v: Json) => [v.id, v]));
    assertEquals(vulns.size, 8);
    const qs = vulns.get("GHSA-hrpp-h998-j3pp");
    assertEquals(qs["bom-ref"], "GHSA-hrpp-h998-j3pp");
    assertEquals(qs.source, {
      name: "GitHub Advisory Database",
      url: "https://github.com/advisories/GHSA-hrpp-h998-j3pp",
    });
    assertEquals(qs.ratings, [{
      score: 7.5,
      severity: "high",
      method: "CVSSv31",
      vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    }]);
    assertEquals(qs.references, [{
      id: "CVE-2022-24999",
      source: { name: "NVD", url: "https://nvd.nist.gov/vuln/detail/CVE-2022-24999" },
    }]);
    assertEquals(qs.recommendation, "Upgrade qs to 6.7.3 or later.");
    assertEquals(qs.description, "qs vulnerable to Prototype Pollution");
    assertEquals(qs.advisories, [{ url: "https://github.com/advisories/GHSA-hrpp-h998-j3pp" }]);
    assertEquals(qs.affects.map((a: Json) => a.ref), [
      "npm:qs@6.7.0",
      "npm:qs@6.7.0#container:0123456789ab",
    ]);
    assertEquals(qs.affects[0].versions, [
      { version: "6.7.0", status: "affected" },
      { version: "6.7.3", status: "unaffected" },
    ]);

    const rust = vulns.get("RUSTSEC-2021-0003");
    assertEquals(rust.ratings, [{
      score: 9.3,
      severity: "critical",
      method: "CVSSv4",
      vector: V40,
    }]);
    assertEquals(rust.source.url, "https://rustsec.org/advisories/RUSTSEC-2021-0003.html");
    assertEquals(rust.references.map((r: Json) => r.id), ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"]);
    assertEquals(vulns.get("GHSA-wxyz-0000-critical").ratings[0].method, "CVSSv31");
    assertEquals(vulns.get("DEBIAN-CVE-2023-5678").ratings[0].method, "CVSSv3");
    assertEquals(
      vulns.get("DEBIAN-CVE-2023-5678").source.url,
      "https://security-tracker.debian.org/tracker/CVE-2023-5678",
    );
    assertEquals(vulns.get("DEBIAN-CVE-2023-5678").recommendation, undefined);
    assertEquals(vulns.get("PYSEC-2023-0001").ratings, [{ severity: "medium", method: "other" }]);
    assertEquals(vulns.get("GO-2023-2102").ratings, [{ severity: "unknown", method: "other" }]);
    assertEquals(vulns.get("GO-2023-2102").source, {
      name: "Go Vulnerability Database",
      url: "https://pkg.go.dev/vuln/GO-2023-2102",
    });
    assertEquals(vulns.get("GHSA-none-0000-0000").ratings, [{ severity: "none", method: "other" }]);
  });

  await t.step("a container subject's own components get plain keys", () => {
    const own = toCycloneDx({
      ...INPUT,
      components: [C.inContainer],
      findings: [],
      subject: {
        type: "container",
        name: "api",
        id: "0123456789abcdef0123",
        image: "acme/api:1.2",
      },
    }, "json");
    const b: Json = JSON.parse(own);
    assertEquals(b.components.map((c: Json) => c["bom-ref"]), ["npm:qs@6.7.0"]);
    assertEquals(b.metadata.component.type, "container");
    assertEquals(
      b.metadata.component.properties.map((p: Json) => `${p.name}=${p.value}`),
      [
        "ironpost:container:id=0123456789abcdef0123",
        "ironpost:container:image=acme/api:1.2",
        "ironpost:subject:type=container",
      ],
    );
  });

  await t.step("an unknown format is a ReportError", () => {
    try {
      toCycloneDx(INPUT, "yaml" as "json");
      assert(false, "expected a throw");
    } catch (e) {
      assert(e instanceof ReportError);
      assertEquals(e.code, "E_REPORT_FORMAT");
    }
  });
});

Deno.test("CycloneDX XML", async (t) => {
  const xml = toCycloneDx(INPUT, "xml");

  await t.step("same serial number and content as the JSON", () => {
    const json: Json = JSON.parse(toCycloneDx(INPUT, "json"));
    assert(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6"',
      ),
    );
    assert(xml.includes(`serialNumber="${json.serialNumber}"`));
    assert(
      xml.includes(
        "<purl>pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=source&amp;distro=bookworm</purl>",
      ),
    );
    assertMatch(xml, /<rating>\s*<score>9\.3<\/score>/, "ratings written");
    assertEquals((xml.match(/<dependency ref="/g) ?? []).length, 4 + 3, "4 entries, 3 edges");
    assertEquals((xml.match(/<vulnerability bom-ref=/g) ?? []).length, 8);
  });

  await t.step("well-formed and valid against the CycloneDX 1.6 XSD (libxml2)", () => {
    if (!requirePart("libxml2 (Debian package libxml2)", exists(LIBXML2))) return;
    const xsd = cycloneDxXsd();
    assertEquals(validateXml(xml, xsd), []);
    const bad = validateXml(
      xml.replace("<scope>excluded</scope>", "<scope>sometimes</scope>"),
      xsd,
    );
    assert(bad.length > 0 && bad[0].includes("scope"), bad.join("; "));
    const broken = validateXml(xml.replace("</components>", ""), xsd);
    assert(broken.length > 0, "a broken document is reported");
  });
});

Deno.test("CycloneDX determinism", async (t) => {
  const json = toCycloneDx(INPUT, "json");
  const xml = toCycloneDx(INPUT, "xml");

  await t.step("same input and timestamp → same bytes", () => {
    assertEquals(toCycloneDx(INPUT, "json"), json);
    assertEquals(toCycloneDx(INPUT, "xml"), xml);
  });

  await t.step("input order does not matter", () => {
    for (const seed of [1, 2, 3]) {
      const shuffledInput = {
        ...INPUT,
        components: shuffled(COMPONENTS, seed),
        findings: shuffled(FINDINGS, seed + 10),
      };
      assertEquals(toCycloneDx(shuffledInput, "json"), json, `seed ${seed}`);
    }
  });

  await t.step("the serial number follows the content", () => {
    const serial = (text: string) => JSON.parse(text).serialNumber;
    const later = toCycloneDx({ ...INPUT, timestamp: new Date("2025-03-05T00:00:00Z") }, "json");
    assert(serial(later) !== serial(json));
    const fewer = toCycloneDx({ ...INPUT, findings: FINDINGS.slice(1) }, "json");
    assert(serial(fewer) !== serial(json));
  });

  await t.step("a random serial number when asked", async () => {
    const a = toCycloneDx(INPUT, "json", { serialNumber: "random" });
    const b = toCycloneDx(INPUT, "json", { serialNumber: "random" });
    const sa = JSON.parse(a).serialNumber;
    assertMatch(
      sa,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert(sa !== JSON.parse(b).serialNumber);
    assertEquals(await validateCycloneDxJson(a), []);
  });
});

Deno.test("CycloneDX of every package in the shared lockfile expectations", async () => {
  if (!requirePart("shared data (../shared/data/lockfiles)", exists(SHARED_LOCKFILES))) return;
  const data = JSON.parse(await Deno.readTextFile(SHARED_LOCKFILES)) as {
    cases: {
      fixture: string;
      expectedPackages: {
        name: string;
        version: string;
        ecosystem: Component["ecosystem"];
        depGroups?: string[];
        commit?: string;
      }[];
    }[];
  };
  const components = data.cases.flatMap((c) =>
    c.expectedPackages.map((p) =>
      comp(p.ecosystem, p.name, p.version, c.fixture, undefined, {
        groups: p.depGroups ?? [],
        commit: p.commit || undefined,
      })
    )
  );
  assert(components.length > 250, `only ${components.length} packages`);
  const text = toCycloneDx({ ...INPUT, components, findings: [] }, "json");
  assertEquals(await validateCycloneDxJson(text), []);
  const bom: Json = JSON.parse(text);
  const refs = bom.components.map((c: Json) => c["bom-ref"]);
  assertEquals(new Set(refs).size, refs.length, "bom-refs are unique");
  const withoutPurl = bom.components.filter((c: Json) => c.purl === undefined)
    .map((c: Json) => c["bom-ref"]);
  // Only local paths (a Go replace) and nameless entries go without a purl.
  for (const ref of withoutPurl) assertMatch(ref, /^[^:]+:(\.{1,2}\/|@)/, ref);
  if (exists(LIBXML2)) {
    const xml = toCycloneDx({ ...INPUT, components, findings: [] }, "xml");
    assertEquals(validateXml(xml, cycloneDxXsd()), []);
  }
});

// ---------------------------------------------------------------------------------------

Deno.test("SARIF 2.1.0", async (t) => {
  const text = toSarif(FINDINGS, { tool: TOOL, baseDir: "/srv/app" });
  const log: Json = JSON.parse(text);
  const run = log.runs[0];

  await t.step("valid against the OASIS SARIF 2.1.0 JSON schema", async () => {
    const validate = await sarifValidator();
    assertEquals(validate(log), []);
    assert(validate({ version: "2.1.0", runs: [{ tool: {} }] }).length > 0, "schema is live");
    assertEquals(validate(JSON.parse(toSarif([], { tool: TOOL }))), []);
  });

  await t.step("required structure, checked by hand", () => {
    assertEquals(log.version, "2.1.0");
    assertEquals(
      log.$schema,
      "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
    );
    assertEquals(log.runs.length, 1);
    assertEquals(run.tool.driver.name, "ironpost");
    assertEquals(run.tool.driver.version, "0.1.0");
    const rules = run.tool.driver.rules;
    assertEquals(rules.length, 8, "one rule per advisory id");
    assertEquals(run.results.length, FINDINGS.length, "one result per finding");
    for (const r of run.results) {
      assertEquals(rules[r.ruleIndex].id, r.ruleId);
      assert(["error", "warning", "note"].includes(r.level), r.level);
      assert(typeof r.message.text === "string" && r.message.text.length > 0);
      assert(r.locations.length === 1);
      const loc = r.locations[0].physicalLocation;
      assert(typeof loc.artifactLocation.uri === "string" && loc.artifactLocation.uri !== "");
      assert(loc.region.startLine >= 1, "every origin here has a line");
      assertMatch(r.partialFingerprints["packageVulnerability/v1"], /^[0-9a-f]{32}$/);
    }
  });

  await t.step("rules: summary, helpUri, security-severity, tags", () => {
    const rules = new Map<string, Json>(run.tool.driver.rules.map((r: Json) => [r.id, r]));
    const qs = rules.get("GHSA-hrpp-h998-j3pp");
    assertEquals(qs.shortDescription.text, "qs vulnerable to Prototype Pollution");
    assertEquals(qs.helpUri, "https://github.com/advisories/GHSA-hrpp-h998-j3pp");
    assertEquals(qs.properties["security-severity"], "7.5");
    assertEquals(qs.properties.tags, ["security", "vulnerability", "high", "npm"]);
    assertEquals(qs.defaultConfiguration.level, "error");
    assertEquals(rules.get("RUSTSEC-2021-0003").properties["security-severity"], "9.3");
    assertEquals(
      rules.get("RUSTSEC-2021-0003").helpUri,
      "https://rustsec.org/advisories/RUSTSEC-2021-0003.html",
    );
    assertEquals(
      rules.get("PYSEC-2023-0001").properties["security-severity"],
      "5.5",
      "from the label",
    );
    assertEquals(rules.get("GO-2023-2102").properties["security-severity"], undefined);
    assertEquals(rules.get("GHSA-none-0000-0000").properties["security-severity"], "0.0");
  });

  await t.step("levels: critical/high error, medium warning, low/none/unknown note", () => {
    const level = new Map<string, string>(run.results.map((r: Json) => [r.ruleId, r.level]));
    assertEquals(level.get("RUSTSEC-2021-0003"), "error");
    assertEquals(level.get("GHSA-hrpp-h998-j3pp"), "error");
    assertEquals(level.get("PYSEC-2023-0001"), "warning");
    assertEquals(level.get("GHSA-low0-0000-0000"), "note");
    assertEquals(level.get("GHSA-none-0000-0000"), "note");
    assertEquals(level.get("GO-2023-2102"), "note");
  });

  await t.step("locations relative to the base dir, absolute outside it", () => {
    const express = run.results.find((r: Json) => r.ruleId === "GHSA-wxyz-0000-critical");
    assertEquals(express.locations[0].physicalLocation, {
      artifactLocation: { uri: "package-lock.json", uriBaseId: "%SRCROOT%" },
      region: { startLine: 10 },
    });
    assertEquals(run.originalUriBaseIds, { "%SRCROOT%": { uri: "file:///srv/app/" } });
    const openssl = run.results.find((r: Json) => r.ruleId === "DEBIAN-CVE-2023-5678");
    assertEquals(openssl.locations[0].physicalLocation.artifactLocation, {
      uri: "file:///var/lib/dpkg/status",
    });
    assertEquals(
      express.message.text,
      "express 4.17.1 (npm) is affected by GHSA-wxyz-0000-critical: Remote code execution. No fixed version is known.",
    );
    const qs = run.results.find((r: Json) => r.ruleId === "GHSA-hrpp-h998-j3pp");
    assertEquals(
      qs.message.text,
      "qs 6.7.0 (npm) is affected by GHSA-hrpp-h998-j3pp: qs vulnerable to Prototype Pollution. Fixed in 6.7.3.",
    );
    assertEquals(qs.properties.purl, "pkg:npm/qs@6.7.0");
  });

  await t.step("odd file names are encoded as URI references", () => {
    const odd = finding(
      "GHSA-odd0-0000-0000",
      comp("npm", "x", "1.0.0", "/srv/app/a b/#1?.json", 2),
    );
    const r: Json =
      JSON.parse(toSarif([odd], { tool: TOOL, baseDir: "/srv/app" })).runs[0].results[0];
    assertEquals(r.locations[0].physicalLocation.artifactLocation.uri, "a%20b/%231%3F.json");
  });

  await t.step("fingerprints ignore line and version, not file or package", () => {
    const fp = (f: Finding) =>
      JSON.parse(toSarif([f], { tool: TOOL, baseDir: "/srv/app" })).runs[0].results[0]
        .partialFingerprints["packageVulnerability/v1"];
    const base = FINDINGS[0];
    const moved = { ...base, component: { ...base.component, origin: { file: LOCK, line: 999 } } };
    const bumped = { ...base, component: { ...base.component, version: "6.7.1" } };
    const other = {
      ...base,
      component: { ...base.component, origin: { file: "/srv/app/x/package-lock.json", line: 80 } },
    };
    assertEquals(fp(moved), fp(base));
    assertEquals(fp(bumped), fp(base));
    assert(fp(other) !== fp(base));
    assertEquals(toSarif(shuffled(FINDINGS, 7), { tool: TOOL, baseDir: "/srv/app" }), text);
  });
});

// ---------------------------------------------------------------------------------------

Deno.test("findings table", async (t) => {
  await t.step("snapshot, sorted by severity then package", async () => {
    await snapshot(
      "table.txt",
      formatFindingsTable(shuffled(FINDINGS, 3), { baseDir: "/srv/app" }),
    );
  });

  await t.step("no colour unless asked", () => {
    const plain = formatFindingsTable(FINDINGS);
    assert(!plain.includes("\x1b["));
    const coloured = formatFindingsTable(FINDINGS, { color: true });
    assert(coloured.includes("\x1b[1;31mcritical 9.8"));
    const ESC = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");
    assertEquals(coloured.replace(ESC, ""), plain, "colour only adds escapes");
  });

  await t.step("empty", () => {
    assertEquals(formatFindingsTable([]), "No vulnerabilities found.");
  });
});

Deno.test("scan result JSON", async (t) => {
  const result = {
    subject: HOST,
    components: COMPONENTS,
    findings: FINDINGS,
    errors: [
      toScanError(
        new IronpostError("E_PARSE", "Unexpected token", { file: "/srv/app/yarn.lock", line: 4 }),
      ),
      toScanError(new Error("boom")),
    ],
  };
  const text = toScanJson(result);
  const json: Json = JSON.parse(text);

  await t.step("stable shape with every key present", () => {
    assertEquals(Object.keys(json), ["subject", "components", "findings", "errors"]);
    assertEquals(json.subject, { type: "host", name: "web-1", image: null, id: null });
    const keys = Object.keys(json.components[0]);
    assertEquals(keys, [
      "key",
      "ecosystem",
      "name",
      "version",
      "purl",
      "origin",
      "groups",
      "commit",
      "binaryName",
      "binaryVersion",
      "dependsOn",
      "container",
      "note",
    ]);
    for (const c of json.components) assertEquals(Object.keys(c), keys);
    const fkeys = Object.keys(json.findings[0]);
    for (const f of json.findings) assertEquals(Object.keys(f), fkeys);
    assertEquals(json.errors, [
      { code: "E_UNEXPECTED", message: "boom", file: null, line: null },
      { code: "E_PARSE", message: "Unexpected token", file: "/srv/app/yarn.lock", line: 4 },
    ]);
  });

  await t.step("sorted and independent of input order", () => {
    assertEquals(json.findings.map((f: Json) => f.severity), [
      "critical",
      "critical",
      "high",
      "high",
      "medium",
      "medium",
      "low",
      "unknown",
      "none",
    ]);
    assertEquals(json.findings[0].component, {
      key: "npm:express@4.17.1",
      ecosystem: "npm",
      name: "express",
      version: "4.17.1",
      purl: "pkg:npm/express@4.17.1",
      origin: { file: LOCK, line: 10 },
    });
    const again = toScanJson({
      ...result,
      components: shuffled(COMPONENTS, 5),
      findings: shuffled(FINDINGS, 6),
      errors: [...result.errors].reverse(),
    });
    assertEquals(again, text);
  });

  await t.step("snapshot", async () => {
    await snapshot("scan_result.json", text);
  });
});
