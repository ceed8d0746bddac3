/**
 * @parley/simulation — the deterministic simulation kit.
 *
 * What it does: seeded random streams, virtual time with an event queue, a
 * simulated network that injects named faults, and linearizability checkers
 * for key-value and append-only-log histories. A simulator (Raft's, the
 * federation's) wires sans-IO cores to these and replays any run from its seed.
 *
 * What it doesn't: it knows nothing of Raft, rooms or storage; it never reads
 * the real clock, Math.random, timers or sockets; it does not crash nodes
 * (losing volatile state is the simulator's job — the network only marks an
 * endpoint down).
 *
 * What callers owe it: all randomness from one root `createRandom(seed)`,
 * forked per consumer; all time from one `SimulatedScheduler`; payloads that
 * are immutable after `send` (or a `clonePayload`); a failing run prints its
 * seed and the command that replays it (see README).
 */

export {
  type AppendLogResult,
  checkAppendLogHistory,
  type LogCall,
  type LogOperation,
  type LogResult,
} from "./linearizability/append-log-checker.ts";
export { HistoryRecorder, type Operation, type Outcome } from "./linearizability/history.ts";
export type { SequentialModel, StepOutcome } from "./linearizability/model.ts";
export {
  checkRegisterHistory,
  type LinearizabilityResult,
  type RegisterCheckOptions,
  type RegisterCounterexample,
} from "./linearizability/register-checker.ts";
export {
  type RegisterCall,
  type RegisterOperation,
  type RegisterResult,
  type RegisterValue,
  registerModel,
} from "./linearizability/register-model.ts";
export { SimulationMisuseError } from "./misuse.ts";
export {
  chooseFaultProfile,
  describeFaultProfile,
  type FaultProfile,
  quietFaults,
} from "./network/faults.ts";
export type { EndpointId, PartitionId } from "./network/links.ts";
export { Nemesis, type NemesisOptions } from "./network/nemesis.ts";
export {
  type DropReason,
  dropReasons,
  type NetworkOptions,
  type NetworkStatistics,
  type Packet,
  type PacketCopy,
  type Receiver,
  SimulatedNetwork,
} from "./network/network.ts";
export {
  formatTraceEvent,
  type NetworkTraceEvent,
  type NetworkTraceKind,
} from "./network/trace.ts";
export { sampleExponential } from "./random/distribution.ts";
export { createRandom, type Random, seedMax } from "./random/random.ts";
export type { Clock } from "./time/clock.ts";
export {
  type RunResult,
  type RunStop,
  type SchedulerOptions,
  SimulatedScheduler,
  type TimerId,
} from "./time/scheduler.ts";
