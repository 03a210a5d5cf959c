/**
 * Shared set-up of the scanner, module and CLI tests: a small OSV index of hand-written
 * records (built with the real `buildIndex`), and a Docker image, imported from a rootfs
 * made here, that holds a dpkg status, an installed npm package and a Debian 12
 * os-release, so a running container's packages can be scanned for real.
 */
import { buildIndex } from "../../mod/sbom/osv/mod.ts";
import { docker, dockerOk } from "../helpers/docker.ts";
import { exec } from "../helpers/netns.ts";

/** `../shared/data` beside the repository, or a clear failure when it is absent. */
export async function sharedData(sub: string): Promise<string> {
  const url = new URL(`../../../shared/data/${sub}`, import.meta.url);
  try {
    return await Deno.realPath(url);
  } catch {
    throw new Error(
      `shared data not found at ${url.pathname}: these tests need ../shared/data beside the ` +
        "repository (see shared/data/README.md)",
    );
  }
}

const MODIFIED = "2024-01-01T00:00:00Z";

function semverRange(introduced: string, fixed: string) {
  return [{ type: "SEMVER", events: [{ introduced }, { fixed }] }];
}

/**
 * The hand-written records, by file: what each test expects of them is stated here.
 * - npm lodash < 4.17.21: GHSA (CVSS 3.1 high 7.2) and an OSV record aliasing it (label
 *   LOW): one finding, high, both ids;
 * - npm minimist < 1.2.6: label LOW (below the default threshold);
 * - npm jsonwebtoken < 9.0.0: label HIGH (added to a lockfile by the watch test);
 * - Go example.com/unrated < 2.0.0: no severity at all (unknown);
 * - Debian openssl: a Debian:12 record (fixed 3.0.13-1~deb12u1) and a Debian:11 one;
 * - npm left-pad: withdrawn.
 */
export const TEST_RECORDS: Record<string, unknown> = {
  "npm/GHSA-35jh-r3h4-6jhm.json": {
    id: "GHSA-35jh-r3h4-6jhm",
    modified: MODIFIED,
    aliases: ["CVE-2021-23337"],
    summary: "Command Injection in lodash",
    severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" }],
    affected: [{
      package: { ecosystem: "npm", name: "lodash" },
      ranges: semverRange("0", "4.17.21"),
    }],
  },
  "npm/OSV-TEST-1.json": {
    id: "OSV-TEST-1",
    modified: MODIFIED,
    aliases: ["GHSA-35jh-r3h4-6jhm"],
    summary: "The same lodash issue under another id",
    database_specific: { severity: "LOW" },
    affected: [{
      package: { ecosystem: "npm", name: "lodash" },
      ranges: semverRange("0", "4.17.21"),
    }],
  },
  "npm/GHSA-xvch-5gv4-984h.json": {
    id: "GHSA-xvch-5gv4-984h",
    modified: MODIFIED,
    summary: "Prototype Pollution in minimist",
    database_specific: { severity: "LOW" },
    affected: [{
      package: { ecosystem: "npm", name: "minimist" },
      ranges: semverRange("0", "1.2.6"),
    }],
  },
  "npm/GHSA-27h2-hvpr-p74q.json": {
    id: "GHSA-27h2-hvpr-p74q",
    modified: MODIFIED,
    summary: "jsonwebtoken unrestricted key type",
    database_specific: { severity: "HIGH" },
    affected: [{
      package: { ecosystem: "npm", name: "jsonwebtoken" },
      ranges: semverRange("0", "9.0.0"),
    }],
  },
  "npm/GHSA-left-pad-gone.json": {
    id: "GHSA-left-pad-gone",
    modified: MODIFIED,
    withdrawn: MODIFIED,
    summary: "Withdrawn",
    database_specific: { severity: "CRITICAL" },
    affected: [{
      package: { ecosystem: "npm", name: "left-pad" },
      ranges: semverRange("0", "9.9.9"),
    }],
  },
  "Go/GO-TEST-0001.json": {
    id: "GO-TEST-0001",
    modified: MODIFIED,
    summary: "An unrated Go vulnerability",
    affected: [{
      package: { ecosystem: "Go", name: "example.com/unrated" },
      ranges: semverRange("0", "2.0.0"),
    }],
  },
  "Debian/DSA-TEST-12.json": {
    id: "DSA-TEST-12",
    modified: MODIFIED,
    summary: "openssl security update (bookworm)",
    affected: [{
      package: { ecosystem: "Debian:12", name: "openssl" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "3.0.13-1~deb12u1" }] }],
    }],
  },
  "Debian/DSA-TEST-11.json": {
    id: "DSA-TEST-11",
    modified: MODIFIED,
    summary: "openssl security update (bullseye)",
    affected: [{
      package: { ecosystem: "Debian:11", name: "openssl" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "9.9.9-1" }] }],
    }],
  },
};

