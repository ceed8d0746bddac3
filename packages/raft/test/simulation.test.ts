/**
 * The Raft simulator over many seeds: every run must keep Raft's safety
 * properties, make progress once healed, and give clients a linearizable
 * history. A failure prints each failing seed with the command that replays
 * it. RAFT_SIM_SEEDS and RAFT_SIM_FIRST_SEED run other seeds (a nightly
 * soak: RAFT_SIM_SEEDS=20000 RAFT_SIM_FIRST_SEED=<random>).
 */
import { describe, expect, it } from "vitest";
import { describeResult } from "../src/simulation/report.ts";
import { runSimulation } from "../src/simulation/run.ts";
import { defaultOptions } from "../src/simulation/scenario.ts";

const { RAFT_SIM_SEEDS, RAFT_SIM_FIRST_SEED } = process.env;
const seedCount = Number(RAFT_SIM_SEEDS ?? 500);
const firstSeed = Number(RAFT_SIM_FIRST_SEED ?? 1);
/** Short runs: many seeds find more than a few long ones, and the CLI does long ones. */
const durationMs = 1_500;

describe("Raft simulator", () => {
  it(`keeps safety, liveness and linearizability over ${seedCount} seeds`, () => {
    const failures: string[] = [];
    for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
      const result = runSimulation({ ...defaultOptions(seed), durationMs });
      if (result.failure !== null) failures.push(describeResult(result));
    }
    expect(failures, `${failures.length} seeds failed:\n${failures.join("\n")}`).toEqual([]);
  }, 120_000);

  it("does not strand the group when the leader is removed (seed 601021, etcd-io/etcd#10563)", () => {
    // Before removed leaders handed over, this seed ended with no possible
    // leader: the removed leader held the newest log and refused the votes
    // of survivors that still counted it as a voter.
    const result = runSimulation(defaultOptions(601021));
    expect(result.failure, describeResult(result)).toBeNull();
  }, 60_000);

  it("replays a seed exactly: same events, same network trace, same story", () => {
    const options = { ...defaultOptions(7), durationMs: 3_000, timeline: true };
    const first = runSimulation(options);
    const second = runSimulation(options);
    expect(second.eventsRun).toBe(first.eventsRun);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.timeline).toEqual(first.timeline);
    expect(second.statistics).toEqual(first.statistics);
    // Tracing only records: the traced replay is the same run.
    const traced = runSimulation({ ...options, trace: true });
    expect(traced.fingerprint).toBe(first.fingerprint);
    expect(traced.eventsRun).toBe(first.eventsRun);
  });

  it("exercises what it claims: elections, crashes, changes, snapshots, restarts, clients", () => {
    let terms = 0;
    let crashes = 0;
    let configurationProposals = 0;
    let completed = 0;
    let unknown = 0;
    let snapshotsInstalled = 0;
    let resumed = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const { statistics } = runSimulation({ ...defaultOptions(seed), durationMs });
      terms += statistics.leaderTerms;
      crashes += statistics.cluster.crashes;
      configurationProposals += statistics.chaos.configurationProposals;
      completed += statistics.clients.completed;
      unknown += statistics.clients.gaveUp;
      snapshotsInstalled += statistics.cluster.snapshotsInstalled;
      resumed += statistics.cluster.resumedFromStateMachine;
    }
    expect(terms).toBeGreaterThan(100);
    expect(crashes).toBeGreaterThan(50);
    expect(configurationProposals).toBeGreaterThan(20);
    expect(completed).toBeGreaterThan(500);
    expect(unknown).toBeGreaterThan(10);
    expect(snapshotsInstalled).toBeGreaterThan(10);
    expect(resumed).toBeGreaterThan(10);
  });
});
