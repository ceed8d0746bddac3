/**
 * The raft benchmark's settings for a full and a smoke run, its shared
 * constants, and the helpers that turn rounds into figures.
 */
import type { Figure } from "../harness.ts";
import type { LoadOptions } from "./load.ts";
import { describeSpread, type Spread } from "./rounds.ts";

/** What differs between a full run and a smoke run. */
export interface Settings {
  readonly inProcessRounds: number;
  readonly inProcessRoundMs: number;
  readonly loopbackRounds: number;
  readonly loopbackRoundMs: number;
  /** Proposals in flight tried for the saturation figures; the best median counts. */
  readonly saturationLevels: readonly number[];
  readonly failoverTrials: number;
  /** Milliseconds per tick for the failover trials with the default timeouts. */
  readonly failoverTickMs: number;
  /** A shorter tick tried for comparison (none in smoke runs). */
  readonly failoverComparisonTickMs: number | null;
  readonly idleGroups: number;
  readonly idleRounds: number;
  readonly idleWindowMs: number;
  readonly idleSettleMs: number;
}

export const fullSettings: Settings = {
  inProcessRounds: 5,
  inProcessRoundMs: 1_000,
  loopbackRounds: 5,
  loopbackRoundMs: 2_500,
  saturationLevels: [256, 1024],
  failoverTrials: 7,
  failoverTickMs: 100,
  failoverComparisonTickMs: 50,
  idleGroups: 10_000,
  idleRounds: 5,
  idleWindowMs: 2_000,
  idleSettleMs: 2_000,
};

/** A few hundred milliseconds per part; a short tick so that a failover is quick. */
export const smokeSettings: Settings = {
  inProcessRounds: 1,
  inProcessRoundMs: 150,
  loopbackRounds: 1,
  loopbackRoundMs: 200,
  saturationLevels: [64],
  failoverTrials: 1,
  failoverTickMs: 10,
  failoverComparisonTickMs: null,
  idleGroups: 30,
  idleRounds: 1,
  idleWindowMs: 150,
  idleSettleMs: 150,
};

export const PAYLOAD_BYTES = 128;
/** Parley's tick and timeouts (README: a tick of about 100 ms; the core's defaults). */
export const TICK_MS = 100;
export const ELECTION_TIMEOUT_TICKS = 10;
export const HEARTBEAT_INTERVAL_TICKS = 1;

export const targets = {
  throughput: "target 20,000/s and over 3× etcd",
  latency: "target p50 < 1 ms",
  failover: "target < 1 s",
  idle: "target < 5% of a core",
};

export function loadOptions(concurrency: number, durationMs: number): LoadOptions {
  return { concurrency, count: 5_000_000, durationMs, payloadBytes: PAYLOAD_BYTES };
}

export function figure(name: string, spread: Spread, unit: string, note = ""): Figure {
  const text = [describeSpread(spread), note].filter((part) => part !== "").join("; ");
  return { name, value: spread.median, unit, note: text };
}
