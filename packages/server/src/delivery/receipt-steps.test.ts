import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { devicesCovering } from "./delivery-counts.ts";
import { deviceSteps, originWindow } from "./receipt-steps.ts";

/** The definition, by brute force: devices whose cursor is at or past every position up to `sequence`. */
function naiveCount(
  positions: ReadonlyMap<number, number>,
  cursors: readonly number[],
  sequence: number,
): number {
  return cursors.filter((cursor) => {
    for (let at = 1; at <= sequence; at += 1) {
      if ((positions.get(at) ?? 0) > cursor) return false;
    }
    return true;
  }).length;
}

const scenario = fc
  .record({
    held: fc.integer({ min: 1, max: 40 }),
    positions: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 40, maxLength: 40 }),
    present: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    cursors: fc.array(fc.integer({ min: 0, max: 220 }), { maxLength: 25 }),
  })
  .map(({ held, positions, present, cursors }) => {
    // Messages 1..held in the stream (some refused: absent), the last one always present.
    const rows = positions
      .slice(0, held)
      .map((streamPosition, index) => ({ sequence: index + 1, streamPosition }))
      .filter((row, index) => present[index] === true || row.sequence === held);
    return { held, rows, cursors };
  });

describe("receipt device steps", () => {
  it("agree with the definition for every sequence when nothing is cut", () => {
    fc.assert(
      fc.property(scenario, ({ held, rows, cursors }) => {
        const steps = deviceSteps(originWindow(rows, held), cursors, 1000);
        const positions = new Map(rows.map((row) => [row.sequence, row.streamPosition]));
        for (let sequence = 1; sequence <= held; sequence += 1) {
          expect(devicesCovering(steps, sequence)).toBe(naiveCount(positions, cursors, sequence));
        }
      }),
    );
  });

  it("never over-report when merged to a few steps, and keep the frame's order", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 2, max: 5 }), ({ held, rows, cursors }, stepsMax) => {
        const steps = deviceSteps(originWindow(rows, held), cursors, stepsMax);
        expect(steps.length).toBeLessThanOrEqual(stepsMax);
        const positions = new Map(rows.map((row) => [row.sequence, row.streamPosition]));
        for (let index = 1; index < steps.length; index += 1) {
          const [sequence, count] = steps[index] ?? [0, 0];
          const [before, countBefore] = steps[index - 1] ?? [0, 0];
          expect(sequence).toBeGreaterThan(before);
          expect(count).toBeLessThanOrEqual(countBefore);
        }
        for (let sequence = 1; sequence <= held; sequence += 1) {
          expect(devicesCovering(steps, sequence)).toBeLessThanOrEqual(
            naiveCount(positions, cursors, sequence),
          );
        }
      }),
    );
  });

  it("counts nothing beyond the newest message in the stream", () => {
    const window = originWindow([{ sequence: 1, streamPosition: 10 }], 3);
    expect(deviceSteps(window, [100, 100], 32)).toEqual([[1, 2]]);
    expect(deviceSteps(originWindow([], 3), [100], 32)).toEqual([]);
  });
});
