import { describe, expect, it } from "vitest";
import { MemoryStore } from "./client-store.ts";
import { SavedState } from "./saved-state.ts";

describe("saved state", () => {
  it("round-trips every record and starts from an empty cursor", async () => {
    const saved = new SavedState(new MemoryStore());
    expect(await saved.device()).toBeUndefined();
    expect(await saved.cursor()).toEqual({
      streamPosition: 0,
      queuePosition: 0,
      roomSequences: {},
    });
    const device = {
      secretSeed: "s",
      userId: "a@b",
      serverName: "b",
      baseUrl: "http://b",
      recordSequence: 2,
    };
    await saved.saveDevice(device);
    expect(await saved.device()).toEqual(device);
    await saved.saveCursor({ streamPosition: 5, queuePosition: 1, roomSequences: { "!r": 3 } });
    expect((await saved.cursor()).roomSequences).toEqual({ "!r": 3 });
    await saved.saveOutbox([]);
    expect(await saved.outbox()).toEqual([]);
  });

  it("refuses a store edited into something else with a coded error", async () => {
    const store = new MemoryStore();
    const saved = new SavedState(store);
    await store.set("parley.device", "{not json");
    await expect(saved.device()).rejects.toMatchObject({ code: "bad_encoding" });
    await store.set("parley.device", JSON.stringify({ secretSeed: 5 }));
    await expect(saved.device()).rejects.toMatchObject({ code: "bad_structure" });
    await store.set("parley.outbox", JSON.stringify([{ roomId: "!r" }]));
    await expect(saved.outbox()).rejects.toMatchObject({ code: "bad_structure" });
  });
});

describe("the cursor and what moves with it", () => {
  it("writes the cursor and the records given with it in one update", async () => {
    const store = new MemoryStore();
    const updates: Array<ReadonlyMap<string, string | undefined>> = [];
    const original = store.update.bind(store);
    store.update = async (changes) => {
      updates.push(new Map(changes));
      await original(changes);
    };
    await store.set("parley.mls.room.old", "x");
    const saved = new SavedState(store);
    const cursor = { streamPosition: 7, queuePosition: 2, roomSequences: { "!r": 4 } };
    await saved.saveCursor(
      cursor,
      new Map([
        ["parley.mls.room.a", "sealed"],
        ["parley.mls.room.old", undefined],
      ]),
    );
    expect(updates).toHaveLength(1);
    expect([...(updates[0]?.keys() ?? [])].sort()).toEqual([
      "parley.cursor",
      "parley.mls.room.a",
      "parley.mls.room.old",
    ]);
    expect(await saved.cursor()).toEqual(cursor);
    expect(await store.get("parley.mls.room.a")).toBe("sealed");
    expect(await store.get("parley.mls.room.old")).toBeUndefined();
  });
});
