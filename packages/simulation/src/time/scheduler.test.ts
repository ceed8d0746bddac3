import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SimulationMisuseError } from "../misuse.ts";
import { BinaryHeap } from "./binary-heap.ts";
import { SimulatedScheduler, type TimerId } from "./scheduler.ts";

describe("SimulatedScheduler ordering", () => {
  it("runs events by time, and events at the same time in the order they were scheduled", () => {
    const scheduler = new SimulatedScheduler();
    const order: string[] = [];
    scheduler.scheduleAt(20, () => order.push("b@20"));
    scheduler.scheduleAt(10, () => order.push("first@10"));
    scheduler.scheduleAt(20, () => order.push("c@20"));
    scheduler.scheduleAt(10, () => order.push("second@10"));
    scheduler.scheduleAt(20, () => order.push("d@20"));
    expect(scheduler.runUntilIdle()).toEqual({ eventsRun: 5, stoppedBecause: "idle" });
    expect(order).toEqual(["first@10", "second@10", "b@20", "c@20", "d@20"]);
    expect(scheduler.nowMs()).toBe(20);
  });

  it("runs a zero-delay event scheduled by an action after what was already due", () => {
    const scheduler = new SimulatedScheduler();
    const order: string[] = [];
    scheduler.scheduleAt(5, () => {
      order.push("parent");
      scheduler.scheduleAfter(0, () => order.push("child"));
    });
    scheduler.scheduleAt(5, () => order.push("sibling"));
    scheduler.runUntilIdle();
    expect(order).toEqual(["parent", "sibling", "child"]);
  });

  it("matches a stable sort by time for any schedule (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const scheduler = new SimulatedScheduler();
        const ran: number[] = [];
        times.forEach((timeMs, index) => {
          scheduler.scheduleAt(timeMs, () => ran.push(index));
        });
        scheduler.runUntilIdle();
        const expected = times
          .map((timeMs, index) => ({ timeMs, index }))
          .sort((a, b) => a.timeMs - b.timeMs || a.index - b.index)
          .map((entry) => entry.index);
        expect(ran).toEqual(expected);
      }),
    );
  });
});

describe("SimulatedScheduler cancel", () => {
  it("skips cancelled events and reports whether the event was pending", () => {
    const scheduler = new SimulatedScheduler();
    const ran: string[] = [];
    const keep = scheduler.scheduleAfter(10, () => ran.push("keep"));
    const drop = scheduler.scheduleAfter(10, () => ran.push("drop"));
    expect(scheduler.cancel(drop)).toBe(true);
    expect(scheduler.cancel(drop)).toBe(false);
    expect(scheduler.pendingCount).toBe(1);
    scheduler.runUntilIdle();
    expect(ran).toEqual(["keep"]);
    expect(scheduler.cancel(keep)).toBe(false);
  });

  it("stays correct through heap compaction after many cancellations", () => {
    const scheduler = new SimulatedScheduler();
    const ran: number[] = [];
    const ids: TimerId[] = [];
    for (let index = 0; index < 5_000; index += 1) {
      ids.push(scheduler.scheduleAt(5_000 - index, () => ran.push(index)));
    }
    ids.forEach((id, index) => {
      if (index % 10 !== 0) {
        scheduler.cancel(id);
      }
    });
    expect(scheduler.pendingCount).toBe(500);
    scheduler.runUntilIdle();
    expect(ran).toHaveLength(500);
    expect(ran[0]).toBe(4_990);
    expect(ran.at(-1)).toBe(0);
  });
});

describe("SimulatedScheduler runs", () => {
  it("runs until a time, inclusive, and leaves the clock there", () => {
    const scheduler = new SimulatedScheduler({ startMs: 100 });
    const ran: number[] = [];
    for (const timeMs of [110, 120, 130]) {
      scheduler.scheduleAt(timeMs, () => ran.push(timeMs));
    }
    expect(scheduler.runUntil(120)).toEqual({ eventsRun: 2, stoppedBecause: "time-reached" });
    expect(ran).toEqual([110, 120]);
    expect(scheduler.nowMs()).toBe(120);
    expect(scheduler.nextEventTimeMs()).toBe(130);
    scheduler.runUntil(500);
    expect(scheduler.nowMs()).toBe(500);
    expect(scheduler.nextEventTimeMs()).toBeUndefined();
  });

  it("stops a livelock at the event budget and says so", () => {
    const scheduler = new SimulatedScheduler();
    const rearm = (): void => {
      scheduler.scheduleAfter(0, rearm);
    };
    scheduler.scheduleAfter(0, rearm);
    expect(scheduler.runUntilIdle(1_000)).toEqual({
      eventsRun: 1_000,
      stoppedBecause: "event-limit",
    });
    expect(scheduler.runEvents(3)).toEqual({ eventsRun: 3, stoppedBecause: "event-limit" });
    expect(scheduler.runUntil(10, 50).stoppedBecause).toBe("event-limit");
    expect(scheduler.nowMs()).toBe(0);
    expect(scheduler.eventsRunTotal).toBe(1_053);
  });

  it("refuses misuse: the past, fractions, reentrancy", () => {
    const scheduler = new SimulatedScheduler({ startMs: 10 });
    expect(() => scheduler.scheduleAt(9, () => {})).toThrow(SimulationMisuseError);
    expect(() => scheduler.scheduleAfter(1.5, () => {})).toThrow(SimulationMisuseError);
    expect(() => scheduler.scheduleAfter(-1, () => {})).toThrow(SimulationMisuseError);
    expect(() => scheduler.runUntil(5)).toThrow(SimulationMisuseError);
    scheduler.scheduleAfter(1, () => scheduler.runUntilIdle());
    expect(() => scheduler.runUntilIdle()).toThrow(SimulationMisuseError);
  });
});

describe("BinaryHeap", () => {
  it("pops in order and rebuilds after retain (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), (values) => {
        const heap = new BinaryHeap<number>((a, b) => a < b);
        for (const value of values) {
          heap.push(value);
        }
        heap.retain((value) => value % 3 !== 0);
        const popped: number[] = [];
        for (let value = heap.pop(); value !== undefined; value = heap.pop()) {
          popped.push(value);
        }
        expect(popped).toEqual(values.filter((value) => value % 3 !== 0).sort((a, b) => a - b));
      }),
    );
  });
});
