/**
 * Many seeds in a row on this thread: what `npm run sim -- --seeds N`, the
 * test and the `raft-sim` benchmark run. Failures are kept whole (each names
 * its seed and replay command); passing runs only add to the totals.
 */
import { runSimulation, type SimulationResult } from "./run.ts";
import { defaultOptions, type InjectedBug } from "./scenario.ts";

export interface SeedRange {
  readonly firstSeed: number;
  readonly count: number;
  /** The fault phase of each run (the liveness phase follows). */
  readonly durationMs: number;
  readonly bugs: readonly InjectedBug[];
}

export interface BatchResult {
  readonly seeds: number;
  readonly failures: readonly SimulationResult[];
  readonly events: number;
  readonly virtualMs: number;
  readonly elapsedMs: number;
}

/** Runs every seed of `range`; `onFailure` hears of each failure as it happens. */
export function runSeeds(
  range: SeedRange,
  onFailure: (result: SimulationResult) => void = () => {},
): BatchResult {
  const failures: SimulationResult[] = [];
  const startedAt = performance.now();
  let events = 0;
  let virtualMs = 0;
  for (let seed = range.firstSeed; seed < range.firstSeed + range.count; seed++) {
    const result = runSimulation({
      ...defaultOptions(seed),
      durationMs: range.durationMs,
      bugs: range.bugs,
    });
    events += result.eventsRun;
    virtualMs += result.virtualMs;
    if (result.failure !== null) {
      failures.push(result);
      onFailure(result);
    }
  }
  return {
    seeds: range.count,
    failures,
    events,
    virtualMs,
    elapsedMs: performance.now() - startedAt,
  };
}
