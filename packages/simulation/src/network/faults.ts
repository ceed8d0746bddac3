import { ensure } from "../misuse.ts";
import { sampleExponential } from "../random/distribution.ts";
import type { Random } from "../random/random.ts";

/**
 * Every rate of every fault the simulated network injects. Times are whole
 * milliseconds, probabilities are in [0, 1].
 *
 * Per packet (decided when it is sent):
 * - delay: `delayMsMin + Exponential(delayMsMean - delayMsMin)`, capped at
 *   `delayMsMax`; with `delayTailProbability` the packet instead takes a
 *   long-tail delay uniform in [delayMsMax, delayTailMsMax]. Independent delays
 *   are what reorder packets.
 * - loss: the packet is dropped.
 * - duplication: a second copy travels with its own delay.
 * - replay: a copy is held back and delivered again much later, uniform in
 *   [replayDelayMsMin, replayDelayMsMax]: an old packet arriving long after the
 *   protocol has moved on.
 *
 * Per nemesis step (every `nemesisIntervalMs`, see `Nemesis`):
 * - partition: when the nemesis has none active, start one with
 *   `partitionProbability`; it is one-way with `partitionOneWayProbability`,
 *   and it lasts Exponential(`partitionDurationMsMean`).
 * - clog: with `clogProbability`, one direction of one link holds its packets
 *   for Exponential(`clogDurationMsMean`), then releases them.
 */
export interface FaultProfile {
  readonly delayMsMin: number;
  readonly delayMsMean: number;
  readonly delayMsMax: number;
  readonly delayTailProbability: number;
  readonly delayTailMsMax: number;
  readonly lossProbability: number;
  readonly duplicationProbability: number;
  readonly replayProbability: number;
  readonly replayDelayMsMin: number;
  readonly replayDelayMsMax: number;
  readonly partitionProbability: number;
  readonly partitionOneWayProbability: number;
  readonly partitionDurationMsMean: number;
  readonly clogProbability: number;
  readonly clogDurationMsMean: number;
  readonly nemesisIntervalMs: number;
}

/**
 * A network that only delays (1–10 ms) and reorders: for happy-path tests and
 * for the liveness phase after `heal()`, where progress must follow.
 */
export const quietFaults: FaultProfile = {
  delayMsMin: 1,
  delayMsMean: 3,
  delayMsMax: 10,
  delayTailProbability: 0,
  delayTailMsMax: 10,
  lossProbability: 0,
  duplicationProbability: 0,
  replayProbability: 0,
  replayDelayMsMin: 0,
  replayDelayMsMax: 0,
  partitionProbability: 0,
  partitionOneWayProbability: 0,
  partitionDurationMsMean: 0,
  clogProbability: 0,
  clogDurationMsMean: 0,
  nemesisIntervalMs: 100,
};

/**
 * Swarm testing: each seed picks its own fault rates. Every fault is switched
 * off entirely in about half the seeds and otherwise takes a rate from a short
 * menu spanning rare to brutal, because a bug that needs "much duplication but
 * no loss" is invisible under one fixed mix (Groce et al., "Swarm Testing").
 */
export function chooseFaultProfile(random: Random): FaultProfile {
  const enabled = (): boolean => random.chance(0.5);
  const delayMsMin = random.pick([0, 1, 5]);
  const delayMsMean = delayMsMin + random.pick([1, 5, 20, 50]);
  const delayMsMax = delayMsMin + (delayMsMean - delayMsMin) * random.pick([3, 10]);
  const replayDelayMsMax = random.pick([500, 2_000, 10_000]);
  return {
    delayMsMin,
    delayMsMean,
    delayMsMax,
    delayTailProbability: enabled() ? random.pick([0.001, 0.01]) : 0,
    delayTailMsMax: delayMsMax * random.pick([5, 20]),
    lossProbability: enabled() ? random.pick([0.001, 0.01, 0.05, 0.2]) : 0,
    duplicationProbability: enabled() ? random.pick([0.001, 0.01, 0.1]) : 0,
    replayProbability: enabled() ? random.pick([0.001, 0.01, 0.05]) : 0,
    replayDelayMsMin: Math.min(replayDelayMsMax, delayMsMax),
    replayDelayMsMax,
    partitionProbability: enabled() ? random.pick([0.01, 0.05, 0.2]) : 0,
    partitionOneWayProbability: random.pick([0, 0.3, 1]),
    partitionDurationMsMean: random.pick([200, 1_000, 5_000]),
    clogProbability: enabled() ? random.pick([0.01, 0.05]) : 0,
    clogDurationMsMean: random.pick([100, 1_000]),
    nemesisIntervalMs: 100,
  };
}

