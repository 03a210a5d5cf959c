/**
 * The scan pipeline: matching against a real index of hand-written records (aliases merged,
 * withdrawn skipped, Debian narrowed to the scanned root's release), directory scans, the
 * tar reader behind `docker export`, and a real running container's packages, read both
 * through its overlay2 merged directory and through an export.
 */
import {
  findVulnerabilities,
  listRunningContainers,
  parseOsRelease,
  readDebianRelease,
  readTar,
  SbomScanError,
  scanContainer,
  scanDirectory,
} from "../../mod/sbom/mod.ts";
import { openVulnDb, type VulnDb } from "../../mod/sbom/osv/mod.ts";
import { ContainerInventory } from "../../mod/containers/mod.ts";
import { toCycloneDx, validateCycloneDxJson } from "../../mod/sbom/report/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { DOCKER_SOCKET, ensureDocker, removeContainers, runContainer } from "../helpers/docker.ts";
import { exec } from "../helpers/netns.ts";
import { requirePart } from "../helpers/require.ts";
import {
  buildTestDb,
  DEBIAN_12_OS_RELEASE,
  DPKG_STATUS,
  ensureSbomImage,
  packageLock,
} from "./sbom_fixtures.ts";

async function withDb<T>(fn: (db: VulnDb, dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-scanner-" });
  const db = openVulnDb(await buildTestDb(dir));
  try {
    return await fn(db, dir);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("findVulnerabilities", async (t) => {
  await withDb(async (db) => {
    const npm = (name: string, version: string) => ({
      name,
      version,
      ecosystem: "npm" as const,
      origin: { file: "/srv/app/package-lock.json", line: 8 },
      groups: [],
    });

    await t.step("records that alias each other are one finding, rated by the worst", () => {
      const fs = findVulnerabilities([npm("lodash", "4.17.20")], db);
      assertEquals(fs.length, 1);
      assertEquals(fs[0].id, "GHSA-35jh-r3h4-6jhm");
      assertEquals(fs[0].aliases, ["CVE-2021-23337", "OSV-TEST-1"]);
      assertEquals(fs[0].severity, "high");
      assertEquals(fs[0].score, 7.2);
      assertEquals(fs[0].fixedVersion, "4.17.21");
      assertEquals(fs[0].summary, "Command Injection in lodash");
    });

    await t.step("a fixed version is not affected; a withdrawn record matches nothing", () => {
      assertEquals(findVulnerabilities([npm("lodash", "4.17.21")], db), []);
      assertEquals(findVulnerabilities([npm("left-pad", "1.0.0")], db), []);
    });

    await t.step("an unpinned requirement matches nothing", () => {
      assertEquals(findVulnerabilities([npm("lodash", "")], db), []);
    });

    await t.step("a record without severity is unknown", () => {
      const [f] = findVulnerabilities([{
        name: "example.com/unrated",
        version: "1.0.0",
        ecosystem: "Go",
        origin: { file: "go.mod", line: 3 },
        groups: [],
      }], db);
      assertEquals([f.id, f.severity, f.fixedVersion], ["GO-TEST-0001", "unknown", "2.0.0"]);
    });

    await t.step("Debian: source package, narrowed to the release when known", () => {
      const openssl = {
        name: "openssl",
        version: "3.0.11-1~deb12u2",
        ecosystem: "Debian" as const,
        binaryName: "libssl3",
        origin: { file: "/var/lib/dpkg/status", line: 1 },
        groups: [],
      };
      const ids = (release?: string) =>
        findVulnerabilities([openssl], db, release ? { debianRelease: release } : {})
          .map((f) => f.id).sort();
      assertEquals(ids("12"), ["DSA-TEST-12"]);
      assertEquals(ids("11"), ["DSA-TEST-11"]);
      assertEquals(ids(), ["DSA-TEST-11", "DSA-TEST-12"]);
      assertEquals(
        findVulnerabilities([{ ...openssl, version: "3.0.13-1~deb12u1" }], db, {
          debianRelease: "12",
        }),
        [],
      );
    });
  });
});

Deno.test("os-release", async (t) => {
  await t.step("parse", () => {
    const f = parseOsRelease(DEBIAN_12_OS_RELEASE);
    assertEquals([f.get("ID"), f.get("VERSION_ID"), f.get("VERSION")], [
      "debian",
      "12",
      "12 (bookworm)",
    ]);
  });

  const dir = await Deno.makeTempDir({ prefix: "ironpost-osrel-" });
  try {
    await t.step("a link is not followed; usr/lib/os-release is read instead", async () => {
      await Deno.mkdir(`${dir}/etc`);
      await Deno.mkdir(`${dir}/usr/lib`, { recursive: true });
      // An absolute link would lead onto the host's own file in a container's filesystem.
      await Deno.symlink("/nonexistent/os-release", `${dir}/etc/os-release`);
      await Deno.writeTextFile(`${dir}/usr/lib/os-release`, 'ID=debian\nVERSION_ID="11"\n');
      assertEquals(await readDebianRelease(dir), "11");
    });
    await t.step("another distribution or no file gives none", async () => {
      await Deno.writeTextFile(`${dir}/usr/lib/os-release`, 'ID=ubuntu\nVERSION_ID="22.04"\n');
      assertEquals(await readDebianRelease(dir), undefined);
      assertEquals(await readDebianRelease(`${dir}/usr`), undefined);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scanDirectory", async (t) => {
  await withDb(async (db, dir) => {
    const root = `${dir}/root`;
    await Deno.mkdir(`${root}/srv/app`, { recursive: true });
    await Deno.mkdir(`${root}/srv/broken`, { recursive: true });
    await Deno.mkdir(`${root}/var/lib/dpkg`, { recursive: true });
    await Deno.mkdir(`${root}/etc`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/srv/app/package-lock.json`,
      packageLock({ lodash: "4.17.20", minimist: "1.2.5" }),
    );
    await Deno.writeTextFile(`${root}/srv/broken/package-lock.json`, "{ not json");
    await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, DPKG_STATUS);
    await Deno.writeTextFile(`${root}/etc/os-release`, DEBIAN_12_OS_RELEASE);

    const r = await scanDirectory(root, { db });

    await t.step("subject, files and components", () => {
      assertEquals(r.subject, { type: "directory", name: root });
      assertEquals(r.files.sort(), [
        `${root}/srv/app/package-lock.json`,
        `${root}/srv/broken/package-lock.json`,
        `${root}/var/lib/dpkg/status`,
      ]);
      const keys = r.components.map((c) => `${c.ecosystem}:${c.name}@${c.version}`).sort();
      assertEquals(keys, [
        "Debian:base-files@12.4+deb12u5",
        "Debian:openssl@3.0.11-1~deb12u2",
        "npm:lodash@4.17.20",
        "npm:minimist@1.2.5",
      ]);
    });

    await t.step("the Debian release comes from the root's os-release", () => {
      assertEquals(r.debianRelease, "12");
      const ids = r.findings.map((f) => f.id).sort();
      assertEquals(ids, ["DSA-TEST-12", "GHSA-35jh-r3h4-6jhm", "GHSA-xvch-5gv4-984h"]);
    });

    await t.step("findings carry the lockfile line", () => {
      const lodash = r.findings.find((f) => f.component.name === "lodash")!;
      assertEquals(lodash.component.origin.file, `${root}/srv/app/package-lock.json`);
      assert((lodash.component.origin.line ?? 0) > 0, "a line for the lodash entry");
    });

    await t.step("a malformed file is an error in the result, not a failure", () => {
      assertEquals(r.errors.length, 1);
      assertEquals(r.errors[0].code, "E_MALFORMED");
      assertEquals(r.errors[0].file, `${root}/srv/broken/package-lock.json`);
    });

    await t.step("debianRelease null matches every release", async () => {
      const all = await scanDirectory(root, { db, debianRelease: null });
      assert(all.findings.some((f) => f.id === "DSA-TEST-11"));
    });

    await t.step("a missing directory or a file is E_SCAN_TARGET", async () => {
      const e1 = await assertRejects(scanDirectory(`${root}/nope`, { db }));
      assert(e1 instanceof SbomScanError && e1.code === "E_SCAN_TARGET", String(e1));
      const e2 = await assertRejects(scanDirectory(`${root}/etc/os-release`, { db }));
      assert(e2 instanceof SbomScanError && e2.code === "E_SCAN_TARGET", String(e2));
    });
  });
});

Deno.test("readTar reads what GNU tar writes (long names, pax, links)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-tar-" });
  try {
    const long = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(30)}/package.json`;
    await Deno.mkdir(`${dir}/src/${long.slice(0, long.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/src/${long}`, '{"name":"x"}');
    await Deno.writeTextFile(`${dir}/src/small.txt`, "a".repeat(1000));
    await Deno.writeTextFile(`${dir}/src/é.txt`, "unicode");
    await Deno.symlink("small.txt", `${dir}/src/link`);
    await Deno.link(`${dir}/src/small.txt`, `${dir}/src/hard.txt`);
    for (const format of ["gnu", "pax", "ustar"]) {
      const tar = `${dir}/${format}.tar`;
      const args = ["tar", `--format=${format}`, "-C", `${dir}/src`, "-cf", tar, "."];
      // ustar holds the long name only by splitting it into its prefix field.
      const res = await exec(args);
      assertEquals(res.code, 0, res.stderr);
      const file = await Deno.open(tar);
      const seen = new Map<string, string>();
      for await (const item of readTar(file.readable)) {
        const e = item.entry;
        if (e.type === "file" && (e.path.endsWith(".json") || e.path === "é.txt")) {
          seen.set(e.path, new TextDecoder().decode(await item.read()));
        } else {
          seen.set(e.path, `${e.type}:${e.linkName}`);
        }
      }
      assertEquals(seen.get(long), '{"name":"x"}', format);
      assertEquals(seen.get("link"), "symlink:small.txt", format);
      assert(
        seen.get("hard.txt") === "hardlink:./small.txt" ||
          seen.get("small.txt") === "hardlink:./hard.txt",
        `${format}: ${seen.get("hard.txt")}`,
      );
      assertEquals(seen.get("é.txt"), "unicode", format);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a running container's packages are found", async (t) => {
  if (!requirePart("docker", await ensureDocker())) return;
  const image = await ensureSbomImage();
  const name = `ironpost-sbom-scan-${Deno.pid}`;
  const stopped = `${name}-stopped`;
  await removeContainers([name, stopped]);
  const id = await runContainer(name, [], { image });
  // The shared container inventory, as the agent hands it to the scanner.
  const containers = new ContainerInventory({ socketPath: DOCKER_SOCKET });
  await containers.start();
  await withDb(async (db, dir) => {
    try {
      const expected = [
        "Debian:base-files@12.4+deb12u5",
        "Debian:openssl@3.0.11-1~deb12u2",
        "npm:lodash@4.17.20",
      ];
      const check = (r: Awaited<ReturnType<typeof scanContainer>>) => {
        const keys = r.components.map((c) => `${c.ecosystem}:${c.name}@${c.version}`).sort();
        assertEquals(keys, expected);
        for (const c of r.components) {
          assertEquals(c.container, { id, name, image });
        }
        const origins = [...new Set(r.components.map((c) => c.origin.file))].sort();
        assertEquals(origins, [
          "/usr/lib/node_modules/lodash/package.json",
          "/var/lib/dpkg/status",
        ]);
        assertEquals(r.subject, { type: "container", name, image, id });
        assertEquals(r.debianRelease, "12");
        assertEquals(r.findings.map((f) => f.id).sort(), ["DSA-TEST-12", "GHSA-35jh-r3h4-6jhm"]);
        assertEquals(r.errors, []);
      };

      await t.step("listed among the running containers", () => {
        const running = listRunningContainers(containers);
        const me = running.find((c) => c.id === id);
        assert(me !== undefined, "the test container is listed");
        assertEquals([me.name, me.image, me.running], [name, image, true]);
      });

      await t.step("through the overlay2 merged directory", async () => {
        const r = await scanContainer(name, { db, containers });
        assertEquals(r.method, "merged");
        check(r);
      });

      await t.step("through docker export, streamed", async () => {
        const r = await scanContainer(id.slice(0, 12), {
          db,
          containers,
          container: { preferExport: true, tempDir: `${dir}/exports` },
        });
        assertEquals(r.method, "export");
        check(r);
        // The export's temporary directory is gone afterwards.
        assertEquals([...Deno.readDirSync(`${dir}/exports`)], []);
      });

      await t.step("its CycloneDX validates", async () => {
        const r = await scanContainer(name, { db, containers });
        const bom = toCycloneDx({
          components: r.components,
          findings: r.findings,
          subject: r.subject,
          tool: { name: "ironpost", version: "0.1.0" },
        }, "json");
        assertEquals(await validateCycloneDxJson(bom), []);
        const doc = JSON.parse(bom);
        assertEquals(doc.metadata.component.type, "container");
        assertEquals(doc.vulnerabilities.length, 2);
      });

      await t.step("unknown and stopped containers are typed errors", async () => {
        const e1 = await assertRejects(scanContainer(`no-such-${Deno.pid}`, { db, containers }));
        assert(e1 instanceof SbomScanError && e1.code === "E_CONTAINER_NOT_FOUND", String(e1));
        await runContainer(stopped, ["/bin/sh", "-c", "exit 0"], { image });
        const e2 = await assertRejects(scanContainer(stopped, { db, containers }));
        assert(e2 instanceof SbomScanError && e2.code === "E_CONTAINER_NOT_RUNNING", String(e2));
      });
    } finally {
      await containers.stop();
      await removeContainers([name, stopped]);
    }
  });
});
