import {
  chooseFaultProfile,
  describeFaultProfile,
  type FaultProfile,
  type Random,
} from "@parley/simulation";

/** How sponsors beyond the creator come to be. */
export type SponsorGrowth =
  /** The creator's server adds them with explicit add-sponsor entries (policy "fixed"). */
  | "explicit"
  /** The admin invites a user of each; the room's policy ("invited-by-admin") wants them. */
  | "invited-by-admin";

/** One seed's federation: its size, timings, faults and workload (swarm testing: each seed its own). */
export interface Scenario {
  readonly sponsorCount: number;
  readonly leafCount: number;
  readonly usersPerServer: number;
  readonly sponsorGrowth: SponsorGrowth;
  readonly tickMs: number;
  /** Link liveness probe period and the silence after which a link counts as down. */
  readonly probeMs: number;
  readonly linkTimeoutMs: number;
  /** Ticks between full link-state table refreshes (the steady phase waits longer than this). */
  readonly linkStateRefreshTicks: number;
  /** Ticks between a leaf's attach refreshes, and after which a sponsor forgets an unrefreshed leaf. */
  readonly attachRefreshTicks: number;
  readonly attachExpiryTicks: number;
  readonly chaosMs: number;
  readonly healMsMax: number;
  readonly steadyMs: number;
  /** Mean time between workload actions during chaos. */
  readonly actionIntervalMs: number;
  /** Share of actions that are control changes (the rest are messages). */
  readonly controlShare: number;
  /** Share of control changes that change the sponsor set. */
  readonly sponsorChangeShare: number;
  /** Crashes per simulated second during chaos, and how long a crashed server stays down. */
  readonly crashesPerSecond: number;
  readonly downMsMax: number;
  readonly faults: FaultProfile;
  /** Messages sent in the steady phase, whose copies are counted. */
  readonly steadyMessages: number;
  /** Encode and decode every frame (true), or pass frame objects (false, faster). */
  readonly encodeFrames: boolean;
}

export interface ScenarioOverrides {
  readonly chaosMs?: number;
  readonly encodeFrames?: boolean;
  readonly sponsorCount?: number;
  readonly leafCount?: number;
}

/**
 * The base shape is the brief's 3 sponsors and 2 leaves; about half the seeds
 * vary it (1–4 sponsors, 0–3 leaves, sponsors grown by policy), and every
 * seed draws its own fault rates from the simulation kit's swarm profiles.
 */
export function chooseScenario(random: Random, overrides: ScenarioOverrides = {}): Scenario {
  const base = random.chance(0.5);
  return {
    sponsorCount: overrides.sponsorCount ?? (base ? 3 : random.integerBetween(1, 4)),
    leafCount: overrides.leafCount ?? (base ? 2 : random.integerBetween(0, 3)),
    usersPerServer: 2,
    sponsorGrowth: random.chance(0.3) ? "invited-by-admin" : "explicit",
    tickMs: 100,
    probeMs: 200,
    linkTimeoutMs: 700,
    linkStateRefreshTicks: 20,
    attachRefreshTicks: 20,
    attachExpiryTicks: 50,
    chaosMs: overrides.chaosMs ?? 6_000,
    healMsMax: 15_000,
    steadyMs: 2_000,
    actionIntervalMs: random.pick([30, 60, 120]),
    controlShare: random.pick([0.1, 0.25, 0.4]),
    sponsorChangeShare: random.chance(0.5) ? random.pick([0.05, 0.2]) : 0,
    crashesPerSecond: random.chance(0.5) ? random.pick([0.1, 0.3, 0.6]) : 0,
    downMsMax: random.pick([500, 2_000, 4_000]),
    faults: chooseFaultProfile(random),
    steadyMessages: 6,
    encodeFrames: overrides.encodeFrames ?? true,
  };
}

export function describeScenario(scenario: Scenario): string {
  return [
    `${scenario.sponsorCount} sponsors (${scenario.sponsorGrowth}), ${scenario.leafCount} leaves`,
    `chaos ${scenario.chaosMs} ms, action every ~${scenario.actionIntervalMs} ms, control share ${scenario.controlShare} (sponsor changes ${scenario.sponsorChangeShare})`,
    `crashes ${scenario.crashesPerSecond}/s, down up to ${scenario.downMsMax} ms`,
    describeFaultProfile(scenario.faults),
  ].join("; ");
}
