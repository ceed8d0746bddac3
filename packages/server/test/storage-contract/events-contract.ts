import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/index.ts";
import { eventBodyBytesMax } from "../../src/limits.ts";
import type { ContractContext } from "./contract.ts";
import { bytes, createRoom, newEvent, startMs } from "./fixtures.ts";

export function describeEventContract(context: ContractContext): void {
  describe("event stream", () => {
    it("assigns one stream position across rooms and a sequence per room", async () => {
      const storage = context.storage();
      await createRoom(storage, "a");
      await createRoom(storage, "b");
      expect(await storage.events.streamHead()).toBe(0);
      const first = await storage.events.append(newEvent("a", "1"));
      const second = await storage.events.append(newEvent("b", "1"));
      const third = await storage.events.append(newEvent("a", "2"));
      expect(first).toEqual({
        kind: "appended",
        event: { ...newEvent("a", "1"), streamPosition: 1, roomSequence: 1 },
      });
      expect([second.event.streamPosition, second.event.roomSequence]).toEqual([2, 1]);
      expect([third.event.streamPosition, third.event.roomSequence]).toEqual([3, 2]);
      expect(await storage.events.streamHead()).toBe(3);
      expect((await storage.rooms.get("a"))?.lastEventSequence).toBe(2);
      expect(await storage.events.getByRoomSequence("a", 2)).toEqual(third.event);
      expect(await storage.events.getByRoomSequence("a", 3)).toBeNull();
    });

    it("stores a retried client id once and returns the stored event", async () => {
      const storage = context.storage();
      await createRoom(storage, "a");
      const original = await storage.events.append(newEvent("a", "same"));
      const retry = await storage.events.append(
        newEvent("a", "same", { body: bytes(0xff), acceptedAtMs: startMs + 99 }),
      );
      expect(retry).toEqual({ kind: "duplicate", event: original.event });
      expect(await storage.events.streamHead()).toBe(1);
      // The same client id from another device, or in another room, is another event.
      await createRoom(storage, "b");
      const otherDevice = await storage.events.append(
        newEvent("a", "same", { senderDeviceId: "alice-laptop" }),
      );
      const otherRoom = await storage.events.append(newEvent("b", "same"));
      expect(otherDevice.kind).toBe("appended");
      expect(otherRoom.kind).toBe("appended");
      expect(await storage.events.findByClientId("a", "alice-phone", "same")).toEqual(
        original.event,
      );
      expect(await storage.events.findByClientId("a", "alice-laptop", "same")).toEqual(
        otherDevice.event,
      );
      expect(await storage.events.findByClientId("a", "alice-phone", "other")).toBeNull();
    });

    it("appends a batch in one transaction, contiguous, with repeats as duplicates", async () => {
      const storage = context.storage();
      await createRoom(storage, "a");
      await createRoom(storage, "b");
      await storage.events.append(newEvent("a", "earlier"));
      const outcomes = await storage.events.appendBatch([
        newEvent("a", "1"),
        newEvent("b", "1"),
        newEvent("a", "earlier"),
        newEvent("a", "1"),
        newEvent("a", "2", { signature: null }),
      ]);
      expect(outcomes.map((outcome) => outcome.kind)).toEqual([
        "appended",
        "appended",
        "duplicate",
        "duplicate",
        "appended",
      ]);
      expect(outcomes.map((outcome) => outcome.event.streamPosition)).toEqual([2, 3, 1, 2, 4]);
      expect(outcomes.map((outcome) => outcome.event.roomSequence)).toEqual([2, 1, 1, 2, 3]);
      expect(outcomes[4]?.event.signature).toBeNull();
      expect(await storage.events.appendBatch([])).toEqual([]);
    });

    it("rolls a whole batch back when one event names an unknown room", async () => {
      const storage = context.storage();
      await createRoom(storage, "a");
      const batch = storage.events.appendBatch([newEvent("a", "1"), newEvent("nowhere", "1")]);
      await expect(batch).rejects.toThrow(StorageError);
      expect(await storage.events.streamHead()).toBe(0);
      expect(await storage.events.getByRoomSequence("a", 1)).toBeNull();
      expect((await storage.events.append(newEvent("a", "1"))).event.streamPosition).toBe(1);
    });

    it("refuses a body over the storage limit", async () => {
      const storage = context.storage();
      await createRoom(storage, "a");
      const huge = newEvent("a", "huge", { body: new Uint8Array(eventBodyBytesMax + 1) });
      await expect(storage.events.append(huge)).rejects.toMatchObject({ code: "invalid-input" });
    });

    it("pages a room forwards and backwards, saying when the limit cut the page", async () => {
      const storage = context.storage();
      await createRoom(storage, "a");
      await createRoom(storage, "b");
      for (let index = 1; index <= 5; index += 1) {
        await storage.events.appendBatch([newEvent("a", `${index}`), newEvent("b", `${index}`)]);
      }
      const sequences = (page: { items: readonly { roomSequence: number }[] }) =>
        page.items.map((event) => event.roomSequence);
      const newest = await storage.events.pageRoom({
        roomId: "a",
        fromSequence: 6,
        direction: "backward",
        limit: 2,
      });
      expect([sequences(newest), newest.more]).toEqual([[5, 4], true]);
      const older = await storage.events.pageRoom({
        roomId: "a",
        fromSequence: 2,
        direction: "backward",
        limit: 2,
      });
      expect([sequences(older), older.more]).toEqual([[1], false]);
      const forward = await storage.events.pageRoom({
        roomId: "a",
        fromSequence: 0,
        direction: "forward",
        limit: 5,
      });
      expect([sequences(forward), forward.more]).toEqual([[1, 2, 3, 4, 5], false]);
      expect(forward.items.every((event) => event.roomId === "a")).toBe(true);
      const cut = await storage.events.pageRoom({
        roomId: "a",
        fromSequence: 1,
        direction: "forward",
        limit: 3,
      });
      expect([sequences(cut), cut.more]).toEqual([[2, 3, 4], true]);
    });

    it("reads the stream after a position for a set of rooms", async () => {
      const storage = context.storage();
      for (const roomId of ["a", "b", "c"]) {
        await createRoom(storage, roomId);
      }
      for (let index = 1; index <= 3; index += 1) {
        for (const roomId of ["a", "b", "c"]) {
          await storage.events.append(newEvent(roomId, `${index}`));
        }
      }
      const positions = (page: { events: readonly { streamPosition: number }[] }) =>
        page.events.map((event) => event.streamPosition);
      const all = await storage.events.readStream({
        roomIds: ["a", "c"],
        afterPosition: 0,
        limit: 100,
      });
      expect(positions(all)).toEqual([1, 3, 4, 6, 7, 9]);
      expect([all.more, all.throughPosition]).toEqual([false, 9]);
      const cut = await storage.events.readStream({
        roomIds: ["a", "c"],
        afterPosition: 1,
        limit: 2,
      });
      expect(positions(cut)).toEqual([3, 4]);
      expect([cut.more, cut.throughPosition]).toEqual([true, 4]);
      // A page that ends on an event of another room still moves the reader to the head.
      const tail = await storage.events.readStream({
        roomIds: ["b"],
        afterPosition: 5,
        limit: 10,
      });
      expect(positions(tail)).toEqual([8]);
      expect(tail.throughPosition).toBe(9);
      const none = await storage.events.readStream({ roomIds: [], afterPosition: 0, limit: 10 });
      expect(none).toEqual({ events: [], more: false, throughPosition: 9 });
    });

    it("finds where one origin's messages sit in the stream, newest first", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      await createRoom(storage, "other");
      const stamped = (room: string, id: string, origin: string, sequence: number) =>
        storage.events.append(newEvent(room, id, { stamp: { origin, sequence } }));
      await stamped("room", "a2", "alpha.test#1", 2); // backfilled before 1
      await stamped("room", "a1", "alpha.test#1", 1);
      await stamped("room", "b1", "beta.test#1", 1);
      await stamped("other", "a1-other", "alpha.test#1", 3);
      await stamped("room", "a3", "alpha.test#1", 3);
      const positions = await storage.events.originPositions({
        roomId: "room",
        origin: "alpha.test#1",
        throughSequence: 3,
        limit: 10,
      });
      expect(positions).toEqual([
        { sequence: 3, streamPosition: 5 },
        { sequence: 2, streamPosition: 1 },
        { sequence: 1, streamPosition: 2 },
      ]);
      const limited = await storage.events.originPositions({
        roomId: "room",
        origin: "alpha.test#1",
        throughSequence: 2,
        limit: 1,
      });
      expect(limited).toEqual([{ sequence: 2, streamPosition: 1 }]);
    });
  });
}
