// The device steps of a receipt (docs/protocol.md §12.13), pure: given where
// one origin's messages sit in this server's stream and the acknowledged
// cursors of this server's devices in the room, `[sequence, count]` pairs
// saying how many devices acknowledged every message 1..sequence.
//
// A device covers sequence s when its cursor is at or past the stream
// position of every message up to s; positions need not grow with the
// sequence (backfill stores older messages later), so the test is against
// the running maximum. Only a window of the newest sequences is looked at:
// older ones are taken as covered by a device that covers the window's
// first, which can only matter for messages the sender's server no longer
// tracks (it tracks its users' newest 1,024).

export interface OriginWindow {
  /** The sequence of `positions[0]`. */
  readonly firstSequence: number;
  /**
   * This server's stream position of each sequence from `firstSequence` on,
   * consecutive; 0 for a held message that is not in the stream (refused).
   */
  readonly positions: readonly number[];
}

/**
 * Builds the window from `originPositions` rows (any order, gaps allowed),
 * up to `held` and no further than the newest message in the stream: a held
 * message not in the stream yet must not count as acknowledged. A gap inside
 * the window is a held message that is not in the stream (refused), which
 * no device can acknowledge and which must not hold the later ones back.
 */
export function originWindow(
  rows: ReadonlyArray<{ readonly sequence: number; readonly streamPosition: number }>,
  held: number,
): OriginWindow {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const row of rows) {
    if (row.sequence < 1 || row.sequence > held) continue;
    first = Math.min(first, row.sequence);
    last = Math.max(last, row.sequence);
  }
  if (last === 0) return { firstSequence: 1, positions: [] };
  const positions = new Array<number>(last - first + 1).fill(0);
  for (const row of rows) {
    const offset = row.sequence - first;
    if (offset >= 0 && offset < positions.length) positions[offset] = row.streamPosition;
  }
  return { firstSequence: first, positions };
}

/** The highest sequence a device with this cursor covers (firstSequence − 1 if none in the window). */
function coveredThrough(
  runningMaximum: readonly number[],
  firstSequence: number,
  cursor: number,
): number {
  let low = 0;
  let high = runningMaximum.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((runningMaximum[middle] ?? 0) <= cursor) low = middle + 1;
    else high = middle;
  }
  return firstSequence - 1 + low;
}

/**
 * The steps, sequences ascending and counts descending, at most `stepsMax`.
 * With more distinct values, evenly spaced ones are kept: a device whose
 * value was dropped counts only for the kept steps below it, which
 * under-reports and never over-reports.
 */
export function deviceSteps(
  window: OriginWindow,
  cursors: readonly number[],
  stepsMax: number,
): Array<[number, number]> {
  const runningMaximum: number[] = [];
  let maximum = 0;
  for (const position of window.positions) {
    maximum = Math.max(maximum, position);
    runningMaximum.push(maximum);
  }
  if (window.positions.length === 0) return [];
  const covered = cursors
    .map((cursor) => coveredThrough(runningMaximum, window.firstSequence, cursor))
    .filter((sequence) => sequence >= 1)
    .sort((a, b) => a - b);
  const distinct = [...new Set(covered)];
  const kept =
    distinct.length <= stepsMax
      ? distinct
      : Array.from(
          { length: stepsMax },
          (_, index) => distinct[Math.round((index * (distinct.length - 1)) / (stepsMax - 1))] ?? 0,
        );
  // covered is ascending: the devices at or beyond a value are those from its first index on.
  return kept.map((sequence) => [sequence, covered.length - covered.indexOf(sequence)]);
}
