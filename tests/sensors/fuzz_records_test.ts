/**
 * Fuzzing (issue 16) of the ring-buffer record decoding (`decodeRecord`, mod/sensors/
 * descriptors.ts and records.ts). Records come from the kernel, but a decoder must not trust
 * their bytes: arbitrary bytes of any length never throw; a record whose header is valid but
 * whose body is shorter than its struct, or than the header's own size, is rejected, not
 * decoded from whatever is there; a record decodes the same whatever follows it or wherever
 * it sits in a larger buffer (no field is read from outside the struct). Pure decoding: no
 * kernel or root needed. Inputs that found bugs are replayed from
 * `tests/fixtures/fuzz/sensors/` (`{ "hex", "expect": "reject" | "same-with-trailer" }`).
 * `FUZZ_RUNS_SCALE` multiplies every run count.
 */
import fc from "fast-check";
import { decodeRecord, SENSORS } from "../../mod/sensors/descriptors.ts";
import { FILE_OP, OFFSETS, REC_ARGS_LEN, RECORD_VERSION, SIZE } from "../../mod/sensors/layout.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { check, runs } from "../helpers/fuzz.ts";

const CORPUS = new URL("../fixtures/fuzz/sensors/", import.meta.url);

/** Runs per property (before `FUZZ_RUNS_SCALE`), reported in each step's name. */
const RUNS = { bytes: 2000, records: 1000, large: 10 };

/** Decode, failing on any throw or past 20 ms + 1 µs a byte. */
function decodes(bytes: Uint8Array) {
  const started = performance.now();
  let out;
  try {
    out = decodeRecord(bytes);
  } catch (e) {
    const hex = Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new Error(`decodeRecord threw ${e} on ${bytes.length} bytes ${hex}…`);
  }
  const ms = performance.now() - started;
  assert(ms <= 20 + bytes.length / 1000, `${ms.toFixed(1)} ms on ${bytes.length} bytes`);
  return out;
}

/** A header: version, type, size (little endian, as the kernel writes it). */
function withHeader(body: Uint8Array, version: number, type: number, size: number): Uint8Array {
  const out = new Uint8Array(Math.max(body.length, SIZE.rec_hdr));
  out.set(body);
  const v = new DataView(out.buffer);
  v.setUint16(OFFSETS.rec_hdr.version, version, true);
  v.setUint16(OFFSETS.rec_hdr.type, type, true);
  v.setUint32(OFFSETS.rec_hdr.size, size, true);
  return out;
}

/** A record of sensor `d` as the kernel sends it: random body, valid header, a known op. */
const validRecord = fc.tuple(
  fc.constantFrom(...SENSORS),
  fc.uint8Array({ minLength: 1500, maxLength: 1500 }),
)
  .map(([d, random]) => {
    const bytes = withHeader(random.slice(0, d.size), RECORD_VERSION, d.rec, d.size);
    if (d.name === "file") {
      const ops = Object.values(FILE_OP);
      const v = new DataView(bytes.buffer);
      v.setUint32(OFFSETS.file_rec.op, ops[random[0] % ops.length], true);
    }
    return { d, bytes };
  });

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test("fuzz: sensor ring-buffer records", async (t) => {
  await t.step(`arbitrary bytes of any length never throw (${runs(RUNS.bytes)} runs)`, () => {
    check(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => void decodes(b)),
      runs(RUNS.bytes),
    );
  });
  await t.step(
    `arbitrary bodies behind a valid header never throw (${runs(RUNS.bytes)} runs)`,
    () => {
      check(
        fc.property(
          fc.uint8Array({ maxLength: 2048 }),
          fc.integer({ min: 0, max: 8 }),
          fc.oneof(fc.nat(4096), fc.constant(0xffffffff)),
          (body, type, size) => void decodes(withHeader(body, RECORD_VERSION, type, size)),
        ),
        runs(RUNS.bytes),
      );
    },
  );
  await t.step(
    `a valid record decodes; cut short anywhere it is rejected (${runs(RUNS.records)} runs)`,
    () => {
      check(
        fc.property(validRecord, fc.nat(), ({ d, bytes }, cut) => {
          const whole = decodes(bytes);
          assert(whole !== undefined && whole.type === d.name, `${d.name} not decoded`);
          const short = bytes.slice(0, cut % d.size);
          assertEquals(decodes(short), undefined, `${d.name} decoded from ${short.length} bytes`);
        }),
        runs(RUNS.records),
      );
    },
  );
  await t.step(`a header whose size disagrees is rejected (${runs(RUNS.records)} runs)`, () => {
    check(
      fc.property(
        validRecord,
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.boolean(),
        ({ d, bytes }, by, more) => {
          // More than arrived (truncated on the way), or less than the struct it names.
          const size = more ? d.size + by : Math.max(0, d.size - by);
          const b = withHeader(bytes, RECORD_VERSION, d.rec, size);
          assertEquals(decodes(b), undefined, `${d.name} decoded with header size ${size}`);
        },
      ),
      runs(RUNS.records),
    );
  });
  await t.step(
    `bytes after the record, or around its view, change nothing (${runs(RUNS.records)} runs)`,
    () => {
      check(
        fc.property(
          validRecord,
          fc.uint8Array({ minLength: 1, maxLength: 70_000 }),
          fc.uint8Array({ maxLength: 64 }),
          fc.nat(0xffff),
          ({ d, bytes }, trailer, before, argsLen) => {
            if (d.name === "exec") {
              new DataView(bytes.buffer).setUint16(OFFSETS.exec_rec.args_len, argsLen, true);
            }
            const alone = decodes(bytes);
            assertEquals(decodes(concat(bytes, trailer)), alone, `${d.name}: the trailer was read`);
            const big = concat(concat(before, bytes), trailer);
            const view = big.subarray(before.length, before.length + bytes.length);
            assertEquals(decodes(view), alone, `${d.name}: decoded differently inside a buffer`);
            if (alone?.type === "exec") {
              const argBytes = new TextEncoder().encode(alone.argv.join("\0")).length;
              assert(alone.argv.length <= REC_ARGS_LEN && argBytes <= 3 * REC_ARGS_LEN);
            }
          },
        ),
        runs(RUNS.records),
      );
    },
  );
  await t.step(`records up to 1 MB (${runs(RUNS.large)} runs)`, () => {
    check(
      fc.property(validRecord, fc.noBias(fc.integer({ min: 10, max: 20 })), ({ d, bytes }, log) => {
        const b = withHeader(
          concat(bytes, new Uint8Array(2 ** log)),
          RECORD_VERSION,
          d.rec,
          d.size,
        );
        assert(decodes(b) !== undefined);
      }),
      runs(RUNS.large),
      true,
    );
  });
  await t.step("the inputs kept in tests/fixtures/fuzz/sensors/", async (t) => {
    let n = 0;
    for await (const e of Deno.readDir(CORPUS)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      n++;
      await t.step(e.name, async () => {
        const c = JSON.parse(await Deno.readTextFile(new URL(e.name, CORPUS)));
        const bytes = Uint8Array.from(c.hex.match(/../g) ?? [], (h: string) => parseInt(h, 16));
        if (c.expect === "reject") assertEquals(decodes(bytes), undefined);
        else {
          const trailer = new Uint8Array(4096).fill(0x41);
          assertEquals(decodes(concat(bytes, trailer)), decodes(bytes));
        }
      });
    }
    assert(n > 0, "the corpus is empty");
  });
});
