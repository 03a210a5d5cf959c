/**
 * CycloneDX 1.6 SBOMs (JSON or XML) through `@cyclonedx/cyclonedx-library`: components with
 * purls and `ironpost:` properties, the dependency graph, and the vulnerabilities found.
 *
 * Determinism: the same input and timestamp give byte-identical output, whatever the input
 * order. Lists are sorted by the library (`sortLists`), every component and vulnerability has
 * a bom-ref (the library would otherwise invent random ones), and the serial number is a
 * UUIDv5 of the JSON rendering without it (so JSON and XML of one scan share it). Pass
 * `{ serialNumber: "random" }` for a random UUIDv4 instead.
 *
 * Component properties (CycloneDX lets a name repeat):
 * - `ironpost:ecosystem`: the OSV ecosystem (`Debian:12`), which a purl type does not keep;
 * - `ironpost:origin`: each file that declared it, `path` or `path:line`;
 * - `ironpost:group`: each dependency group (`dev`, `optional`, a requirements file…);
 * - `ironpost:commit`, `ironpost:note`: a VCS pin, why a requirement is unpinned;
 * - `ironpost:debian:binary`: each binary package built from a Debian source package,
 *   `name` or `name=version` (apt's notation);
 * - `ironpost:container:id` / `:name` / `:image`: for components found in a container.
 *
 * Scope: development and test groups → `excluded`, `optional` groups → `optional`, else
 * nothing is written (CycloneDX's default, `required`); see `scopeOfGroups`.
 *
 * Dependency graph: only components whose extractor said what they depend on (`dependsOn`,
 * even empty) get an entry. CycloneDX reads an entry with no `dependsOn` as "depends on
 * nothing", so components of unknown dependencies are left out of the graph rather than
 * claimed leaves (the library would list every component).
 *
 * XML needs `xmlbuilder2` in the module graph: the library loads it optionally through
 * `require`, which Deno can only satisfy when the package is part of the same npm
 * resolution, hence the side-effect import below. quiet_punycode.ts must load before the
 * library (see there).
 */
import "./quiet_punycode.ts";
// Pinned inline until deno.json maps the name (then: bare `import "xmlbuilder2";`).
// deno-lint-ignore no-import-prefix
import "npm:xmlbuilder2@4.0.3";
import { createHash, randomUUID } from "node:crypto";
import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import type { Component } from "../component.ts";
import type { Finding, VulnSeverity } from "../finding.ts";
import { advisorySource } from "./advisory_source.ts";
import { bomRefOf, mergeComponents, type MergedComponent, originText } from "./component_set.ts";
import { ReportError } from "./errors.ts";
import { compareText } from "./severity_order.ts";
import type { ScanSubject, ToolInfo } from "./subject.ts";

/** What a CycloneDX document is made from. */
export interface CycloneDxInput {
  components: Component[];
  findings: Finding[];
  subject: ScanSubject;
  tool: ToolInfo;
  /** When the scan ran; now when absent (then the output is not reproducible). */
  timestamp?: Date;
}

/** The two CycloneDX encodings. */
export type CycloneDxFormat = "json" | "xml";

/** How the serial number is made: from the content (default) or at random. */
export interface CycloneDxOptions {
  serialNumber?: "derived" | "random";
}

/** The bom-ref of the document's subject (the host, directory or container). */
export function subjectBomRef(subject: ScanSubject): string {
  return `ironpost:subject:${subject.type}:${subject.name}`;
}

// A fixed namespace for Ironpost's UUIDv5 serial numbers (RFC 9562 §5.5); any constant UUID
// serves, this one was generated once at random.
const SERIAL_NAMESPACE = "3f6c0e1a-9b7d-4c52-8a1e-5d2f7b8c9e40";

const SUBJECT_TYPE: Record<ScanSubject["type"], Enums.ComponentType> = {
  host: Enums.ComponentType.OperatingSystem,
  directory: Enums.ComponentType.Application,
  container: Enums.ComponentType.Container,
};

