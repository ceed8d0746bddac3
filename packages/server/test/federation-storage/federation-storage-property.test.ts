// Property tests: random sequences of writes, with flushes at random points,
// applied to DatabaseFederationStorage and to the reference
// MemoryFederationStorage. Every write has the same outcome on both; after a
// final flush the storage reopened from the database equals the reference;
// and after a crash (closing without the final flush) the reopened storage
// equals the reference that saw only the writes up to the last flush —
// nothing of the unflushed tail, nothing partial.

import { MemoryFederationStorage } from "@parley/federation";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { DatabaseFederationStorage } from "../../src/index.ts";
import { describeOnDatabases, type TestDatabase } from "./databases.ts";
import { federationStateView } from "./federation-state-view.ts";
import {
  applyOperation,
  nodes,
  type Operation,
  operationArbitrary,
  runRooms,
} from "./random-operations.ts";

const runsPerProperty = 20;
const operationsPerRunMin = 30;
const operationsPerRunMax = 120;

interface RunResult {
  readonly database: DatabaseFederationStorage;
  readonly reference: MemoryFederationStorage;
  /** The reference as of the last flush. */
  readonly flushedReference: MemoryFederationStorage;
}

async function runOperations(
  database: DatabaseFederationStorage,
  operations: readonly Operation[],
  rooms: ReturnType<typeof runRooms>,
): Promise<RunResult> {
  const reference = new MemoryFederationStorage();
  let flushedCount = 0;
  for (const [position, operation] of operations.entries()) {
    if (operation.kind === "flush") {
      await database.flush();
      flushedCount = position;
      continue;
    }
    expect(applyOperation(database, rooms, operation), JSON.stringify(operation)).toBe(
      applyOperation(reference, rooms, operation),
    );
  }
  const flushedReference = new MemoryFederationStorage();
  for (const operation of operations.slice(0, flushedCount)) {
    if (operation.kind !== "flush") applyOperation(flushedReference, rooms, operation);
  }
  return { database, reference, flushedReference };
}

describeOnDatabases("FederationStorage against the reference", (create) => {
  let testDatabase: TestDatabase;
  let run = 0;

  beforeAll(async () => {
    testDatabase = await create();
  });

  afterAll(async () => {
    await testDatabase.destroy();
  });

  const operations = fc.array(operationArbitrary, {
    minLength: operationsPerRunMin,
    maxLength: operationsPerRunMax,
  });

  it("after flush and reopen, equals the reference", async () => {
    await fc.assert(
      fc.asyncProperty(operations, async (sequence) => {
        run += 1;
        const rooms = runRooms(run);
        const storage = await testDatabase.open();
        const { reference } = await runOperations(storage, sequence, rooms);
        expect(federationStateView(storage, rooms, nodes)).toEqual(
          federationStateView(reference, rooms, nodes),
        );
        await storage.flush();
        await testDatabase.closeAll();
        const reopened = await testDatabase.open();
        expect(federationStateView(reopened, rooms, nodes)).toEqual(
          federationStateView(reference, rooms, nodes),
        );
      }),
      { numRuns: runsPerProperty },
    );
  });

  it("after a crash, holds exactly what was flushed", async () => {
    await fc.assert(
      fc.asyncProperty(operations, async (sequence) => {
        run += 1;
        const rooms = runRooms(run);
        const storage = await testDatabase.open();
        const { flushedReference } = await runOperations(storage, sequence, rooms);
        await testDatabase.closeAll();
        const reopened = await testDatabase.open();
        expect(federationStateView(reopened, rooms, nodes)).toEqual(
          federationStateView(flushedReference, rooms, nodes),
        );
      }),
      { numRuns: runsPerProperty },
    );
  });
});
