/**
 * Summaries of repeated rounds. The machine is shared and noisy, so every
 * figure is a median over rounds, and the note beside it gives the spread
 * (the lowest and highest round) so a reader can judge it.
 */
import { median } from "../harness.ts";

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0)
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, rounds: 0 };
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    rounds: finite.length,
  };
}

/** "median of 5 rounds, range 1.2–3.4", with the digits a figure deserves. */
export function describeSpread(spread: Spread): string {
  if (spread.rounds <= 1) return "1 round";
  return `median of ${spread.rounds} rounds, range ${format(spread.min)}–${format(spread.max)}`;
}

function format(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toPrecision(3);
}
