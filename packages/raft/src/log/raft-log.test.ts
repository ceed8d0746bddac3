import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../storage/memory-storage.ts";
import { EMPTY_CONF_STATE, ENTRY_OVERHEAD_BYTES, type Entry } from "../types.ts";
import { RaftLog } from "./raft-log.ts";

const INFINITE = Number.POSITIVE_INFINITY;

function entry(index: number, term: number, size = 0): Entry {
  return { type: "normal", index, term, data: new Uint8Array(size) };
}

/** A log whose storage holds entries with the given terms, starting at index 1. */
function logWithTerms(terms: number[], stored = terms.length): RaftLog {
  const storage = new MemoryStorage();
  storage.append(terms.slice(0, stored).map((term, i) => entry(i + 1, term)));
  const log = new RaftLog(storage, INFINITE);
  log.append(terms.slice(stored).map((term, i) => entry(stored + i + 1, term)));
  return log;
}

describe("RaftLog", () => {
  it("finds the first conflicting or new entry", () => {
    const log = logWithTerms([1, 2, 3]);
    expect(log.findConflict([])).toBe(0);
    expect(log.findConflict([entry(1, 1), entry(2, 2)])).toBe(0);
    expect(log.findConflict([entry(2, 2), entry(3, 3), entry(4, 4)])).toBe(4);
    expect(log.findConflict([entry(2, 1), entry(3, 4)])).toBe(2);
  });

  it("appends after a matching entry, truncates a conflicting tail, and commits what is vouched for", () => {
    const log = logWithTerms([1, 2, 3]);
    expect(log.maybeAppend({ index: 3, term: 2 }, [entry(4, 4)], 3)).toBeUndefined();
    expect(log.maybeAppend({ index: 1, term: 1 }, [entry(2, 4)], 10)).toBe(2);
    expect(log.lastIndex()).toBe(2);
    expect(log.term(2)).toBe(4);
    // Commit is capped by what this append proved to match.
    expect(log.committed).toBe(2);
    expect(log.nextUnstableEntries()).toEqual([entry(2, 4)]);
  });

  it("keeps a longer matching log when an append is shorter (stale or reordered message)", () => {
    const log = logWithTerms([1, 1, 1]);
    expect(log.maybeAppend({ index: 0, term: 0 }, [entry(1, 1)], 1)).toBe(1);
    expect(log.lastIndex()).toBe(3);
    expect(log.committed).toBe(1);
  });

  it("refuses to overwrite committed entries", () => {
    const log = logWithTerms([1, 1, 1]);
    log.commitTo(3);
    expect(() => log.maybeAppend({ index: 1, term: 1 }, [entry(2, 2)], 3)).toThrow(/committed/);
  });

  it("guesses the match point by term when rejecting (findConflictByTerm)", () => {
    // index:  1 2 3 4 5 6
    // term:   1 1 1 1 2 2
    const log = logWithTerms([1, 1, 1, 1, 2, 2]);
    expect(log.findConflictByTerm(6, 1)).toEqual({ index: 4, term: 1 });
    expect(log.findConflictByTerm(6, 2)).toEqual({ index: 6, term: 2 });
    expect(log.findConflictByTerm(6, 0)).toEqual({ index: 0, term: 0 });
  });

  it("slices across storage and the unstable tail, within a byte limit", () => {
    const log = logWithTerms([1, 1, 1, 2, 2], 3);
    expect(log.slice(2, 6, INFINITE)?.map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(log.slice(2, 6, 2 * ENTRY_OVERHEAD_BYTES)?.map((e) => e.index)).toEqual([2, 3]);
    expect(log.slice(2, 6, 0)?.map((e) => e.index)).toEqual([2]);
    expect(log.slice(4, 6, 0)?.map((e) => e.index)).toEqual([4]);
  });

  it("reports compacted ranges as undefined, keeping the term before the first index", () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
    storage.createSnapshot(2, EMPTY_CONF_STATE, new Uint8Array());
    storage.compact(2);
    const log = new RaftLog(storage, INFINITE);
    expect(log.term(2)).toBe(1);
    expect(log.term(1)).toBeUndefined();
    expect(log.term(5)).toBeUndefined();
    expect(log.entriesFrom(2, INFINITE)).toBeUndefined();
    expect(log.entriesFrom(3, INFINITE)?.length).toBe(2);
    expect(log.committed).toBe(2);
  });

  it("commits by counting only an entry of the given (current) term", () => {
    const log = logWithTerms([1, 1, 2]);
    expect(log.maybeCommit(2, 2)).toBe(false);
    expect(log.maybeCommit(3, 2)).toBe(true);
    expect(log.committed).toBe(3);
  });

  it("decides up-to-dateness by last term, then last index", () => {
    const log = logWithTerms([1, 2, 2]);
    expect(log.isUpToDate({ index: 1, term: 3 })).toBe(true);
    expect(log.isUpToDate({ index: 3, term: 2 })).toBe(true);
    expect(log.isUpToDate({ index: 2, term: 2 })).toBe(false);
    expect(log.isUpToDate({ index: 9, term: 1 })).toBe(false);
  });
});

describe("UnstableLog", () => {
  it("ignores a completed write for entries that were replaced meanwhile", () => {
    const log = logWithTerms([1], 1);
    log.append([entry(2, 1), entry(3, 1)]);
    log.acceptUnstable();
    // A new leader replaces index 3 while the write of (3, term 1) is in flight.
    log.append([entry(3, 2)]);
    log.stableTo({ index: 3, term: 1 });
    expect(log.unstable.entries.map((e) => e.term)).toEqual([1, 2]);
    expect(log.nextUnstableEntries()).toEqual([entry(3, 2)]);
    log.acceptUnstable();
    log.stableTo({ index: 3, term: 2 });
    expect(log.unstable.entries).toEqual([]);
  });
});
