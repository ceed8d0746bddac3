/**
 * TEST ONLY. Deliberately broken behaviours that the simulator switches on
 * to prove its checks catch them (packages/raft/src/simulation, README
 * "Simulator"). Every flag defaults to off, and nothing outside the
 * simulator's tests may set one: each breaks Raft's safety.
 */
export interface TestingBugs {
  /**
   * The leader commits the entry a quorum holds even if it is from an
   * earlier term (the rule Raft §5.4.2 and Figure 8 forbid).
   */
  readonly commitPriorTermByCounting?: boolean;
  /**
   * A candidate counts every granted vote message, so a duplicated grant
   * counts as a second voter.
   */
  readonly countVotesPerMessage?: boolean;
}

export const NO_TESTING_BUGS: TestingBugs = Object.freeze({});