const SCOPE: Record<MergedComponent["scope"], Enums.ComponentScope | undefined> = {
  required: undefined,
  optional: Enums.ComponentScope.Optional,
  excluded: Enums.ComponentScope.Excluded,
};

const SEVERITY: Record<VulnSeverity, Enums.Vulnerability.Severity> = {
  critical: Enums.Vulnerability.Severity.Critical,
  high: Enums.Vulnerability.Severity.High,
  medium: Enums.Vulnerability.Severity.Medium,
  low: Enums.Vulnerability.Severity.Low,
  none: Enums.Vulnerability.Severity.None,
  unknown: Enums.Vulnerability.Severity.Unknown,
};

/**
 * The CycloneDX rating method a vector belongs to: `CVSS:3.1/…` → CVSSv31, `CVSS:3.0/…` →
 * CVSSv3, `CVSS:4.0/…` → CVSSv4, a bare v2 vector (`AV:N/…`) → CVSSv2, else `other` (a
 * database's own label).
 */
export function ratingMethod(vector: string | undefined): Enums.Vulnerability.RatingMethod {
  const M = Enums.Vulnerability.RatingMethod;
  if (vector === undefined) return M.Other;
  if (vector.startsWith("CVSS:3.1/")) return M.CVSSv31;
  if (vector.startsWith("CVSS:3.0/")) return M.CVSSv3;
  if (vector.startsWith("CVSS:4.0/")) return M.CVSSv4;
  if (/^\(?AV:[LAN]\//.test(vector)) return M.CVSSv2;
  return M.Other;
}

function properties(m: MergedComponent): Models.Property[] {
  const P = (name: string, value: string) => new Models.Property(`ironpost:${name}`, value);
  const out = [P("ecosystem", m.ecosystem)];
  for (const o of m.origins) out.push(P("origin", originText(o)));
  for (const g of m.groups) out.push(P("group", g));
  for (const c of m.commits) out.push(P("commit", c));
  for (const n of m.notes) out.push(P("note", n));
  for (const b of m.binaries) out.push(P("debian:binary", b));
  if (m.container !== undefined) {
    out.push(P("container:id", m.container.id));
    out.push(P("container:name", m.container.name));
    out.push(P("container:image", m.container.image));
  }
  return out;
}

function subjectComponent(subject: ScanSubject): Models.Component {
  const props = [new Models.Property("ironpost:subject:type", subject.type)];
  if (subject.image) props.push(new Models.Property("ironpost:container:image", subject.image));
  if (subject.id) props.push(new Models.Property("ironpost:container:id", subject.id));
  return new Models.Component(SUBJECT_TYPE[subject.type], subject.name, {
    bomRef: subjectBomRef(subject),
    properties: new Models.PropertyRepository(props),
  });
}

interface VulnGroup {
  id: string;
  findings: Finding[];
}

function groupFindings(findings: readonly Finding[]): VulnGroup[] {
  const byId = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = byId.get(f.id) ?? [];
    list.push(f);
    byId.set(f.id, list);
  }
  return [...byId.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([id, list]) => ({ id, findings: list }));
}

function ratings(findings: readonly Finding[]): Models.Vulnerability.Rating[] {
  const seen = new Map<string, Models.Vulnerability.Rating>();
  for (const f of findings) {
    const method = ratingMethod(f.vector);
    const key = `${method}|${f.vector ?? ""}|${f.score ?? ""}|${f.severity}`;
    if (seen.has(key)) continue;
    seen.set(
      key,
      new Models.Vulnerability.Rating({
        score: f.score,
        severity: SEVERITY[f.severity] ?? Enums.Vulnerability.Severity.Unknown,
        method,
        vector: f.vector,
      }),
    );
  }
  return [...seen.values()];
}

function vulnerability(
  group: VulnGroup,
  refOf: (f: Finding) => Models.BomRef,
): Models.Vulnerability.Vulnerability {
  const V = Models.Vulnerability;
  const source = advisorySource(group.id);
  const aliases = new Set<string>();
  const advisories = new Set<string>();
  const recommendations = new Set<string>();
  const affects = new Map<Models.BomRef, Set<string>>();
  let description: string | undefined;
  for (const f of group.findings) {
    for (const a of f.aliases) if (a !== group.id) aliases.add(a);
    if (f.url) advisories.add(f.url);
    if (!description && f.summary) description = f.summary;
    if (f.fixedVersion) {
      recommendations.add(`Upgrade ${f.component.name} to ${f.fixedVersion} or later.`);
    }
    const ref = refOf(f);
    const versions = affects.get(ref) ?? new Set<string>();
    if (f.component.version) versions.add(`affected\0${f.component.version}`);
    if (f.fixedVersion) versions.add(`unaffected\0${f.fixedVersion}`);
    affects.set(ref, versions);
  }
  const references = [...aliases].sort(compareText).map((a) => {
    const s = advisorySource(a);
    return new V.Reference(a, new V.Source({ name: s.name, url: s.url }));
  });
  const affectList = [...affects.entries()].map(([ref, versions]) =>
    new V.Affect(ref, {
      versions: new V.AffectedVersionRepository(
        [...versions].map((v) => {
          const [status, version] = v.split("\0");
          return new V.AffectedSingleVersion(version, {
            status: status === "affected"
              ? Enums.Vulnerability.AffectStatus.Affected
              : Enums.Vulnerability.AffectStatus.Unaffected,
          });
        }),
      ),
    })
  );
  return new V.Vulnerability({
    bomRef: group.id,
    id: group.id,
    source: new V.Source({ name: source.name, url: source.url }),
    references: new V.ReferenceRepository(references),
    ratings: new V.RatingRepository(ratings(group.findings)),
    description,
    recommendation: recommendations.size > 0
      ? [...recommendations].sort(compareText).join(" ")
      : undefined,
    advisories: new V.AdvisoryRepository(
      [...advisories].sort(compareText).map((u) => new V.Advisory(u)),
    ),
    affects: new V.AffectRepository(affectList),
  });
}

/** The library's object model of the document, without a serial number. */
function buildBom(input: CycloneDxInput): { bom: Models.Bom; graphRefs: Set<string> } {
  const { list } = mergeComponents(input.components, input.findings, input.subject);
  const models = new Map<string, Models.Component>();
  for (const m of list) {
    models.set(
      m.bomRef,
      new Models.Component(Enums.ComponentType.Library, m.name, {
        bomRef: m.bomRef,
        version: m.version === "" ? undefined : m.version,
        purl: m.purl,
        scope: SCOPE[m.scope],
        properties: new Models.PropertyRepository(properties(m)),
      }),
    );
  }
  const graphRefs = new Set<string>();
  for (const m of list) {
    if (m.dependsOn === undefined) continue;
    graphRefs.add(m.bomRef);
    const model = models.get(m.bomRef)!;
    for (const d of m.dependsOn) model.dependencies.add(models.get(d)!.bomRef);
  }

  const subject = input.subject;
  const refOf = (f: Finding): Models.BomRef => models.get(bomRefOf(f.component, subject))!.bomRef;

  const tool = new Models.Component(Enums.ComponentType.Application, input.tool.name, {
    version: input.tool.version,
  });
  const bom = new Models.Bom({
    metadata: new Models.Metadata({
      timestamp: input.timestamp ?? new Date(),
      tools: new Models.Tools({ components: new Models.ComponentRepository([tool]) }),
      component: subjectComponent(subject),
    }),
    components: new Models.ComponentRepository(models.values()),
    vulnerabilities: new Models.Vulnerability.VulnerabilityRepository(
      groupFindings(input.findings).map((g) => vulnerability(g, refOf)),
    ),
  });
  return { bom, graphRefs };
}

type JsonBom = ReturnType<Serialize.JSON.Normalize.BomNormalizer["normalize"]>;
type XmlElement = ReturnType<Serialize.XML.Normalize.BomNormalizer["normalize"]>;

// The serializers below differ from the library's only in the dependency graph: entries for
// components whose dependencies are unknown are dropped (see the module note).

class JsonSerializer extends Serialize.JsonSerializer {
  readonly #graphRefs: Set<string>;

  constructor(graphRefs: Set<string>) {
    super(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
    this.#graphRefs = graphRefs;
  }

  protected override _normalize(
    bom: Models.Bom,
    options?: Serialize.Types.NormalizerOptions,
  ): JsonBom {
    const n = super._normalize(bom, options);
    const deps = (n.dependencies ?? []).filter((d) => this.#graphRefs.has(d.ref));
    n.dependencies = deps.length > 0 ? deps : undefined;
    return n;
  }
}

class XmlSerializer extends Serialize.XmlSerializer {
  readonly #graphRefs: Set<string>;

  constructor(graphRefs: Set<string>) {
    super(new Serialize.XML.Normalize.Factory(Spec.Spec1dot6));
    this.#graphRefs = graphRefs;
  }

  protected override _normalize(
    bom: Models.Bom,
    options?: Serialize.Types.NormalizerOptions,
  ): XmlElement {
    const n = super._normalize(bom, options);
    if (n.children === undefined || typeof n.children !== "object") return n;
    const children = [];
    for (const child of n.children) {
      if (child.type === "element" && child.name === "dependencies") {
        const kept = typeof child.children === "object" && child.children !== null
          ? [...child.children].filter((d) =>
            d.type === "element" && this.#graphRefs.has(String(d.attributes?.ref))
          )
          : [];
        if (kept.length > 0) children.push({ ...child, children: kept });
      } else {
        children.push(child);
      }
    }
    return { ...n, children };
  }
}

function serialize(bom: Models.Bom, graphRefs: Set<string>, format: CycloneDxFormat): string {
  const options = { sortLists: true, space: 2 };
  if (format === "json") return new JsonSerializer(graphRefs).serialize(bom, options);
  if (format === "xml") return new XmlSerializer(graphRefs).serialize(bom, options);
  throw new ReportError("E_REPORT_FORMAT", `Unknown CycloneDX format "${format}"`, { format });
}

/** A name-based UUID (version 5, SHA-1) of `name` in `namespace`, per RFC 9562 §5.5. */
function uuidV5(namespace: string, name: string): string {
  const ns = new Uint8Array(
    namespace.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16)),
  );
  const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/**
 * A CycloneDX 1.6 document for a scan, as JSON or XML text. See the module note for what is
 * written and why the output is deterministic.
 *
 * @example
 * ```ts
 * import { toCycloneDx } from "./cyclonedx.ts";
 * const text = toCycloneDx({
 *   components: [{ name: "left-pad", version: "1.3.0", ecosystem: "npm",
 *     origin: { file: "package-lock.json", line: 12 }, groups: [] }],
 *   findings: [],
 *   subject: { type: "directory", name: "/srv/app" },
 *   tool: { name: "ironpost", version: "0.1.0" },
 *   timestamp: new Date("2025-01-01T00:00:00Z"),
 * }, "json");
 * const bom = JSON.parse(text);
 * console.assert(bom.components[0].purl === "pkg:npm/left-pad@1.3.0");
 * console.assert(bom.components[0]["bom-ref"] === "npm:left-pad@1.3.0");
 * ```
 */
export function toCycloneDx(
  input: CycloneDxInput,
  format: CycloneDxFormat,
  options: CycloneDxOptions = {},
): string {
  // One timestamp for both renderings below, or "now" would differ between them.
  const stamped = { ...input, timestamp: input.timestamp ?? new Date() };
  const { bom, graphRefs } = buildBom(stamped);
  if (options.serialNumber === "random") {
    bom.serialNumber = `urn:uuid:${randomUUID()}`;
  } else {
    const content = serialize(bom, graphRefs, "json");
    bom.serialNumber = `urn:uuid:${uuidV5(SERIAL_NAMESPACE, content)}`;
  }
  return serialize(bom, graphRefs, format);
}