/** Writes `TEST_RECORDS` under `dir/osv` and builds an index of them at `dir/vulndb.sqlite`. */
export async function buildTestDb(dir: string): Promise<string> {
  const src = `${dir}/osv`;
  for (const [name, record] of Object.entries(TEST_RECORDS)) {
    const path = `${src}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(record, null, 1));
  }
  const dbPath = `${dir}/vulndb.sqlite`;
  await buildIndex(src, dbPath);
  return dbPath;
}

/** A `package-lock.json` v3 of `deps` (name → version), each line known: see `lockLine`. */
export function packageLock(deps: Record<string, string>): string {
  const packages: Record<string, unknown> = {
    "": { name: "app", version: "1.0.0", dependencies: deps },
  };
  for (const [name, version] of Object.entries(deps)) {
    packages[`node_modules/${name}`] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
    };
  }
  return JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, packages }, null, 2) +
    "\n";
}

/** A dpkg status of openssl 3.0.11 (libssl3, from source openssl) and base-files. */
export const DPKG_STATUS = `Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6159
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries

Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
`;

export const DEBIAN_12_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;

/** The image with packages in it; rebuilt when absent. */
export const SBOM_IMAGE = "ironpost-test/sbom:1";

/**
 * Imports `SBOM_IMAGE` from a rootfs made here: busybox (for `sleep`), a dpkg status,
 * `/usr/lib/node_modules/lodash/package.json` (4.17.20), `/usr/lib/os-release` (Debian 12)
 * with `/etc/os-release` a relative link to it, as on Debian.
 */
export async function ensureSbomImage(): Promise<string> {
  if ((await docker(["image", "inspect", SBOM_IMAGE])).code === 0) return SBOM_IMAGE;
  const dir = await Deno.makeTempDir({ prefix: "ironpost-sbom-rootfs-" });
  try {
    const root = `${dir}/rootfs`;
    for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev", "var/lib/dpkg", "usr/lib"]) {
      await Deno.mkdir(`${root}/${d}`, { recursive: true });
    }
    await Deno.copyFile("/bin/busybox", `${root}/bin/busybox`);
    await Deno.chmod(`${root}/bin/busybox`, 0o755);
    for (const a of ["sh", "sleep"]) await Deno.symlink("busybox", `${root}/bin/${a}`);
    await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, DPKG_STATUS);
    await Deno.mkdir(`${root}/usr/lib/node_modules/lodash`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/usr/lib/node_modules/lodash/package.json`,
      JSON.stringify({ name: "lodash", version: "4.17.20", main: "lodash.js" }),
    );
    await Deno.writeTextFile(`${root}/usr/lib/os-release`, DEBIAN_12_OS_RELEASE);
    await Deno.symlink("../usr/lib/os-release", `${root}/etc/os-release`);
    const tar = `${dir}/rootfs.tar`;
    const t = await exec([
      "tar",
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "-C",
      root,
      "-cf",
      tar,
      ".",
    ]);
    if (t.code !== 0) throw new Error(`tar failed: ${t.stderr.trim()}`);
    await dockerOk(["import", "--change", 'CMD ["/bin/sleep", "600"]', tar, SBOM_IMAGE], 120_000);
    return SBOM_IMAGE;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
