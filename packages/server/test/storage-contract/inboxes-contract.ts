import { describe, expect, it } from "vitest";
import type { Storage } from "../../src/index.ts";
import type { ContractContext } from "./contract.ts";
import { bytes, createAccount, createDevice, createRoom, newEvent, startMs } from "./fixtures.ts";

const roomy = { maxAgeMs: 1_000_000, maxEvents: 1000 };

async function deviceInRooms(storage: Storage, roomIds: readonly string[]): Promise<void> {
  await createAccount(storage, "alice");
  await createDevice(storage, "alice", "phone");
  for (const roomId of roomIds) {
    await createRoom(storage, roomId);
  }
}

function enqueue(
  storage: Storage,
  itemId: string,
  options: { maxItems?: number; at?: number } = {},
) {
  return storage.inboxes.enqueue({
    deviceId: "phone",
    itemId,
    itemKind: "invite",
    body: bytes(itemId.length),
    createdAtMs: options.at ?? startMs,
    maxItems: options.maxItems ?? 100,
  });
}

export function describeInboxContract(context: ContractContext): void {
  describe("device inboxes", () => {
    it("reads the stream from the cursor without consuming; acks only move forward", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, ["a", "b"]);
      await storage.events.append(newEvent("a", "1"));
      await storage.events.append(newEvent("b", "1"));
      await storage.events.append(newEvent("a", "2"));
      const read = () =>
        storage.inboxes.readStream({
          deviceId: "phone",
          roomIds: ["a"],
          limit: 10,
          retention: roomy,
          atMs: startMs,
        });
      const first = await read();
      expect(first?.events.map((event) => event.streamPosition)).toEqual([1, 3]);
      expect([first?.missed, first?.more, first?.throughPosition]).toEqual([null, false, 3]);
      expect((await read())?.events).toHaveLength(2);
      expect(await storage.inboxes.acknowledgeStream("phone", 1)).toEqual({
        kind: "advanced",
        position: 1,
      });
      expect((await read())?.events.map((event) => event.streamPosition)).toEqual([3]);
      expect(await storage.inboxes.acknowledgeStream("phone", 0)).toEqual({
        kind: "unchanged",
        position: 1,
      });
      expect(await storage.inboxes.acknowledgeStream("phone", 4)).toEqual({
        kind: "beyond-end",
        end: 3,
      });
      expect(await storage.inboxes.acknowledgeStream("ghost", 1)).toEqual({
        kind: "unknown-device",
      });
      expect(await storage.inboxes.acknowledgeStream("phone", 3)).toMatchObject({
        kind: "advanced",
      });
      expect((await storage.inboxes.cursor("phone"))?.streamPosition).toBe(3);
      expect(await storage.inboxes.cursor("ghost")).toBeNull();
    });

    it("acknowledges many devices in one call, only forward and never past the head", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, ["a"]);
      await createDevice(storage, "alice", "laptop");
      await storage.events.append(newEvent("a", "1"));
      await storage.events.append(newEvent("a", "2"));
      expect(await storage.inboxes.acknowledgeStreams([])).toBe(0);
      const moved = await storage.inboxes.acknowledgeStreams([
        { deviceId: "phone", position: 2 },
        { deviceId: "laptop", position: 9 },
        { deviceId: "ghost", position: 1 },
      ]);
      expect(moved).toBe(2);
      expect((await storage.inboxes.cursor("phone"))?.streamPosition).toBe(2);
      expect((await storage.inboxes.cursor("laptop"))?.streamPosition).toBe(2);
      expect(await storage.inboxes.acknowledgeStreams([{ deviceId: "phone", position: 1 }])).toBe(
        0,
      );
      expect((await storage.inboxes.cursor("phone"))?.streamPosition).toBe(2);
    });

    it("summarises events beyond the newest maxEvents as a missed marker", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, ["a", "b"]);
      for (let index = 1; index <= 6; index += 1) {
        await storage.events.appendBatch([newEvent("a", `${index}`), newEvent("b", `${index}`)]);
      }
      // Room "a" holds positions 1, 3, 5, 7, 9, 11: keep the newest two.
      const page = await storage.inboxes.readStream({
        deviceId: "phone",
        roomIds: ["a"],
        limit: 10,
        retention: { maxAgeMs: 1_000_000, maxEvents: 2 },
        atMs: startMs,
      });
      expect(page?.missed).toEqual({ count: 4, throughPosition: 7 });
      expect(page?.events.map((event) => event.streamPosition)).toEqual([9, 11]);
      // Acknowledging past the marker clears it.
      await storage.inboxes.acknowledgeStream("phone", 7);
      const after = await storage.inboxes.readStream({
        deviceId: "phone",
        roomIds: ["a"],
        limit: 10,
        retention: { maxAgeMs: 1_000_000, maxEvents: 2 },
        atMs: startMs,
      });
      expect(after?.missed).toBeNull();
      expect(after?.events).toHaveLength(2);
    });

    it("summarises events older than maxAgeMs as a missed marker", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, ["a"]);
      for (let index = 1; index <= 4; index += 1) {
        await storage.events.append(newEvent("a", `${index}`, { acceptedAtMs: startMs + index }));
      }
      const page = await storage.inboxes.readStream({
        deviceId: "phone",
        roomIds: ["a"],
        limit: 1,
        retention: { maxAgeMs: 10, maxEvents: 1000 },
        atMs: startMs + 13,
      });
      // Events accepted at +1 and +2 are older than 10 ms at +13.
      expect(page?.missed).toEqual({ count: 2, throughPosition: 2 });
      expect(page?.events.map((event) => event.streamPosition)).toEqual([3]);
      expect([page?.more, page?.throughPosition]).toEqual([true, 3]);
    });

    it("queues items for one device with increasing positions, once per item id", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, []);
      await createDevice(storage, "alice", "laptop");
      const first = await enqueue(storage, "invite-1");
      const second = await enqueue(storage, "invite-22");
      const repeat = await enqueue(storage, "invite-1");
      expect(first).toEqual({
        kind: "queued",
        item: {
          deviceId: "phone",
          queuePosition: 1,
          itemId: "invite-1",
          itemKind: "invite",
          body: bytes(8),
          createdAtMs: startMs,
        },
      });
      expect(second.kind === "queued" && second.item.queuePosition).toBe(2);
      expect(repeat).toEqual({ kind: "duplicate", item: first.kind === "queued" && first.item });
      // Another device's queue is separate and numbered on its own.
      const laptop = await storage.inboxes.enqueue({
        deviceId: "laptop",
        itemId: "invite-1",
        itemKind: "invite",
        body: bytes(1),
        createdAtMs: startMs,
        maxItems: 10,
      });
      expect(laptop.kind === "queued" && laptop.item.queuePosition).toBe(1);
      const unknown = await storage.inboxes.enqueue({
        deviceId: "ghost",
        itemId: "x",
        itemKind: "invite",
        body: bytes(1),
        createdAtMs: startMs,
        maxItems: 10,
      });
      expect(unknown).toEqual({ kind: "unknown-device" });
      expect(await storage.inboxes.queueDepth("phone")).toBe(2);
    });

    it("acknowledging queue items deletes them and never moves back", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, []);
      for (const itemId of ["a", "b", "c"]) {
        await enqueue(storage, itemId);
      }
      const page = await storage.inboxes.readQueue("phone", 2);
      expect(page?.items.map((item) => item.itemId)).toEqual(["a", "b"]);
      expect([page?.more, page?.missed]).toEqual([true, null]);
      expect(await storage.inboxes.acknowledgeQueue("phone", 2)).toEqual({
        kind: "advanced",
        position: 2,
      });
      expect(await storage.inboxes.acknowledgeQueue("phone", 1)).toEqual({
        kind: "unchanged",
        position: 2,
      });
      expect(await storage.inboxes.acknowledgeQueue("phone", 4)).toEqual({
        kind: "beyond-end",
        end: 3,
      });
      expect(await storage.inboxes.acknowledgeQueue("ghost", 1)).toEqual({
        kind: "unknown-device",
      });
      expect(
        (await storage.inboxes.readQueue("phone", 10))?.items.map((item) => item.itemId),
      ).toEqual(["c"]);
      expect(await storage.inboxes.queueDepth("phone")).toBe(1);
      expect((await storage.inboxes.cursor("phone"))?.queuePosition).toBe(2);
      expect(await storage.inboxes.readQueue("ghost", 10)).toBeNull();
    });

    it("a full queue drops its oldest items into a missed marker until acknowledged", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, []);
      for (const itemId of ["1", "2", "3", "4", "5"]) {
        await enqueue(storage, itemId, { maxItems: 3 });
      }
      const page = await storage.inboxes.readQueue("phone", 10);
      expect(page?.missed).toEqual({ count: 2, throughPosition: 2 });
      expect(page?.items.map((item) => item.queuePosition)).toEqual([3, 4, 5]);
      await storage.inboxes.acknowledgeQueue("phone", 3);
      const after = await storage.inboxes.readQueue("phone", 10);
      expect(after?.missed).toBeNull();
      expect(after?.items.map((item) => item.queuePosition)).toEqual([4, 5]);
    });

    it("expires old queue items in bounded sweeps and counts them as missed", async () => {
      const storage = context.storage();
      await deviceInRooms(storage, []);
      await enqueue(storage, "old-1", { at: startMs });
      await enqueue(storage, "old-2", { at: startMs + 1 });
      await enqueue(storage, "new", { at: startMs + 100 });
      expect(await storage.inboxes.expireQueueItems(startMs + 50, 1)).toBe(1);
      expect(await storage.inboxes.expireQueueItems(startMs + 50, 10)).toBe(1);
      expect(await storage.inboxes.expireQueueItems(startMs + 50, 10)).toBe(0);
      const page = await storage.inboxes.readQueue("phone", 10);
      expect(page?.missed).toEqual({ count: 2, throughPosition: 2 });
      expect(page?.items.map((item) => item.itemId)).toEqual(["new"]);
    });
  });
}
