import { describe, expect, it } from "vitest";
import { RecentEvents } from "./recent-events.ts";

const event = (position: number, roomId = "!room") => ({ position, roomId, text: `${position}` });

function after(ring: RecentEvents, position: number): number[] {
  const seen: number[] = [];
  ring.forEachAfter(position, (item) => {
    seen.push(item.position);
    return true;
  });
  return seen;
}

describe("recent events", () => {
  it("holds every event above its floor, evicting the oldest beyond its capacity", () => {
    const ring = new RecentEvents(10, 3);
    for (const position of [11, 12, 13, 14]) ring.add(event(position));
    expect([ring.floor, ring.newest]).toEqual([11, 14]);
    expect(after(ring, 11)).toEqual([12, 13, 14]);
    expect(after(ring, 13)).toEqual([14]);
    expect(after(ring, 14)).toEqual([]);
  });

  it("restarts after a gap (another writer), so the missing events come from storage", () => {
    const ring = new RecentEvents(0, 8);
    ring.add(event(1));
    ring.add(event(2));
    ring.add(event(5));
    expect([ring.floor, ring.newest]).toEqual([4, 5]);
    expect(after(ring, 4)).toEqual([5]);
  });

  it("ignores events it already has and stops when the visitor says so", () => {
    const ring = new RecentEvents(0, 8);
    for (const position of [1, 2, 3, 2]) ring.add(event(position));
    expect(ring.newest).toBe(3);
    const seen: number[] = [];
    ring.forEachAfter(0, (item) => {
      seen.push(item.position);
      return seen.length < 2;
    });
    expect(seen).toEqual([1, 2]);
  });
});
