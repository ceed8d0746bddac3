import type { ControlRecordAt } from "../frames/frame.ts";
import { controlFrameRecordBytesTarget, controlRecordsPerFrameMax } from "../limits.ts";

/**
 * Records split into the batches of consecutive control frames: at most
 * `controlRecordsPerFrameMax` each, and no more record bytes than
 * `controlFrameRecordBytesTarget` unless a single record is larger (it then
 * travels alone). No batch is empty.
 */
export function recordBatches(records: readonly ControlRecordAt[]): ControlRecordAt[][] {
  const batches: ControlRecordAt[][] = [];
  let batch: ControlRecordAt[] = [];
  let batchBytes = 0;
  for (const record of records) {
    const full =
      batch.length === controlRecordsPerFrameMax ||
      (batch.length > 0 && batchBytes + record.record.length > controlFrameRecordBytesTarget);
    if (full) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(record);
    batchBytes += record.record.length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
