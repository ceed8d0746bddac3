import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { BrowserDatabase } from "./browser-database.ts";
import { cachedEventsPerRoomMax, RoomCache } from "./room-cache.ts";

// A fresh factory per test is a fresh "browser profile"; reopening a database
// from the same factory is what a reload does.
function profile() {
  return { indexedDB: new IDBFactory(), IDBKeyRange };
}

const message = (roomId: string, sequence: number) => ({
  type: "message",
  roomId,
  sequence,
  acceptedAtMs: 1_700_000_000_000 + sequence,
  body: new Uint8Array([sequence % 256, 1, 2]),
});

describe("browser database", () => {
  it("keeps the SDK's values across a reopen, and forgets deleted ones", async () => {
    const platform = profile();
    const first = await BrowserDatabase.open(platform);
    await first.client.set("parley.device", '{"secretSeed":"x"}');
    await first.client.set("parley.session", "token");
    await first.client.delete("parley.session");
    first.close();

    const reloaded = await BrowserDatabase.open(platform);
    expect(await reloaded.client.get("parley.device")).toBe('{"secretSeed":"x"}');
    expect(await reloaded.client.get("parley.session")).toBeUndefined();
    expect(await reloaded.client.get("never.set")).toBeUndefined();
    reloaded.close();
  });

  it("applies an update's sets and deletes together (the SDK's cursor with MLS state)", async () => {
    const platform = profile();
    const first = await BrowserDatabase.open(platform);
    await first.client.set("parley.mls.room.old", "sealed-old");
    await first.client.update(
      new Map([
        ["parley.cursor", '{"streamPosition":3}'],
        ["parley.mls.room.new", "sealed-new"],
        ["parley.mls.room.old", undefined],
      ]),
    );
    first.close();

    const reloaded = await BrowserDatabase.open(platform);
    expect(await reloaded.client.get("parley.cursor")).toBe('{"streamPosition":3}');
    expect(await reloaded.client.get("parley.mls.room.new")).toBe("sealed-new");
    expect(await reloaded.client.get("parley.mls.room.old")).toBeUndefined();
    reloaded.close();
  });

  it("caches a room's newest events with their bytes, per user", async () => {
    const platform = profile();
    const database = await BrowserDatabase.open(platform);
    const alice = new RoomCache<ReturnType<typeof message>>(database, "alice@a");
    const events = Array.from({ length: cachedEventsPerRoomMax + 5 }, (_, index) =>
      message("!room", index + 1),
    );
    await alice.saveEvents("!room", events);
    database.close();

    const reloaded = await BrowserDatabase.open(platform);
    const cached = await new RoomCache<ReturnType<typeof message>>(reloaded, "alice@a").events(
      "!room",
    );
    expect(cached).toHaveLength(cachedEventsPerRoomMax);
    expect(cached[0]?.sequence).toBe(6);
    expect(cached.at(-1)?.body).toEqual(new Uint8Array([(cachedEventsPerRoomMax + 5) % 256, 1, 2]));
    expect(await new RoomCache(reloaded, "bob@b").events("!room")).toEqual([]);
    reloaded.close();
  });

  it("drops cached values of a wrong shape instead of trusting them", async () => {
    const database = await BrowserDatabase.open(profile());
    await database.cache("user:alice@a:events:!room", [{ sequence: "one" }]);
    await database.cache("user:alice@a:read", { "!room": 4, "!other": "x" });
    const cache = new RoomCache(database, "alice@a");
    expect(await cache.events("!room")).toEqual([]);
    expect(await cache.readMarkers()).toEqual({ "!room": 4 });
    database.close();
  });

  it("forgets one user's cache at sign-out and keeps the other's", async () => {
    const database = await BrowserDatabase.open(profile());
    const alice = new RoomCache<ReturnType<typeof message>>(database, "alice@a");
    const bob = new RoomCache<ReturnType<typeof message>>(database, "bob@b");
    await alice.saveEvents("!room", [message("!room", 1)]);
    await alice.saveReadMarkers({ "!room": 1 });
    await bob.saveEvents("!room", [message("!room", 2)]);
    await alice.forget();
    expect(await alice.events("!room")).toEqual([]);
    expect(await alice.readMarkers()).toEqual({});
    expect(await bob.events("!room")).toHaveLength(1);
    await database.forgetEverything();
    expect(await bob.events("!room")).toEqual([]);
    database.close();
  });
});
