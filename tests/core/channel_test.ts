import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import fc from "fast-check";
import { Channel, ChannelClosedError } from "../../mod/core/mod.ts";

Deno.test("Channel", async (t) => {
  await t.step("send waits while full (backpressure) and resumes when drained", async () => {
    const ch = new Channel<number>("bp", 2);
    await ch.send(1);
    await ch.send(2);
    let third = false;
    const p = ch.send(3).then(() => (third = true));
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(third, false, "third send must wait while the channel is full");
    assertEquals(ch.depth, 2);
    assertEquals((await ch.recv()).value, 1);
    await p;
    assertEquals(third, true);
    assertEquals([(await ch.recv()).value, (await ch.recv()).value], [2, 3]);
  });

  await t.step("trySend drops and counts when full, never waits", () => {
    const ch = new Channel<number>("drop", 3);
    const accepted = Array.from({ length: 10 }, (_, i) => ch.trySend(i)).filter(Boolean).length;
    assertEquals(accepted, 3);
    const s = ch.stats();
    assertEquals([s.sent, s.dropped, s.depth, s.capacity], [3, 7, 3, 3]);
  });

  await t.step("close then drain: queued and waiting values all arrive, then done", async () => {
    const ch = new Channel<number>("drain", 4);
    for (let i = 0; i < 4; i++) await ch.send(i);
    const waiting = [ch.send(4), ch.send(5)]; // blocked senders before close
    ch.close();
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    await Promise.all(waiting);
    assertEquals(got, [0, 1, 2, 3, 4, 5]);
    assertEquals((await ch.recv()).done, true);
  });

  await t.step("send after close rejects with the value kept", async () => {
    const ch = new Channel<string>("closed", 1);
    ch.close();
    const e = await assertRejects(ch.send("keep"));
    assert(e instanceof ChannelClosedError);
    assertEquals(e.value, "keep");
    assertEquals(ch.trySend("x"), false);
    assertEquals(ch.stats().dropped, 1);
  });

  await t.step("a waiting receiver gets done on close of an empty channel", async () => {
    const ch = new Channel<number>("wake", 1);
    const r = ch.recv();
    ch.close();
    assertEquals((await r).done, true);
  });

  await t.step(
    "tryRecv takes a queued value without waiting and admits a waiting sender",
    async () => {
      const ch = new Channel<number>("try", 1);
      assertEquals(ch.tryRecv(), undefined);
      await ch.send(1);
      const blocked = ch.send(2);
      assertEquals(ch.tryRecv(), 1);
      await blocked;
      assertEquals(ch.tryRecv(), 2);
      assertEquals(ch.stats().received, 2);
    },
  );

  await t.step("capacity must be a positive integer", () => {
    let threw = false;
    try {
      new Channel("bad", 0);
    } catch (e) {
      threw = e instanceof RangeError && /capacity must be an integer >= 1, got 0/.test(e.message);
    }
    assert(threw);
  });

  await t.step(
    "property: concurrent producers and a consumer lose nothing, keep order",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 8 }),
          fc.array(fc.array(fc.integer(), { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
          async (capacity, batches) => {
            const ch = new Channel<[number, number]>("prop", capacity);
            const producers = batches.map(async (batch, p) => {
              for (const v of batch) await ch.send([p, v]);
            });
            const received: [number, number][] = [];
            const consumer = (async () => {
              for await (const v of ch) received.push(v);
            })();
            await Promise.all(producers);
            ch.close();
            await consumer;
            for (const [p, batch] of batches.entries()) {
              assertEquals(received.filter(([q]) => q === p).map(([, v]) => v), batch);
            }
            assertEquals(ch.stats().dropped, 0);
          },
        ),
        { numRuns: 100 },
      );
    },
  );
});
