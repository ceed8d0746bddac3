/**
 * The shared contract suite every WritableStorage implementation must pass
 * (like libp2p's interface-compliance tests). The durable storage runs it
 * with its own factory:
 *
 *   import { describeStorageContract } from "@parley/raft/storage-contract";
 *   describeStorageContract("sqlite", () => openTestStorage());
 */
import { describe, expect, it } from "vitest";
import { EMPTY_CONF_STATE, type Entry, nodeId, type Term } from "../types.ts";
import { isStorageError, type WritableStorage } from "./storage.ts";

function entry(index: number, term: Term, size = 0): Entry {
  return { type: "normal", index, term, data: new Uint8Array(size) };
}

function range(first: number, last: number, term: Term): Entry[] {
  const entries: Entry[] = [];
  for (let index = first; index <= last; index++) entries.push(entry(index, term));
  return entries;
}

function expectStorageError(action: () => unknown, code: Parameters<typeof isStorageError>[1]) {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(
    isStorageError(thrown, code),
    `expected a "${code}" StorageError, got ${String(thrown)}`,
  ).toBe(true);
}

export function describeStorageContract(name: string, create: () => WritableStorage): void {
  describe(`Storage contract: ${name}`, () => {
    it("starts empty: first index 1, last index 0, term(0) = 0", () => {
      const storage = create();
      expect(storage.firstIndex()).toBe(1);
      expect(storage.lastIndex()).toBe(0);
      expect(storage.term(0)).toBe(0);
      expect(storage.initialState().hardState).toEqual({ term: 0, vote: null, commit: 0 });
      expect(storage.entries(1, 1, Number.POSITIVE_INFINITY)).toEqual([]);
    });

    it("returns appended entries and their terms, and names out-of-range errors", () => {
      const storage = create();
      storage.append(range(1, 5, 1));
      expect(storage.lastIndex()).toBe(5);
      expect(storage.term(3)).toBe(1);
      expect(storage.entries(2, 5, Number.POSITIVE_INFINITY).map((e) => e.index)).toEqual([
        2, 3, 4,
      ]);
      expectStorageError(() => storage.term(6), "unavailable");
    });

    it("replaces a conflicting tail on append", () => {
      const storage = create();
      storage.append(range(1, 5, 1));
      storage.append(range(3, 4, 2));
      expect(storage.lastIndex()).toBe(4);
      expect([1, 2, 3, 4].map((i) => storage.term(i))).toEqual([1, 1, 2, 2]);
    });

    it("limits entries by bytes but always returns at least one", () => {
      const storage = create();
      storage.append([entry(1, 1, 100), entry(2, 1, 100), entry(3, 1, 100)]);
      expect(storage.entries(1, 4, 0)).toHaveLength(1);
      expect(storage.entries(1, 4, 2 * 116)).toHaveLength(2);
    });

    it("gives the caller its own array", () => {
      const storage = create();
      storage.append(range(1, 3, 1));
      const first = storage.entries(1, 4, Number.POSITIVE_INFINITY) as Entry[];
      first.pop();
      expect(storage.entries(1, 4, Number.POSITIVE_INFINITY)).toHaveLength(3);
    });

    it("compacts behind a snapshot and keeps the term at the compaction point", () => {
      const storage = create();
      storage.append([...range(1, 5, 1), ...range(6, 8, 2)]);
      const confState = { ...EMPTY_CONF_STATE, voters: [nodeId("1")] };
      const snapshot = storage.createSnapshot(6, confState, new Uint8Array([7]));
      expect(snapshot.metadata).toEqual({ index: 6, term: 2, confState });
      storage.compact(6);
      expect(storage.firstIndex()).toBe(7);
      expect(storage.lastIndex()).toBe(8);
      expect(storage.term(6)).toBe(2);
      expectStorageError(() => storage.term(5), "compacted");
      expectStorageError(() => storage.entries(6, 8, Number.POSITIVE_INFINITY), "compacted");
      expectStorageError(() => storage.compact(6), "compacted");
      expectStorageError(
        () => storage.createSnapshot(5, confState, new Uint8Array()),
        "snapshotOutOfDate",
      );
      expect(storage.snapshot().data).toEqual(new Uint8Array([7]));
      expect(storage.initialState().confState).toEqual(confState);
    });

    it("replaces everything with an applied snapshot and refuses older ones", () => {
      const storage = create();
      storage.append(range(1, 5, 1));
      const confState = { ...EMPTY_CONF_STATE, voters: [nodeId("a"), nodeId("b")] };
      storage.applySnapshot({
        metadata: { index: 10, term: 3, confState },
        data: new Uint8Array(),
      });
      expect(storage.firstIndex()).toBe(11);
      expect(storage.lastIndex()).toBe(10);
      expect(storage.term(10)).toBe(3);
      expectStorageError(
        () =>
          storage.applySnapshot({
            metadata: { index: 9, term: 3, confState },
            data: new Uint8Array(),
          }),
        "snapshotOutOfDate",
      );
      storage.append(range(11, 12, 3));
      expect(storage.lastIndex()).toBe(12);
    });

    it("skips appended entries the snapshot already covers", () => {
      const storage = create();
      storage.applySnapshot({
        metadata: { index: 5, term: 2, confState: EMPTY_CONF_STATE },
        data: new Uint8Array(),
      });
      storage.append(range(4, 7, 2));
      expect(storage.firstIndex()).toBe(6);
      expect(storage.lastIndex()).toBe(7);
    });

    it("saves the hard state", () => {
      const storage = create();
      storage.setHardState({ term: 4, vote: nodeId("b"), commit: 0 });
      expect(storage.initialState().hardState).toEqual({ term: 4, vote: "b", commit: 0 });
    });
  });
}
