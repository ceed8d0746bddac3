import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ControlRecordAt } from "../frames/frame.ts";
import { controlFrameRecordBytesTarget, controlRecordsPerFrameMax } from "../limits.ts";
import { recordBatches } from "./record-batches.ts";

const mebibyte = 1024 * 1024;

function records(sizes: readonly number[]): ControlRecordAt[] {
  return sizes.map((size, position) => ({
    index: position + 1,
    chainHash: new Uint8Array(32),
    record: new Uint8Array(size),
  }));
}

function bytesOf(batch: readonly ControlRecordAt[]): number {
  return batch.reduce((sum, at) => sum + at.record.length, 0);
}

describe("control frame record batches", () => {
  it("keep every record once, in order, within the count and byte bounds", () => {
    const size = fc.oneof(
      fc.integer({ min: 1, max: 4096 }),
      fc.integer({ min: mebibyte, max: 3 * mebibyte }),
    );
    fc.assert(
      fc.property(fc.array(size, { maxLength: 600 }), (sizes) => {
        const batches = recordBatches(records(sizes));
        expect(batches.flat().map((at) => at.index)).toEqual(sizes.map((_, i) => i + 1));
        for (const [position, batch] of batches.entries()) {
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(controlRecordsPerFrameMax);
          if (batch.length > 1)
            expect(bytesOf(batch)).toBeLessThanOrEqual(controlFrameRecordBytesTarget);
          // A batch ends only when the next record would not have fitted.
          const next = batches[position + 1]?.[0];
          if (next !== undefined && batch.length < controlRecordsPerFrameMax) {
            expect(bytesOf(batch) + next.record.length).toBeGreaterThan(
              controlFrameRecordBytesTarget,
            );
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("send a record larger than the byte target alone", () => {
    const batches = recordBatches(records([10, controlFrameRecordBytesTarget + 1, 10]));
    expect(batches.map((batch) => batch.length)).toEqual([1, 1, 1]);
  });

  it("make no batch of nothing", () => {
    expect(recordBatches([])).toEqual([]);
  });
});
