/**
 * Installed-software extractors against real data (a Debian 12 dpkg status with dpkg-query's
 * own answer; osv-scalibr's METADATA and package.json cases), and the directory walker on a
 * temporary tree.
 */
import type { Component } from "../../mod/sbom/component.ts";
import { extractFile, inventoryDir, InventoryError } from "../../mod/sbom/inventory/mod.ts";
import { dpkgStatus } from "../../mod/sbom/inventory/dpkg_status.ts";
import { nodeModulesPackageJson } from "../../mod/sbom/inventory/package_json.ts";
import { pythonMetadata } from "../../mod/sbom/inventory/python_metadata.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { requirePart, requireRoot } from "../helpers/require.ts";

const INSTALLED = new URL("../../../shared/data/installed/", import.meta.url);

function readData(name: string): string {
  const url = new URL(name, INSTALLED);
  try {
    return Deno.readTextFileSync(url);
  } catch (e) {
    throw new Error(
      `installed-software data missing: ${url.pathname} (the shared data folder ` +
        `../shared/data must sit beside the repository): ${(e as Error).message}`,
    );
  }
}

interface DpkgQueryRow {
  package: string;
  version: string;
  sourcePackage: string;
  sourceVersion: string;
  status: string;
}

Deno.test("dpkg status of a Debian 12 host matches dpkg-query", async (t) => {
  const expected = JSON.parse(readData("host-bookworm/expected.json")) as {
    count: number;
    packages: DpkgQueryRow[];
  };
  const path = new URL("host-bookworm/status", INSTALLED).pathname;
  const got = dpkgStatus.extract(path, readData("host-bookworm/status"));

  await t.step(`${expected.count} packages, binary and source names and versions`, () => {
    assertEquals(got.length, expected.count);
    const want = expected.packages.map((p) =>
      [p.package, p.version, p.sourcePackage, p.sourceVersion].join(" ")
    ).sort();
    const have = got.map((c) =>
      [c.binaryName, c.binaryVersion ?? c.version, c.name, c.version].join(" ")
    ).sort();
    assertEquals(have, want);
  });

  await t.step("reported under the source name, binary kept; epochs kept", () => {
    const bsdutils = got.find((c) => c.binaryName === "bsdutils");
    assertEquals(bsdutils?.name, "util-linux");
    assertEquals(bsdutils?.version, "2.38.1-5+deb12u3");
    assertEquals(bsdutils?.binaryVersion, "1:2.38.1-5+deb12u3");
    const git = got.find((c) => c.binaryName === "git");
    assertEquals([git?.name, git?.version, git?.binaryVersion], [
      "git",
      "1:2.39.5-0+deb12u3",
      undefined,
    ]);
    for (const c of got) {
      assertEquals(c.ecosystem, "Debian");
      assert((c.origin.line ?? 0) > 0, `${c.binaryName} has no line`);
    }
  });

  await t.step("only installed packages count; status.d files need no Status", () => {
    const text = "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
      "Package: b\nStatus: install ok half-installed\nVersion: 1\n\n" +
      "Package: c\nStatus: hold ok installed\nVersion: 2:1.0-1\n\n" +
      "Package: d\nVersion: 1\n";
    assertEquals(dpkgStatus.extract("/var/lib/dpkg/status", text).map((c) => c.name), ["c"]);
    assertEquals(
      dpkgStatus.extract("/var/lib/dpkg/status.d/d", "Package: d\nVersion: 1\n").map((c) => c.name),
      ["d"],
    );
  });
});

interface ScalibrCase {
  file: string;
  name?: string;
  version?: string;
  expect?: string;
}

Deno.test("installed metadata: osv-scalibr's cases", async (t) => {
  const expected = JSON.parse(readData("scalibr/expected.json")) as {
    "python-metadata": ScalibrCase[];
    "package-json": ScalibrCase[];
  };
  for (const c of expected["python-metadata"]) {
    await t.step(`python ${c.file}`, async () => {
      const path = new URL(`scalibr/${c.file}`, INSTALLED).pathname;
      if (c.name === undefined) {
        let err: unknown;
        try {
          await extractFile(path, pythonMetadata);
        } catch (e) {
          err = e;
        }
        assert(err instanceof InventoryError, `${c.file}: expected an error (${c.expect})`);
        assertEquals(err.code, "E_MALFORMED");
        return;
      }
      const got = await extractFile(path, pythonMetadata);
      assertEquals(got.map((x) => [x.name, x.version, x.ecosystem]), [[c.name, c.version, "PyPI"]]);
    });
  }
  for (const c of expected["package-json"]) {
    await t.step(`package.json ${c.file}`, async () => {
      const path = new URL(`scalibr/${c.file}`, INSTALLED).pathname;
      const got = await extractFile(path, nodeModulesPackageJson);
      const want = c.name === undefined ? [] : [[c.name, c.version, "npm"]];
      assertEquals(got.map((x) => [x.name, x.version, x.ecosystem]), want, c.expect);
    });
  }
});

/** `file: name@version` of every component, sorted, with the root cut off. */
function found(root: string, components: Component[]): string[] {
  return components.map((c) => `${c.origin.file.slice(root.length + 1)}: ${c.name}@${c.version}`)
    .sort();
}

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

const pkg = (name: string, version: string) => JSON.stringify({ name, version });

