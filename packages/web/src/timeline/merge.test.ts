import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isComplete, mergeTimeline, newestEvents, newestSequence } from "./merge.ts";

const event = (sequence: number, copy = "a") => ({ sequence, copy });

describe("timeline merge", () => {
  it("orders by sequence, keeps one event per sequence, and prefers the newer copy", () => {
    const merged = mergeTimeline([event(3), event(1)], [event(2), event(3, "b")]);
    expect(merged).toEqual([event(1), event(2), event(3, "b")]);
  });

  it("is ascending and duplicate-free whatever the order of arrival", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 })),
        fc.array(fc.integer({ min: 1, max: 50 })),
        (left, right) => {
          const held = mergeTimeline(
            [],
            left.map((s) => event(s)),
          );
          const merged = mergeTimeline(
            held,
            right.map((s) => event(s)),
          );
          const sequences = merged.map((item) => item.sequence);
          expect(sequences).toEqual([...new Set([...left, ...right])].sort((a, b) => a - b));
        },
      ),
    );
  });

  it("knows when it holds everything from the first event on", () => {
    expect(isComplete([])).toBe(false);
    expect(isComplete([event(1), event(2), event(3)])).toBe(true);
    expect(isComplete([event(2), event(3)])).toBe(false);
    expect(isComplete([event(1), event(3)])).toBe(false);
    expect(newestSequence([event(1), event(7)])).toBe(7);
  });

  it("keeps the newest events for the cache", () => {
    const events = [1, 2, 3, 4, 5].map((s) => event(s));
    expect(newestEvents(events, 2).map((item) => item.sequence)).toEqual([4, 5]);
    expect(newestEvents(events, 10)).toHaveLength(5);
  });
});
