// The Raft package's shared storage contract, run against each group storage
// of DatabaseFederationStorage on SQLite and PostgreSQL. After every case the
// storage is flushed and reopened from the database, and every group it
// touched must read back exactly as it was.

import { parseRoomId } from "@parley/protocol";
import { nodeId, type WritableStorage } from "@parley/raft";
import { describeStorageContract } from "@parley/raft/storage-contract";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { DatabaseFederationStorage } from "../../src/index.ts";
import { describeOnDatabases, type TestDatabase } from "./databases.ts";
import { raftGroupView } from "./raft-group-view.ts";

const room = parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA");

describeOnDatabases("Raft group storage", (create) => {
  let database: TestDatabase;
  let storage: DatabaseFederationStorage;
  let opened: Array<{ id: ReturnType<typeof nodeId>; group: WritableStorage }> = [];
  let nextNode = 1;

  beforeAll(async () => {
    database = await create();
    storage = await database.open();
  });

  afterAll(async () => {
    await database.destroy();
  });

  afterEach(async () => {
    await storage.flush();
    const reopened = await database.open();
    for (const { id, group } of opened) {
      expect(raftGroupView(reopened.groups.open(room, id))).toEqual(raftGroupView(group));
    }
    opened = [];
  });

  describeStorageContract("DatabaseFederationStorage groups", () => {
    const id = nodeId(`node-${nextNode}`);
    nextNode += 1;
    const group = storage.groups.open(room, id);
    opened.push({ id, group });
    return group;
  });
});