Deno.test("inventoryDir walks a tree", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ironpost-walk-" });
  try {
    await write(
      `${root}/app/package-lock.json`,
      JSON.stringify({ lockfileVersion: 3, packages: { "node_modules/a": { version: "1.0.0" } } }),
    );
    await write(`${root}/app/node_modules/a/package.json`, pkg("a", "1.0.0"));
    await write(`${root}/app/node_modules/a/node_modules/b/package.json`, pkg("b", "2.0.0"));
    await write(`${root}/app/node_modules/@s/c/package.json`, pkg("@s/c", "3.0.0"));
    await write(`${root}/app/node_modules/a/lib/package.json`, '{"type":"module"}');
    await write(`${root}/app/requirements.txt`, "-r requirements-base.txt\nflask==3.0.0\n");
    await write(`${root}/app/requirements-base.txt`, "django==4.2.11\n");
    await write(`${root}/app/.git/package-lock.json`, pkg("hidden", "9.9.9"));
    await write(`${root}/bad/Cargo.lock`, "[[package]\nname = 1\n");
    await write(`${root}/big/go.mod`, `module m\n\n${"// padding\n".repeat(200)}`);
    await write(`${root}/site/pip-22.2.2.dist-info/METADATA`, "Name: pip\nVersion: 22.2.2\n");
    await write(
      `${root}/var/lib/dpkg/status`,
      "Package: sudo\nStatus: install ok installed\nVersion: 1.9\n",
    );
    await write(`${root}/misc/requirements-extra.txt`, "-r missing.txt\n");
    // Symbolic links: a loop back to the root, and a link to a real directory.
    await Deno.symlink(root, `${root}/app/loop`);
    await Deno.symlink(`${root}/app/node_modules`, `${root}/linked_modules`);

    await t.step("default: links not followed, .git skipped, errors reported", async () => {
      const res = await inventoryDir(root, { maxFileBytes: 1024 });
      assertEquals(found(root, res.components), [
        "app/node_modules/@s/c/package.json: @s/c@3.0.0",
        "app/node_modules/a/node_modules/b/package.json: b@2.0.0",
        "app/node_modules/a/package.json: a@1.0.0",
        "app/package-lock.json: a@1.0.0",
        "app/requirements-base.txt: django@4.2.11",
        "app/requirements.txt: flask@3.0.0",
        "site/pip-22.2.2.dist-info/METADATA: pip@22.2.2",
        "var/lib/dpkg/status: sudo@1.9",
      ]);
      const errors = res.errors.map((e) => `${e.file.slice(root.length + 1)} ${e.code}`).sort();
      assertEquals(errors, [
        "bad/Cargo.lock E_MALFORMED",
        "big/go.mod E_TOO_LARGE",
        "misc/requirements-extra.txt E_NOT_FOUND",
      ]);
      assert(!res.files.some((f) => f.includes("/.git/")), "a lockfile under .git was read");
      assert(res.files.includes(`${root}/bad/Cargo.lock`));
    });

    await t.step("followSymlinks: each directory once, the loop ends", async () => {
      const res = await inventoryDir(root, { maxFileBytes: 1024, followSymlinks: true });
      const dirs = new Set(res.files.map((f) => f.slice(0, f.lastIndexOf("/"))));
      // node_modules is reached twice (itself and linked_modules) but walked once.
      const pkgs = res.files.filter((f) => f.endsWith("/package.json"));
      assertEquals(pkgs.length, 3, pkgs.join("\n"));
      assert(!res.files.some((f) => f.includes("/loop/")), "walked into the link loop");
      assert(dirs.size > 0);
    });

    await t.step("an include outside the tree is refused", async () => {
      await write(`${root}/inc/sub/requirements.txt`, "-r ../escape.txt\n");
      await write(`${root}/inc/escape.txt`, "x==1\n");
      const res = await inventoryDir(`${root}/inc/sub`);
      assertEquals(res.errors.map((e) => e.code), ["E_INCLUDE"]);
      assertEquals(res.components, []);
    });

    await t.step("skipPaths and a missing root", async () => {
      const res = await inventoryDir(root, { skipPaths: [`${root}/app`, `${root}/bad`] });
      assert(!res.files.some((f) => f.startsWith(`${root}/app/`) || f.startsWith(`${root}/bad/`)));
      const missing = await inventoryDir(`${root}/nope`);
      assertEquals(missing.errors.map((e) => e.code), ["E_NOT_FOUND"]);
    });

    await t.step("another filesystem is not entered unless asked", async () => {
      if (!requireRoot()) return;
      const mnt = `${root}/mnt`;
      await Deno.mkdir(mnt);
      const mounted = await new Deno.Command("mount", { args: ["-t", "tmpfs", "none", mnt] })
        .output();
      if (!requirePart("mount -t tmpfs", mounted.success)) return;
      try {
        await write(`${mnt}/Gemfile.lock`, "GEM\n  specs:\n    rack (2.2.3)\n");
        const res = await inventoryDir(root);
        assert(!res.files.includes(`${mnt}/Gemfile.lock`), "crossed into a mount");
        const crossing = await inventoryDir(root, { crossMounts: true });
        assert(crossing.files.includes(`${mnt}/Gemfile.lock`), "crossMounts did not cross");
      } finally {
        await new Deno.Command("umount", { args: [mnt] }).output();
      }
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
