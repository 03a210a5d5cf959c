import { DatabaseSync } from "node:sqlite";
import { inflateRawSync } from "node:zlib";
import { join } from "node:path";
import {
  buildIndex,
  type BuildReport,
  listZip,
  normalizePackageName,
  openVulnDb,
  parseOsvRecord,
  readZipEntry,
  splitEcosystem,
  updateVulnDb,
  VulnDbError,
} from "../../mod/sbom/osv/mod.ts";
import { severityOf } from "../../mod/sbom/severity/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { requirePart } from "../helpers/require.ts";

const FIXTURE_OSV = new URL("../fixtures/sbom/vulndb/osv/", import.meta.url).pathname;
const SHARED_OSV = new URL("../../../shared/data/osv/", import.meta.url);

async function sharedOsv(): Promise<string> {
  try {
    return await Deno.realPath(SHARED_OSV);
  } catch {
    throw new Error(
      `shared data not found at ${SHARED_OSV.pathname}: this test needs ../shared/data beside ` +
        "the repository (see shared/data/README.md)",
    );
  }
}

interface SourceFile {
  /** `<Ecosystem>/<ID>.json` */
  name: string;
  text: string;
}

async function readTree(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for await (const eco of Deno.readDir(root)) {
    if (!eco.isDirectory) continue;
    for await (const f of Deno.readDir(join(root, eco.name))) {
      if (!f.name.endsWith(".json")) continue;
      const text = await Deno.readTextFile(join(root, eco.name, f.name));
      files.push({ name: `${eco.name}/${f.name}`, text });
    }
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

async function writeTree(root: string, files: SourceFile[]): Promise<string> {
  for (const f of files) {
    const path = join(root, f.name);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, f.text);
  }
  return root;
}

let python: boolean | undefined;

/** Writes a zip with Python's zipfile: a writer independent of the reader under test. */
async function makeZip(
  path: string,
  files: SourceFile[],
  options: { stored?: boolean; flat?: boolean } = {},
): Promise<Uint8Array> {
  python ??= await new Deno.Command("python3", { args: ["--version"], stdout: "null" }).output()
    .then((o) => o.success, () => false);
  if (!requirePart("python3 (to write test zips)", python)) throw new Error("python3 missing");
  const script = [
    "import json, sys, zipfile",
    "a = json.load(sys.stdin)",
    "mode = zipfile.ZIP_STORED if a['stored'] else zipfile.ZIP_DEFLATED",
    "with zipfile.ZipFile(a['path'], 'w', mode) as z:",
    "    for f in a['files']:",
    "        z.writestr(f['name'], f['text'])",
  ].join("\n");
  const child = new Deno.Command("python3", { args: ["-c", script], stdin: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  const names = options.flat ? files.map((f) => ({ ...f, name: f.name.split("/").pop()! })) : files;
  await writer.write(
    new TextEncoder().encode(JSON.stringify({ path, files: names, stored: !!options.stored })),
  );
  await writer.close();
  const status = await child.status;
  assert(status.success, "python3 could not write the zip");
  return await Deno.readFile(path);
}

/** Everything an index holds, in a comparable form. */
function dump(dbPath: string) {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const records = (db.prepare(
      "SELECT id, modified, withdrawn, home, severity, score, vector, json FROM records ORDER BY id",
    ).all() as Record<string, unknown>[]).map((r) => ({
      ...r,
      json: new TextDecoder().decode(inflateRawSync(r.json as Uint8Array)),
    }));
    const packages = db.prepare(
      "SELECT ecosystem, name, record_id, release FROM packages ORDER BY 1, 2, 3, 4",
    ).all();
    const aliases = db.prepare("SELECT alias, record_id FROM aliases ORDER BY 1, 2").all();
    const counts = (db.prepare("SELECT value FROM meta WHERE key = 'counts'").get() as {
      value: string;
    }).value;
    return { records, packages, aliases, counts: JSON.parse(counts) };
  } finally {
    db.close();
  }
}

async function vulnDbError(p: Promise<unknown>, code: string): Promise<VulnDbError> {
  const e = await assertRejects(p, `expected ${code}`);
  assert(e instanceof VulnDbError, `expected VulnDbError, got ${e}`);
  assertEquals(e.code, code, e.message);
  return e;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The ids an independent scan of the files finds for a package. */
function expectedIds(files: SourceFile[], ecosystem: string, name: string): string[] {
  const want = splitEcosystem(ecosystem);
  const ids = new Set<string>();
  for (const f of files) {
    const r = JSON.parse(f.text);
    if (r.withdrawn !== undefined) continue;
    for (const a of r.affected ?? []) {
      if (a.package === undefined) continue;
      const got = splitEcosystem(a.package.ecosystem);
      if (got.ecosystem !== want.ecosystem) continue;
      if (want.release !== "" && got.release !== want.release) continue;
      if (
        normalizePackageName(got.ecosystem, a.package.name) ===
          normalizePackageName(want.ecosystem, name)
      ) ids.add(r.id);
    }
  }
  return [...ids].sort();
}

Deno.test("index of shared/data/osv: counts, lookups, mode, and the same index from a zip", async (t) => {
  const root = await sharedOsv();
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  const dbPath = join(dir, "vulndb.sqlite");
  const files = await readTree(root);
  let report: BuildReport;
  try {
    await t.step("builds: 8,170 records, per-ecosystem counts, nothing rejected", async () => {
      report = await buildIndex(root, dbPath);
      console.log(
        `built ${report.records} records from ${root} in ${report.durationMs} ms; ` +
          `index ${(report.sizeBytes / 1024 / 1024).toFixed(1)} MiB (${report.sizeBytes} bytes), ` +
          `${report.packages} packages, ${report.aliases} aliases`,
      );
      assertEquals(report.records, 8170);
      assertEquals(report.entries, 8170);
      assertEquals(report.counts, { Debian: 1, Go: 4291, PyPI: 2661, "crates.io": 1206, npm: 11 });
      assertEquals(report.rejected, []);
      assertEquals(report.duplicates, 0);
      assertEquals(report.replaced, false);
      assertEquals(report.withdrawn, files.filter((f) => f.text.includes('"withdrawn"')).length);
    });

    await t.step("the file is mode 0600 and no .new file is left", async () => {
      assertEquals((await Deno.stat(dbPath)).mode! & 0o777, 0o600);
      assert(!(await exists(`${dbPath}.new`)));
    });

    await t.step("status", () => {
      const db = openVulnDb(dbPath);
      try {
        const s = db.status();
        assertEquals(s.records, 8170);
        assertEquals(s.source, root);
        assertEquals(s.builtAt, report.builtAt);
        assert(s.ageMs >= 0 && s.ageMs < 600_000, `age ${s.ageMs}`);
        assertEquals(s.sizeBytes, report.sizeBytes);
        const byEco = Object.fromEntries(s.ecosystems.map((e) => [e.ecosystem, e.records]));
        assertEquals(byEco, {
          Debian: 1,
          Go: 4291,
          NuGet: 0,
          PyPI: 2661,
          "crates.io": 1206,
          npm: 11,
        });
        assert(s.ecosystems.every((e) => e.packages > 0), "every ecosystem has packages");
      } finally {
        db.close();
      }
    });

    await t.step("lookups return the records an independent scan finds", () => {
      const db = openVulnDb(dbPath);
      try {
        const lookups: [string, string, string[]][] = [
          ["crates.io", "zip", ["RUSTSEC-2025-0168"]],
          ["PyPI", "Django", ["PYSEC-2008-1"]],
          ["PyPI", "Tensorflow_GPU", []],
          ["npm", "jsonwebtoken", ["GHSA-27h2-hvpr-p74q"]],
          ["npm", "moment", ["GHSA-8hfj-j24r-96c4"]],
          ["NuGet", "Moment.js", ["GHSA-8hfj-j24r-96c4"]],
          ["Go", "stdlib", ["GO-2021-0067"]],
          ["Debian", "nginx", ["DSA-3029-1"]],
          ["Debian:7", "nginx", ["DSA-3029-1"]],
          ["Debian:12", "nginx", []],
          ["crates.io", "no-such-crate", []],
        ];
        for (const [eco, name, mustInclude] of lookups) {
          const got = db.recordsFor(eco, name).map((r) => r.id).sort();
          assertEquals(got, expectedIds(files, eco, name), `${eco} ${name}`);
          for (const id of mustInclude) assert(got.includes(id), `${eco} ${name} has ${id}`);
        }
        assert(db.recordsFor("PyPI", "django").length > 100, "Django has its records");
        assert(db.recordsFor("PyPI", "tensorflow-gpu").length > 200);
      } finally {
        db.close();
      }
    });

    await t.step("withdrawn records only on request; aliases; precomputed severity", () => {
      const db = openVulnDb(dbPath);
      try {
        assert(!db.recordsFor("crates.io", "spin").some((r) => r.id === "RUSTSEC-2019-0031"));
        assert(
          db.recordsFor("crates.io", "spin", { includeWithdrawn: true }).some((r) =>
            r.id === "RUSTSEC-2019-0031"
          ),
        );
        assertEquals(db.idsForAlias("CVE-2022-23529"), ["GHSA-27h2-hvpr-p74q"]);
        const e = db.get("GHSA-27h2-hvpr-p74q")!;
        assertEquals([e.severity, e.score, e.vector], [
          "high",
          7.6,
          "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:H/A:L",
        ]);
        assertEquals(db.get("GO-2021-0067")!.severity, "unknown");
        // The stored record is what parseOsvRecord returns for the file.
        for (const f of files.filter((_, i) => i % 97 === 0)) {
          const parsed = parseOsvRecord(f.text, f.name);
          const got = db.get(parsed.id)!;
          assertEquals(got.record, parsed, f.name);
          assertEquals(got.severity, severityOf(parsed).severity, f.name);
        }
      } finally {
        db.close();
      }
    });

    await t.step("a zip of the same tree gives the same index", async () => {
      const zip = join(dir, "all-ecosystems.zip");
      await makeZip(zip, files);
      const zipDb = join(dir, "from-zip.sqlite");
      const r = await buildIndex(zip, zipDb);
      console.log(
        `same records from a ${(await Deno.stat(zip)).size}-byte zip in ${r.durationMs} ms`,
      );
      assertEquals(r.counts, report.counts);
      assertEquals(dump(zipDb), dump(dbPath));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("zip sources: nested, flat, stored, one ecosystem's all.zip", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  const files = await readTree(FIXTURE_OSV);
  try {
    const fromDir = join(dir, "dir.sqlite");
    await buildIndex(FIXTURE_OSV, fromDir);
    const reference = dump(fromDir);
    assertEquals(reference.counts, { Debian: 1, Go: 1, PyPI: 2, "crates.io": 3, npm: 2 });

    await t.step("nested <Ecosystem>/<ID>.json, deflated and stored", async () => {
      for (const stored of [false, true]) {
        const zip = join(dir, `nested-${stored}.zip`);
        await makeZip(zip, files, { stored });
        const db = join(dir, `nested-${stored}.sqlite`);
        await buildIndex(zip, db);
        assertEquals(dump(db), reference, `stored=${stored}`);
      }
    });

    await t.step("flat archives named <Ecosystem>/all.zip, several at once", async () => {
      const sources: string[] = [];
      for (const eco of ["Debian", "Go", "PyPI", "crates.io", "npm"]) {
        await Deno.mkdir(join(dir, "bucket", eco), { recursive: true });
        const zip = join(dir, "bucket", eco, "all.zip");
        await makeZip(zip, files.filter((f) => f.name.startsWith(`${eco}/`)), { flat: true });
        sources.push(zip);
      }
      const db = join(dir, "flat.sqlite");
      await buildIndex(sources, db, { sourceLabel: "bucket" });
      const got = dump(db);
      assertEquals(got, reference);
      const v = openVulnDb(db);
      assertEquals(v.status().source, "bucket");
      v.close();
    });

    await t.step(
      "zip bytes in memory; the ecosystem comes from the record when unnamed",
      async () => {
        const zip = await makeZip(join(dir, "mem.zip"), files, { flat: true });
        const db = join(dir, "mem.sqlite");
        const r = await buildIndex({ name: "mem", bytes: zip }, db);
        // GHSA-8hfj-j24r-96c4 lists npm first, then NuGet.
        assertEquals(r.counts, reference.counts);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("zip reader: Zip64 archives and damaged archives", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  try {
    await t.step("more than 65,535 entries (Zip64 end records)", async () => {
      const files: SourceFile[] = [];
      for (let i = 0; i < 70_000; i++) files.push({ name: `X/${i}.json`, text: `{"n":${i}}` });
      const zip = await makeZip(join(dir, "big.zip"), files);
      const entries = listZip(zip, "big.zip");
      assertEquals(entries.length, 70_000);
      for (const i of [0, 65_535, 69_999]) {
        const text = new TextDecoder().decode(readZipEntry(zip, entries[i], "big.zip"));
        assertEquals(text, `{"n":${i}}`);
      }
    });

    const good = await makeZip(join(dir, "good.zip"), await readTree(FIXTURE_OSV));
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty file", new Uint8Array(0), /no end-of-central-directory/],
      [
        "not a zip",
        new TextEncoder().encode("PK? no, a text file".repeat(10)),
        /no end-of-central/,
      ],
      [
        "truncated",
        good.subarray(0, good.length - 40),
        /no end-of-central-directory|central directory/,
      ],
      ["cut in the middle", good.subarray(0, good.length >> 1), /no end-of-central-directory/],
    ];
    for (const [what, bytes, problem] of cases) {
      await t.step(what, () => {
        let err: unknown;
        try {
          listZip(bytes, "bad.zip");
        } catch (e) {
          err = e;
        }
        assert(err instanceof VulnDbError, `${what}: ${err}`);
        assertEquals(err.code, "E_VULNDB_ZIP");
        assertEquals(err.source, "bad.zip");
        assert(problem.test(err.message), err.message);
      });
    }

    await t.step("a flipped byte in an entry's data fails its CRC or deflate check", () => {
      const entries = listZip(good, "good.zip");
      for (const entry of entries) {
        const bad = good.slice();
        const view = new DataView(bad.buffer);
        const start = entry.localOffset + 30 + view.getUint16(entry.localOffset + 26, true) +
          view.getUint16(entry.localOffset + 28, true);
        bad[start + (entry.compressedSize >> 1)] ^= 0x55;
        let err: unknown;
        try {
          readZipEntry(bad, entry, "good.zip");
        } catch (e) {
          err = e;
        }
        assert(err instanceof VulnDbError && err.code === "E_VULNDB_ZIP", `${entry.name}: ${err}`);
        assert(err.message.includes(entry.name), err.message);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a damaged source never replaces a good index", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  const dbPath = join(dir, "vulndb.sqlite");
  const files = await readTree(FIXTURE_OSV);
  try {
    await buildIndex(FIXTURE_OSV, dbPath);
    const before = dump(dbPath);
    const inode = (await Deno.stat(dbPath)).ino;
    const unchanged = async (what: string) => {
      assertEquals(dump(dbPath), before, what);
      assertEquals((await Deno.stat(dbPath)).ino, inode, what);
      assert(!(await exists(`${dbPath}.new`)), `${what}: no .new left`);
    };

    const good = await makeZip(join(dir, "good.zip"), files);

    await t.step("a corrupted zip (a byte flipped in an entry)", async () => {
      const [entry] = listZip(good, "good.zip");
      const bad = good.slice();
      bad[entry.localOffset + 40 + (entry.compressedSize >> 1)] ^= 0xff;
      const path = join(dir, "corrupt.zip");
      await Deno.writeFile(path, bad);
      const e = await vulnDbError(buildIndex(path, dbPath), "E_VULNDB_ZIP");
      assertEquals(e.source, path);
      await unchanged("corrupt zip");
    });

    await t.step("a truncated zip", async () => {
      const path = join(dir, "truncated.zip");
      await Deno.writeFile(path, good.subarray(0, good.length - 100));
      const e = await vulnDbError(buildIndex(path, dbPath), "E_VULNDB_ZIP");
      assert(e.message.startsWith(`${path}: not a readable zip`), e.message);
      await unchanged("truncated zip");
    });

    await t.step("a missing source", async () => {
      const e = await vulnDbError(buildIndex(join(dir, "nope"), dbPath), "E_VULNDB_SOURCE");
      assert(e.message.includes("nope"), e.message);
      await unchanged("missing source");
    });

    const withBad = await writeTree(join(dir, "with-bad"), [
      ...files,
      { name: "npm/GHSA-bad-json.json", text: '{"id": "GHSA-bad-json", ' },
      { name: "npm/GHSA-no-modified.json", text: '{"id": "GHSA-no-modified"}' },
    ]);

    await t.step("bad records above the limit are reported by name, nothing replaced", async () => {
      const e = await vulnDbError(buildIndex(withBad, dbPath), "E_VULNDB_REJECTED");
      assert(e.message.includes("2 of 11 entries are not OSV records"), e.message);
      assert(e.message.includes("GHSA-bad-json.json (is not valid JSON"), e.message);
      assert(e.message.includes('GHSA-no-modified.json ("modified" is missing)'), e.message);
      await unchanged("bad records");
    });

    await t.step("nothing but bad records", async () => {
      const onlyBad = await writeTree(join(dir, "only-bad"), [
        { name: "npm/x.json", text: "[]" },
      ]);
      await vulnDbError(buildIndex(onlyBad, dbPath), "E_VULNDB_EMPTY");
      const empty = join(dir, "empty");
      await Deno.mkdir(empty);
      const e = await vulnDbError(buildIndex(empty, dbPath), "E_VULNDB_EMPTY");
      assert(e.message.includes("holds no OSV record"), e.message);
      await unchanged("no records");
    });

    await t.step("an ecosystem that shrinks is refused unless forced", async () => {
      const noNpm = await writeTree(
        join(dir, "no-npm"),
        files.filter((f) => !f.name.startsWith("npm/")),
      );
      const e = await vulnDbError(buildIndex(noNpm, dbPath), "E_VULNDB_SHRINK");
      assert(e.message.includes("npm 2 → 0"), e.message);
      await unchanged("shrink");
      const r = await buildIndex(noNpm, dbPath, { force: true });
      assertEquals(r.counts.npm, undefined);
      assertEquals(r.replaced, true);
      await buildIndex(FIXTURE_OSV, dbPath);
      assertEquals(dump(dbPath), before);
    });

    await t.step("bad records within the limit are indexed around and listed", async () => {
      const r = await buildIndex(withBad, dbPath, { maxRejectedFraction: 0.2 });
      assertEquals(r.records, 9);
      assertEquals(r.rejected.map((x) => x.entry.split("/").pop()), [
        "GHSA-bad-json.json",
        "GHSA-no-modified.json",
      ]);
      assertEquals(r.rejected[1].reason, '"modified" is missing');
      const db = openVulnDb(dbPath);
      assertEquals(db.status().rejected, 2);
      db.close();
    });

    await t.step("a file that is not an index is not overwritten", async () => {
      const other = join(dir, "not-an-index");
      await Deno.writeTextFile(other, "my notes");
      await vulnDbError(buildIndex(FIXTURE_OSV, other), "E_VULNDB_WRITE");
      assertEquals(await Deno.readTextFile(other), "my notes");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second build swaps atomically under an open reader", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  const dbPath = join(dir, "state", "vulndb.sqlite");
  const files = await readTree(FIXTURE_OSV);
  try {
    const first = await buildIndex(FIXTURE_OSV, dbPath);
    assertEquals((await Deno.stat(join(dir, "state"))).mode! & 0o777, 0o700);
    const reader = openVulnDb(dbPath);
    const inode = (await Deno.stat(dbPath)).ino;

    // A build that crashed earlier left a .new behind; the next build replaces it.
    await Deno.writeTextFile(`${dbPath}.new`, "half-written");
    const more = await writeTree(join(dir, "more"), [
      ...files,
      {
        name: "npm/GHSA-test-0001.json",
        text: JSON.stringify({
          id: "GHSA-test-0001",
          modified: "2024-01-01T00:00:00Z",
          affected: [{ package: { ecosystem: "npm", name: "jsonwebtoken" } }],
          database_specific: { severity: "CRITICAL" },
        }),
      },
    ]);
    const second = await buildIndex(more, dbPath);

    await t.step("the new file replaced the old one by rename, mode 0600, no .new", async () => {
      const st = await Deno.stat(dbPath);
      assert(st.ino !== inode, "a new file took the path");
      assertEquals(st.mode! & 0o777, 0o600);
      assert(!(await exists(`${dbPath}.new`)));
      assertEquals(second.replaced, true);
    });

    await t.step("the open reader still sees the whole old index", () => {
      assertEquals(reader.status().builtAt, first.builtAt);
      assertEquals(reader.recordsFor("npm", "jsonwebtoken").map((r) => r.id), [
        "GHSA-27h2-hvpr-p74q",
      ]);
      reader.close();
    });

    await t.step("a new reader sees the new index", () => {
      const db = openVulnDb(dbPath);
      assertEquals(db.status().builtAt, second.builtAt);
      const got = db.entriesFor("npm", "jsonwebtoken").map((e) => [e.record.id, e.severity]);
      assertEquals(got, [["GHSA-27h2-hvpr-p74q", "high"], ["GHSA-test-0001", "critical"]]);
      db.close();
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("updateVulnDb fetches each ecosystem's all.zip and verifies before swapping", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  const dbPath = join(dir, "vulndb.sqlite");
  const files = await readTree(FIXTURE_OSV);
  const served = new Map<string, Uint8Array>();
  for (const eco of ["Debian", "Go", "PyPI", "crates.io", "npm"]) {
    const zip = await makeZip(
      join(dir, `${eco}.zip`),
      files.filter((f) => f.name.startsWith(`${eco}/`)),
      { flat: true },
    );
    served.set(`/osv/${eco}/all.zip`, zip);
  }
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    requests.push(path);
    const body = served.get(path);
    return body === undefined
      ? new Response("no such object", { status: 404 })
      : new Response(body.slice());
  });
  const base = `http://127.0.0.1:${server.addr.port}/osv/`;
  try {
    await t.step("a base URL: every configured ecosystem", async () => {
      const ecosystems = ["Debian", "Go", "PyPI", "crates.io", "npm"];
      const r = await updateVulnDb({ source: base, dbPath, ecosystems });
      assertEquals(r.counts, { Debian: 1, Go: 1, PyPI: 2, "crates.io": 3, npm: 2 });
      assertEquals(r.source, base);
      assertEquals(requests.sort(), ecosystems.map((e) => `/osv/${e}/all.zip`).sort());
      const fromDir = join(dir, "dir.sqlite");
      await buildIndex(FIXTURE_OSV, fromDir);
      assertEquals(dump(dbPath), dump(fromDir));
    });
    const before = dump(dbPath);

    await t.step("a missing archive fails the update and keeps the index", async () => {
      const e = await vulnDbError(
        updateVulnDb({ source: base, dbPath, ecosystems: ["npm", "RubyGems"] }),
        "E_VULNDB_FETCH",
      );
      assertEquals(e.source, `${base}RubyGems/all.zip`);
      assert(e.message.includes("HTTP 404"), e.message);
      assertEquals(dump(dbPath), before);
    });

    await t.step("a corrupted archive fails the update and keeps the index", async () => {
      const npm = served.get("/osv/npm/all.zip")!;
      served.set("/osv/npm/all.zip", npm.subarray(0, npm.length - 30));
      try {
        const e = await vulnDbError(
          updateVulnDb({
            source: base,
            dbPath,
            ecosystems: ["Debian", "Go", "PyPI", "crates.io", "npm"],
          }),
          "E_VULNDB_ZIP",
        );
        assertEquals(e.source, `${base}npm/all.zip`);
      } finally {
        served.set("/osv/npm/all.zip", npm);
      }
      assertEquals(dump(dbPath), before);
    });

    await t.step("a partial set of ecosystems is refused as a shrink", async () => {
      await vulnDbError(
        updateVulnDb({ source: base, dbPath, ecosystems: ["npm"] }),
        "E_VULNDB_SHRINK",
      );
      assertEquals(dump(dbPath), before);
    });

    await t.step("one archive's URL, and a directory path", async () => {
      const one = join(dir, "one.sqlite");
      const r = await updateVulnDb({ source: new URL(`${base}crates.io/all.zip`), dbPath: one });
      assertEquals(r.counts, { "crates.io": 3 });
      const local = await updateVulnDb({ source: FIXTURE_OSV, dbPath: join(dir, "local.sqlite") });
      assertEquals(local.records, 9);
    });

    await t.step("an unreachable server is a fetch error naming the URL", async () => {
      const dead = "http://127.0.0.1:9/osv/";
      const e = await vulnDbError(
        updateVulnDb({ source: dead, dbPath, ecosystems: ["npm"], timeoutMs: 5000 }),
        "E_VULNDB_FETCH",
      );
      assertEquals(e.source, `${dead}npm/all.zip`);
      assertEquals(dump(dbPath), before);
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openVulnDb refuses what it cannot read", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ironpost-vulndb-" });
  try {
    await t.step("no index", () => {
      let err: unknown;
      try {
        openVulnDb(join(dir, "none.sqlite"));
      } catch (e) {
        err = e;
      }
      assert(err instanceof VulnDbError && err.code === "E_VULNDB_OPEN", String(err));
      assert(err.message.includes("no vulnerability index here"), err.message);
    });
    await t.step("an index of another schema", async () => {
      const path = join(dir, "old.sqlite");
      await buildIndex(FIXTURE_OSV, path);
      const db = new DatabaseSync(path);
      db.exec("UPDATE meta SET value = '0' WHERE key = 'schema_version'");
      db.close();
      let err: unknown;
      try {
        openVulnDb(path);
      } catch (e) {
        err = e;
      }
      assert(err instanceof VulnDbError && err.code === "E_VULNDB_OPEN", String(err));
      assert(err.message.includes("rebuild"), err.message);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
