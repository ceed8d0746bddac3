import { describe, expect, it } from "vitest";
import { EMPTY_BYTES, type Entry } from "../types.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { describeStorageContract } from "./storage-contract.ts";

describeStorageContract("MemoryStorage", () => new MemoryStorage());

function entry(index: number, term = 1): Entry {
  return { type: "normal", index, term, data: EMPTY_BYTES };
}

/** Appends `count` entries one at a time after `stored` entries; returns the milliseconds taken. */
function timeSingleAppends(stored: number, count: number): number {
  const storage = new MemoryStorage();
  storage.append(Array.from({ length: stored }, (_, i) => entry(i + 1)));
  const start = performance.now();
  for (let index = stored + 1; index <= stored + count; index++) storage.append([entry(index)]);
  return performance.now() - start;
}

describe("MemoryStorage appends in place", () => {
  it("leaves arrays it handed out unchanged by later appends and truncations", () => {
    const storage = new MemoryStorage();
    storage.append([entry(1), entry(2), entry(3)]);
    const before = storage.entries(1, 4, Number.POSITIVE_INFINITY);
    storage.append([entry(4)]);
    storage.append([entry(2, 2)]);
    expect(before.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(2);
  });

  it("appends to a long log as fast as to a short one (the log was copied on every append)", () => {
    timeSingleAppends(100, 2_000); // warm up
    const short = Math.min(timeSingleAppends(100, 2_000), timeSingleAppends(100, 2_000));
    const long = Math.min(timeSingleAppends(50_000, 2_000), timeSingleAppends(50_000, 2_000));
    // Copying made this ratio several hundred; the bound leaves room for a noisy machine.
    expect(long).toBeLessThan(Math.max(short, 1) * 20);
  });
});
