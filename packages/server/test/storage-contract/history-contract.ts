import { describe, expect, it } from "vitest";
import type { HistoryKey, NewEvent, Storage, StoredEvent } from "../../src/index.ts";
import type { ContractContext } from "./contract.ts";
import { createRoom, newEvent, startMs } from "./fixtures.ts";

const controlContentType = "application/vnd.parley.control+cbor";

function stamped(
  clientEventId: string,
  controlIndex: number,
  acceptedAtMs: number,
  origin: string,
  sequence: number,
): NewEvent {
  return newEvent("room", clientEventId, {
    controlIndex,
    acceptedAtMs: startMs + acceptedAtMs,
    stamp: { origin, sequence },
  });
}

function control(index: number): NewEvent {
  // A control event's time is its entry's proposal time, later than the messages around it here.
  return newEvent("room", `control:${index}`, {
    senderDeviceId: "room-control",
    contentType: controlContentType,
    controlIndex: index,
    acceptedAtMs: startMs + 1_000_000,
    signature: null,
  });
}

/** Every event of the room, paged in `direction` with pages of `limit`, following `next` cursors. */
async function pageAll(
  storage: Storage,
  direction: "forward" | "backward",
  limit: number,
): Promise<string[]> {
  const seen: string[] = [];
  let from: HistoryKey | undefined;
  for (let page = 0; page < 100; page += 1) {
    const answer = await storage.events.pageHistory({
      roomId: "room",
      direction,
      limit,
      ...(from === undefined ? {} : { from }),
    });
    seen.push(...answer.items.map((event) => event.clientEventId));
    const last: StoredEvent | undefined = answer.items.at(-1);
    if (!answer.more || last === undefined) return seen;
    from = storage.events.historyKeyOf(last);
  }
  throw new Error("paging did not end");
}

export function describeHistoryContract(context: ContractContext): void {
  describe("history order (§12.4.3)", () => {
    // The order: (control index, control before messages, time, origin bytewise, origin sequence).
    const ordered = [
      stamped("m1", 1, 5, "B.example#1", 1),
      stamped("m2", 1, 5, "a.example#1", 1),
      stamped("m3", 1, 7, "a.example#1", 2),
      control(2),
      stamped("m4", 2, 3, "B.example#1", 2),
      stamped("m5", 2, 3, "B.example#1", 3),
      stamped("m6", 3, 1, "a.example#1", 3),
    ];
    const names = ordered.map((event) => event.clientEventId);

    it("pages by the stamps, not by arrival, in both directions", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      // Arrival order differs from history order.
      for (const index of [6, 3, 0, 4, 1, 5, 2]) {
        const event = ordered[index];
        if (event === undefined) throw new Error("no such event");
        expect((await storage.events.append(event)).kind).toBe("appended");
      }
      for (const limit of [1, 2, 3, 7, 50]) {
        expect(await pageAll(storage, "forward", limit)).toEqual(names);
        expect(await pageAll(storage, "backward", limit)).toEqual([...names].reverse());
      }
      const stored = await storage.events.findByClientId("room", "alice-phone", "m4");
      expect(stored?.stamp).toEqual({ origin: "B.example#1", sequence: 2 });
    });

    it("keeps a cursor valid when a backfilled event lands before or after it", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      for (const event of ordered.filter((_, index) => index !== 1 && index !== 5)) {
        await storage.events.append(event);
      }
      const first = await storage.events.pageHistory({
        roomId: "room",
        direction: "forward",
        limit: 3,
      });
      expect(first.items.map((event) => event.clientEventId)).toEqual(["m1", "m3", "control:2"]);
      const last = first.items.at(-1);
      if (last === undefined) throw new Error("empty page");
      const cursor = storage.events.historyKeyOf(last);
      // m2 sorts before the cursor (already paged past), m5 after it.
      for (const index of [1, 5]) {
        const event = ordered[index];
        if (event !== undefined) await storage.events.append(event);
      }
      const rest = await storage.events.pageHistory({
        roomId: "room",
        direction: "forward",
        limit: 10,
        from: cursor,
      });
      expect(rest.items.map((event) => event.clientEventId)).toEqual(["m4", "m5", "m6"]);
      const before = await storage.events.pageHistory({
        roomId: "room",
        direction: "backward",
        limit: 10,
        from: cursor,
      });
      expect(before.items.map((event) => event.clientEventId)).toEqual(["m3", "m2", "m1"]);
    });

    it("orders events without a stamp by their room sequence among equal stamps", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      await storage.events.append(newEvent("room", "old-b", { acceptedAtMs: startMs }));
      await storage.events.append(newEvent("room", "old-a", { acceptedAtMs: startMs }));
      expect(await pageAll(storage, "forward", 1)).toEqual(["old-b", "old-a"]);
      expect(await pageAll(storage, "backward", 1)).toEqual(["old-a", "old-b"]);
    });

    it("keeps the copy of a message stamped twice that sorts first", async () => {
      const storage = context.storage();
      await createRoom(storage, "room");
      await storage.events.append(stamped("twice", 2, 9, "b.example#1", 4));
      const earlier = await storage.events.append(stamped("twice", 2, 8, "c.example#1", 7));
      expect(earlier.kind).toBe("duplicate");
      expect([earlier.event.acceptedAtMs, earlier.event.stamp?.origin]).toEqual([
        startMs + 8,
        "c.example#1",
      ]);
      const later = await storage.events.append(stamped("twice", 3, 1, "a.example#1", 1));
      expect(later.event.stamp).toEqual({ origin: "c.example#1", sequence: 7 });
      const [first, second] = await storage.events.appendBatch([
        stamped("batch", 1, 9, "b.example#1", 5),
        stamped("batch", 1, 9, "a.example#1", 2),
      ]);
      expect([first?.kind, second?.kind]).toEqual(["appended", "duplicate"]);
      expect(first?.event.stamp).toEqual({ origin: "a.example#1", sequence: 2 });
      const page = await storage.events.pageHistory({
        roomId: "room",
        direction: "forward",
        limit: 10,
      });
      expect(page.items.map((event) => [event.clientEventId, event.controlIndex])).toEqual([
        ["batch", 1],
        ["twice", 2],
      ]);
    });
  });
}
