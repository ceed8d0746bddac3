// The shared FederationStorage contract on the reference in-memory storage
// and on DatabaseFederationStorage over SQLite and PostgreSQL, where a
// restart is a flush and a fresh open from the database.

import { MemoryFederationStorage } from "@parley/federation";
import { describeFederationStorageContract } from "@parley/federation/storage-contract";
import { afterAll } from "vitest";
import { DatabaseFederationStorage } from "../../src/index.ts";
import { describeOnDatabases, type TestDatabase } from "./databases.ts";

describeFederationStorageContract("MemoryFederationStorage", {
  open: () => Promise.resolve(new MemoryFederationStorage()),
  restart: (storage) => Promise.resolve(storage),
});

describeOnDatabases("FederationStorage", (create) => {
  const databases: TestDatabase[] = [];
  const databaseOf = new Map<DatabaseFederationStorage, TestDatabase>();

  afterAll(async () => {
    for (const database of databases) await database.destroy();
  });

  describeFederationStorageContract("DatabaseFederationStorage", {
    async open() {
      const database = await create();
      databases.push(database);
      const storage = await database.open();
      databaseOf.set(storage, database);
      return storage;
    },
    async restart(storage) {
      const database = storage instanceof DatabaseFederationStorage && databaseOf.get(storage);
      if (!database) throw new Error("restart of a storage this harness did not open");
      await storage.flush();
      await database.closeAll();
      return database.open();
    },
  });
});
