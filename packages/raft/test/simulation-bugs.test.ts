/**
 * The simulator's checks have teeth: with each known bug injected (in the
 * simulator's disk, Ready loop, state machine or read path, or through the
 * core's test-only `testingBugs` switches), some seed within the budget must
 * fail, and fail for the right reason. The same seeds pass without the bug
 * (simulation.test.ts runs them). README "Simulator" has the measured rates.
 */
import { describe, expect, it } from "vitest";
import { runSimulation, type SimulationFailure } from "../src/simulation/run.ts";
import { defaultOptions, type InjectedBug, replayCommand } from "../src/simulation/scenario.ts";

/** The brief's bound on seeds per bug; each is caught far sooner today. */
const seedsMax = 2_000;
const durationMs = 1_500;

const safety: SimulationFailure["invariant"][] = [
  "election safety",
  "log matching",
  "committed entry changed",
  "leader completeness",
  "state machine safety",
];

const expected: Record<InjectedBug, readonly SimulationFailure["invariant"][]> = {
  forgetVote: safety,
  // Acknowledged entries lost in a crash can also trip the core's own checks
  // (a commit index beyond the log) or leave a follower the leader never repairs.
  sendBeforePersist: [...safety, "durable commit", "core assertion", "liveness"],
  // Only the durability check sees it: the leader's write usually lands
  // before anything can go wrong, so the commit rule is checked directly.
  advanceBeforeSync: ["durable commit"],
  noClientDedup: ["linearizability"],
  staleLocalReads: ["linearizability"],
  commitPriorTermByCounting: safety,
  countVotesPerMessage: safety,
};

function firstFailure(bug: InjectedBug) {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const options = { ...defaultOptions(seed), durationMs, bugs: [bug] };
    const { failure } = runSimulation(options);
    if (failure !== null) return { seed, failure, replay: replayCommand(options) };
  }
  return null;
}

describe("Raft simulator catches injected bugs", () => {
  for (const bug of Object.keys(expected) as InjectedBug[]) {
    it(`catches ${bug} within ${seedsMax} seeds`, () => {
      const caught = firstFailure(bug);
      expect(caught, `${bug} survived ${seedsMax} seeds`).not.toBeNull();
      if (caught === null) return;
      const { seed, failure, replay } = caught;
      expect(
        expected[bug],
        `seed ${seed} failed for an unexpected reason: [${failure.invariant}] ${failure.message}\n  replay: ${replay}`,
      ).toContain(failure.invariant);
    }, 120_000);
  }
});
