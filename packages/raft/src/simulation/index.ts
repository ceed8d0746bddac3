/**
 * The simulator as a library (`@parley/raft/simulation`), for the
 * benchmark and other runners; `npm run sim` is its command line.
 */
export { type BatchResult, runSeeds, type SeedRange } from "./batch.ts";
export { runSeedsInWorkers } from "./parallel.ts";
export { describeResult, describeRunSummary } from "./report.ts";
export { runSimulation, type SimulationFailure, type SimulationResult } from "./run.ts";
export {
  defaultDurationMs,
  defaultOptions,
  type InjectedBug,
  injectedBugs,
  replayCommand,
  type SimulationOptions,
} from "./scenario.ts";
