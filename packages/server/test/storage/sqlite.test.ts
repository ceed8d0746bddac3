// The storage contract on SQLite: a private in-memory database and a file in a
// temporary directory, plus what only a file can show (data survives reopening).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStorage } from "../../src/index.ts";
import { describeStorageContract } from "../storage-contract/contract.ts";
import { createRoom, newEvent } from "../storage-contract/fixtures.ts";

describeStorageContract("SQLite in memory", {
  sharedAcrossHandles: false,
  async openFresh() {
    const storage = await openStorage({ kind: "sqlite", path: ":memory:" });
    return { storage, openAnother: null, destroy: () => storage.close() };
  },
});

describeStorageContract("SQLite file", {
  sharedAcrossHandles: false,
  async openFresh() {
    const directory = await mkdtemp(join(tmpdir(), "parley-sqlite-"));
    const storage = await openStorage({ kind: "sqlite", path: join(directory, "parley.sqlite") });
    return {
      storage,
      openAnother: null,
      async destroy() {
        await storage.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
});

describe("SQLite file across restarts", () => {
  it("keeps data, positions and applied migrations when reopened", async () => {
    const directory = await mkdtemp(join(tmpdir(), "parley-sqlite-"));
    const path = join(directory, "parley.sqlite");
    try {
      const before = await openStorage({ kind: "sqlite", path });
      expect((await before.migrations.migrateToLatest()).length).toBeGreaterThan(0);
      await createRoom(before, "room");
      await before.events.append(newEvent("room", "1"));
      await before.close();

      const after = await openStorage({ kind: "sqlite", path });
      expect(await after.migrations.migrateToLatest()).toEqual([]);
      expect(await after.events.streamHead()).toBe(1);
      const next = await after.events.append(newEvent("room", "2"));
      expect([next.event.streamPosition, next.event.roomSequence]).toEqual([2, 2]);
      const retry = await after.events.append(newEvent("room", "1"));
      expect(retry.kind).toBe("duplicate");
      await after.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
