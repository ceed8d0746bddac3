// What the caller relies on when it flushes: concurrent flushes run one at a
// time and each covers every write made before it was called; a failed flush
// rejects, leaves nothing of its batch visible and keeps the batch; the
// pending batch is bounded.

import { contractMessage, contractRoom } from "@parley/federation/storage-contract";
import { nodeId } from "@parley/raft";
import { afterEach, beforeEach, expect, it } from "vitest";
import { StorageError } from "../../src/index.ts";
import { describeOnDatabases, type TestDatabase } from "./databases.ts";

const origin = nodeId("a.example#1");

describeOnDatabases("Federation storage flushes", (create) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await create();
  });

  afterEach(async () => {
    await database.destroy();
  });

  it("serialises concurrent flushes; calls before a flush starts share it", async () => {
    const storage = await database.open();
    const room = contractRoom(1);
    const store = storage.messages(room);
    store.put(contractMessage(room, origin, 1));
    const first = storage.flush();
    store.put(contractMessage(room, origin, 2));
    expect(storage.flush()).toBe(first);
    // Let the first flush start; writes from now on belong to the next one.
    await new Promise((resolve) => setImmediate(resolve));
    store.put(contractMessage(room, origin, 3));
    const second = storage.flush();
    expect(second).not.toBe(first);
    expect(storage.flush()).toBe(second);
    await Promise.all([first, second]);
    expect(storage.pendingBytes).toBe(0);
    await database.closeAll();
    const reopened = await database.open();
    expect(reopened.messages(room).contiguous(origin)).toBe(3);
  });

  it("leaves nothing of a failed batch visible and keeps it pending", async () => {
    const storage = await database.open();
    const room = contractRoom(2);
    storage.saveRoom(room, { contacts: [], node: origin, retiredIncarnation: 0 });
    await storage.flush();
    // The Raft write comes first in the transaction; the message after it
    // breaks the table's check (sequences start at 1), so the commit fails
    // after some statements ran.
    storage.groups
      .open(room, origin)
      .append([{ type: "normal", index: 1, term: 1, data: new Uint8Array([1]) }]);
    storage.saveRoom(room, { contacts: [], node: origin, retiredIncarnation: 5 });
    storage.messages(room).put(contractMessage(room, origin, 0));
    const failure = await storage.flush().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StorageError);
    expect((failure as StorageError).code).toBe("database-failed");
    expect(storage.pendingBytes).toBeGreaterThan(0);
    // The batch was kept: the next flush tries it again (and fails again).
    await expect(storage.flush()).rejects.toThrow(StorageError);
    await database.closeAll();
    const reopened = await database.open();
    expect(reopened.loadRoom(room)?.retiredIncarnation).toBe(0);
    expect(reopened.groups.open(room, origin).lastIndex()).toBe(0);
    expect(reopened.messages(room).size).toBe(0);
  });

  it("says when to flush, and refuses writes beyond the pending bound", async () => {
    const storage = await database.open({ pendingBytesMax: 16 * 1024 * 1024 });
    expect(storage.flushWanted).toBe(false);
    const room = contractRoom(3);
    const store = storage.messages(room);
    const large = new Uint8Array(64 * 1024);
    let sequence = 0;
    while (sequence < 200 && !storage.flushWanted) {
      sequence += 1;
      store.put(contractMessage(room, origin, sequence, "allowed", large));
    }
    expect(storage.flushWanted).toBe(true);
    await storage.flush();
    expect([storage.flushWanted, storage.pendingBytes]).toEqual([false, 0]);
    let refusal: unknown = null;
    while (sequence < 1000 && refusal === null) {
      sequence += 1;
      try {
        store.put(contractMessage(room, origin, sequence, "allowed", large));
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(StorageError);
    expect((refusal as StorageError).code).toBe("invalid-input");
    expect(storage.pendingBytes).toBeGreaterThan(16 * 1024 * 1024);
  });
});
