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