/** Throws `SimulationMisuseError` unless every field is in range and consistent. */
export function validateFaultProfile(profile: FaultProfile): void {
  const probabilities = [
    profile.delayTailProbability,
    profile.lossProbability,
    profile.duplicationProbability,
    profile.replayProbability,
    profile.partitionProbability,
    profile.partitionOneWayProbability,
    profile.clogProbability,
  ];
  for (const probability of probabilities) {
    ensure(probability >= 0 && probability <= 1, `fault probability out of [0, 1]: ${probability}`);
  }
  const times = [
    profile.delayMsMin,
    profile.delayMsMean,
    profile.delayMsMax,
    profile.delayTailMsMax,
    profile.replayDelayMsMin,
    profile.replayDelayMsMax,
    profile.partitionDurationMsMean,
    profile.clogDurationMsMean,
    profile.nemesisIntervalMs,
  ];
  for (const time of times) {
    ensure(Number.isSafeInteger(time) && time >= 0, `fault time must be whole ms ≥ 0: ${time}`);
  }
  ensure(
    profile.delayMsMin <= profile.delayMsMean &&
      profile.delayMsMean <= profile.delayMsMax &&
      profile.delayMsMax <= profile.delayTailMsMax,
    "delays must satisfy min ≤ mean ≤ max ≤ tail max",
  );
  ensure(profile.replayDelayMsMin <= profile.replayDelayMsMax, "replay delay min exceeds max");
  ensure(profile.nemesisIntervalMs >= 1, "the nemesis interval must be at least 1 ms");
}

/** One line naming every non-zero fault, for the report a failing seed prints. */
export function describeFaultProfile(profile: FaultProfile): string {
  const parts = [
    `delay ${profile.delayMsMin}/${profile.delayMsMean}/${profile.delayMsMax} ms (min/mean/max)`,
  ];
  const rates: Array<[string, number]> = [
    [`tail to ${profile.delayTailMsMax} ms`, profile.delayTailProbability],
    ["loss", profile.lossProbability],
    ["duplication", profile.duplicationProbability],
    [
      `replay ${profile.replayDelayMsMin}–${profile.replayDelayMsMax} ms later`,
      profile.replayProbability,
    ],
    [
      `partition (${profile.partitionOneWayProbability} one-way, mean ${profile.partitionDurationMsMean} ms)`,
      profile.partitionProbability,
    ],
    [`clog (mean ${profile.clogDurationMsMean} ms)`, profile.clogProbability],
  ];
  for (const [name, probability] of rates) {
    if (probability > 0) {
      parts.push(`${name} ${probability}`);
    }
  }
  return parts.join(", ");
}

/** One packet's delay under `profile` (see `FaultProfile`), in whole milliseconds. */
export function sampleDelayMs(random: Random, profile: FaultProfile): number {
  if (random.chance(profile.delayTailProbability)) {
    return random.integerBetween(profile.delayMsMax, profile.delayTailMsMax);
  }
  const extraMs = Math.round(sampleExponential(random, profile.delayMsMean - profile.delayMsMin));
  return Math.min(profile.delayMsMax, profile.delayMsMin + extraMs);
}

/** A duration of Exponential(meanMs), at least 1 ms, in whole milliseconds. */
export function sampleDurationMs(random: Random, meanMs: number): number {
  return Math.max(1, Math.round(sampleExponential(random, meanMs)));
}
