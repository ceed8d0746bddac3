// The shared storage suite, in the spirit of libp2p's interface-compliance
// tests and automerge-repo's storage-adapter tests: every Storage backend runs
// exactly these stories. Each test gets a fresh database, migrated from empty.

import { afterEach, beforeEach, describe } from "vitest";
import type { Storage } from "../../src/index.ts";
import { describeAccountContract } from "./accounts-contract.ts";
import { describeAdministrationContract } from "./administration-contract.ts";
import { describeConcurrencyContract } from "./concurrency-contract.ts";
import { describeDeviceContract } from "./devices-contract.ts";
import { describeEventContract } from "./events-contract.ts";
import type { FreshDatabase, StorageFactory } from "./harness.ts";
import { describeHistoryContract } from "./history-contract.ts";
import { describeInboxContract } from "./inboxes-contract.ts";
import {
  describeKeyPackageConcurrencyContract,
  describeKeyPackageContract,
} from "./key-packages-contract.ts";
import { describeMigrationContract } from "./migrations-contract.ts";
import { describeRoomContract } from "./rooms-contract.ts";

/** Gives each test its storage and database; valid only inside a test. */
export interface ContractContext {
  storage(): Storage;
  database(): FreshDatabase;
}

export function describeStorageContract(name: string, factory: StorageFactory): void {
  describe(`storage contract: ${name}`, () => {
    let fresh: FreshDatabase | null = null;

    beforeEach(async () => {
      fresh = await factory.openFresh();
      await fresh.storage.migrations.migrateToLatest();
    });

    afterEach(async () => {
      await fresh?.destroy();
      fresh = null;
    });

    const context: ContractContext = {
      database() {
        if (fresh === null) {
          throw new Error("the contract's database is only open inside a test");
        }
        return fresh;
      },
      storage() {
        return context.database().storage;
      },
    };

    describeMigrationContract(context);
    describeAccountContract(context);
    describeDeviceContract(context);
    describeRoomContract(context);
    describeEventContract(context);
    describeHistoryContract(context);
    describeInboxContract(context);
    describeAdministrationContract(context);
    describeKeyPackageContract(context);
    if (factory.sharedAcrossHandles) describeConcurrencyContract(context);
    if (factory.sharedAcrossHandles) describeKeyPackageConcurrencyContract(context);
  });
}
