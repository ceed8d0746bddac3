// Opening reads large tables in pages by key: more rows than one page, over
// several rooms, origins and groups, must all come back, in order.

import { contractMessage, contractRoom } from "@parley/federation/storage-contract";
import { nodeId } from "@parley/raft";
import { afterEach, beforeEach, expect, it } from "vitest";
import { describeOnDatabases, type TestDatabase } from "./databases.ts";

/** More than the loader's page (4,096 rows). */
const rowsPerTable = 9_000;
const origins = [nodeId("a.example#1"), nodeId("b.example#3")];
const rooms = [contractRoom(1), contractRoom(2), contractRoom(3)];

describeOnDatabases("Reopening a large federation storage", (create) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await create();
  });

  afterEach(async () => {
    await database.destroy();
  });

  it("reads back every message and every Raft entry across pages", async () => {
    const storage = await database.open();
    const perRoomAndOrigin = rowsPerTable / (rooms.length * origins.length);
    for (const room of rooms) {
      for (const origin of origins) {
        const store = storage.messages(room);
        for (let sequence = 1; sequence <= perRoomAndOrigin; sequence += 1) {
          store.put(contractMessage(room, origin, sequence));
        }
        const group = storage.groups.open(room, origin);
        group.append(
          Array.from({ length: perRoomAndOrigin }, (_, offset) => ({
            type: "normal" as const,
            index: offset + 1,
            term: 1,
            data: new Uint8Array([offset % 256]),
          })),
        );
      }
      await storage.flush();
    }
    await database.closeAll();
    const reopened = await database.open();
    for (const room of rooms) {
      expect(reopened.messages(room).size).toBe(perRoomAndOrigin * origins.length);
      for (const origin of origins) {
        expect(reopened.messages(room).contiguous(origin)).toBe(perRoomAndOrigin);
        const group = reopened.groups.open(room, origin);
        expect(group.lastIndex()).toBe(perRoomAndOrigin);
        const entries = group.entries(1, perRoomAndOrigin + 1, Number.POSITIVE_INFINITY);
        expect(entries.map((entry) => entry.index)).toEqual(
          Array.from({ length: perRoomAndOrigin }, (_, offset) => offset + 1),
        );
      }
    }
  });
});
