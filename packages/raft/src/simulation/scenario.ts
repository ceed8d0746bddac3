/**
 * What one simulated run looks like: the options a human passes (seed,
 * duration, injected bugs) and the scenario the seed chooses by itself
 * (swarm testing: group size, timing, fault rates, crash and membership
 * rates, workload mix and fault biases all vary per seed, so a bug that needs
 * "tiny appends and a crash right after a vote" is not hidden by one fixed mix).
 */
import {
  chooseFaultProfile,
  describeFaultProfile,
  type FaultProfile,
  quietFaults,
  type Random,
} from "@parley/simulation";

/**
 * Bugs the simulator can inject to prove its checks have teeth (see
 * README "Simulator"). The first five live in the simulator's own code (the
 * disk, the Ready loop, the state machine, the read path); the last two are
 * test-only switches of the core (`RaftConfig.testingBugs`).
 */
export type InjectedBug =
  /** The simulated disk never saves votedFor: a restarted node may vote twice in a term. */
  | "forgetVote"
  /** The Ready loop sends messages before the write they vouch for is synced. */
  | "sendBeforePersist"
  /**
   * The Ready loop calls advance() before its sync completes (replies still
   * wait for it): the leader counts its own entries before they are durable.
   */
  | "advanceBeforeSync"
  /** The state machine applies a retried (client, sequence) command again. */
  | "noClientDedup"
  /** Reads are served from the local state machine, skipping ReadIndex. */
  | "staleLocalReads"
  /** The leader commits entries of earlier terms by counting replicas (Raft Figure 8). */
  | "commitPriorTermByCounting"
  /** A candidate counts every granted vote message, so a duplicate counts twice. */
  | "countVotesPerMessage";

export const injectedBugs: readonly InjectedBug[] = [
  "forgetVote",
  "sendBeforePersist",
  "advanceBeforeSync",
  "noClientDedup",
  "staleLocalReads",
  "commitPriorTermByCounting",
  "countVotesPerMessage",
];

export function isInjectedBug(name: string): name is InjectedBug {
  return (injectedBugs as readonly string[]).includes(name);
}

export interface SimulationOptions {
  readonly seed: number;
  /** Virtual time of the fault phase; the liveness phase follows. */
  readonly durationMs: number;
  readonly bugs: readonly InjectedBug[];
  /** Keep a readable timeline (elections, crashes, changes) for a verbose replay. */
  readonly timeline: boolean;
  /** Also keep the core's log lines and the whole network trace. */
  readonly trace: boolean;
}

/** The fault phase of `npm run sim`; the test uses shorter runs. */
export const defaultDurationMs = 10_000;

export function defaultOptions(seed: number): SimulationOptions {
  return { seed, durationMs: defaultDurationMs, bugs: [], timeline: false, trace: false };
}

/** Everything the seed decides about a run. Times are virtual milliseconds. */
export interface Scenario {
  readonly initialVoters: number;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly quiesce: boolean;
  /** 1 sends one entry per append message, which exposes per-index commit rules. */
  readonly appendMessageBytesMax: number;
  readonly inflightMessagesMax: number;
  readonly uncommittedEntriesBytesMax: number;
  /** Time an fsync takes; 0 makes a Ready's write and sync one event. */
  readonly diskSyncMs: number;
  /** Whether a crash loses writes not yet synced (a random suffix of them). */
  readonly crashLosesUnsyncedWrites: boolean;
  /** Snapshot and compact every so many applied entries; 0 never. */
  readonly compactionEveryEntries: number;
  /** Entries kept behind the snapshot, for slow followers. */
  readonly compactionKeepEntries: number;
  /**
   * 0: the state machine is volatile and rebuilt from snapshot and log after
   * a crash. Otherwise it is durable, saved after an apply with this
   * probability, and a restart resumes from it (RawNode's `applied`).
   */
  readonly stateMachineCheckpointProbability: number;
  readonly clients: number;
  readonly registerKeys: number;
  readonly logKeys: number;
  /** Share of reads served through ReadIndex rather than through the log. */
  readonly readIndexShare: number;
  readonly readShare: number;
  readonly clientThinkMsMean: number;
  readonly clientAttemptTimeoutMs: number;
  readonly clientAttemptsMax: number;
  readonly faults: FaultProfile;
  readonly clientFaults: FaultProfile;
  /** Mean time between crashes of a random node; 0 for none. */
  readonly crashIntervalMsMean: number;
  readonly downtimeMsMean: number;
  /** Mean time between membership changes; 0 for none. */
  readonly membershipIntervalMsMean: number;
  /** Mean time between leadership transfers; 0 for none. */
  readonly transferIntervalMsMean: number;
  /** Mean time between isolations of the current leader; 0 for none. */
  readonly leaderIsolationIntervalMsMean: number;
  /** How long the caller's failure detector takes to report a crash. */
  readonly failureDetectionMs: number;
  readonly bias: FaultBias;
}

/**
 * Faults aimed at the moments where Raft's rules matter most (FoundationDB's
 * BUGGIFY, TigerBeetle's replays). A seed hunts one kind of moment, so the
 * faults a scenario needs arrive together rather than each in a few seeds:
 *  - "elections": split votes (tight timeouts, small groups), voters that
 *    crash right after voting, vote requests replayed after the election,
 *    granted votes duplicated;
 *  - "commits": Figure 8 — new leaders cut off before their first entry
 *    spreads (leaving divergent uncommitted tails), one entry per append
 *    message, and leaders that crash right after advancing their commit;
 *  - "membership": configuration changes back to back, on slow disks, with
 *    snapshots every few entries (so changes, snapshots and applies overlap);
 *  - "mixed": each bias on or off by itself; "none": no bias.
 */
export type Hunt = "elections" | "commits" | "membership" | "mixed" | "none";

export interface FaultBias {
  readonly hunt: Hunt;
  /** Mean time between crashes of the leader (back before the next election ends); 0 for none. */
  readonly leaderCrashIntervalMsMean: number;
  /** A node that just granted a vote crashes at once and restarts quickly. */
  readonly crashAfterVoteProbability: number;
  /** A leader that just advanced its commit index is cut off before its next messages leave. */
  readonly isolateLeaderAfterCommitProbability: number;
  /** A node that just won an election is cut off before its first messages leave. */
  readonly isolateNewLeaderProbability: number;
  /** A vote request arrives again, after the election it belonged to. */
  readonly voteRequestReplayProbability: number;
  /** A granted vote arrives twice. */
  readonly voteResponseDuplicationProbability: number;
  /** Election timeouts barely differ, so candidates often collide (split votes). */
  readonly tightElectionJitter: boolean;
}

const noBias: Omit<FaultBias, "hunt"> = {
  leaderCrashIntervalMsMean: 0,
  crashAfterVoteProbability: 0,
  isolateLeaderAfterCommitProbability: 0,
  isolateNewLeaderProbability: 0,
  voteRequestReplayProbability: 0,
  voteResponseDuplicationProbability: 0,
  tightElectionJitter: false,
};

function chooseBias(random: Random): FaultBias {
  const hunt = random.pick<Hunt>(["elections", "commits", "membership", "mixed", "none"]);
  const enabled = (): boolean => random.chance(0.5);
  switch (hunt) {
    case "elections":
      return {
        ...noBias,
        hunt,
        leaderCrashIntervalMsMean: random.pick([200, 500]),
        crashAfterVoteProbability: random.pick([0.3, 0.6]),
        voteRequestReplayProbability: random.pick([0.3, 0.6]),
        voteResponseDuplicationProbability: random.pick([0.5, 1]),
        tightElectionJitter: true,
      };
    case "commits":
      return {
        ...noBias,
        hunt,
        isolateLeaderAfterCommitProbability: random.pick([0.3, 0.6]),
        isolateNewLeaderProbability: random.pick([0.5, 0.8]),
      };
    case "mixed":
      return {
        hunt,
        leaderCrashIntervalMsMean: enabled() ? random.pick([500, 2_000]) : 0,
        crashAfterVoteProbability: enabled() ? random.pick([0.05, 0.3]) : 0,
        isolateLeaderAfterCommitProbability: enabled() ? random.pick([0.005, 0.02]) : 0,
        isolateNewLeaderProbability: enabled() ? random.pick([0.05, 0.2]) : 0,
        voteRequestReplayProbability: enabled() ? random.pick([0.1, 0.5]) : 0,
        voteResponseDuplicationProbability: enabled() ? random.pick([0.1, 0.5]) : 0,
        tightElectionJitter: random.chance(0.3),
      };
    case "membership":
    case "none":
      return { ...noBias, hunt };
  }
}

export function chooseScenario(random: Random): Scenario {
  const enabled = (): boolean => random.chance(0.5);
  const bias = chooseBias(random.fork("bias"));
  const tickMs = random.pick([5, 10, 20]);
  const electionTimeoutTicks = random.pick([5, 10, 20]);
  const electionTimeoutMs = tickMs * electionTimeoutTicks;
  const faults = chooseFaultProfile(random.fork("faults"));
  const initialVoters = random.integerBetween(3, 7);
  const appendMessageBytesMax = random.pick([1, 1, 256, 1024 * 1024]);
  const inflightMessagesMax = random.pick([1, 4, 64]);
  const diskSyncMs = random.pick([0, 0, 1, 3]);
  const crashLosesUnsyncedWrites = random.chance(0.5);
  const elections = bias.hunt === "elections";
  const commits = bias.hunt === "commits";
  const membership = bias.hunt === "membership";
  const compactionEveryEntries = random.pick([0, 5, 20, 100]);
  const membershipIntervalMsMean = enabled() ? random.pick([300, 1_000]) : 0;
  // A vote is at risk while its write is being synced, and slow disks (a
  // spinning disk's 10 ms fsync) widen the window in which a node has work
  // handed out but not yet advanced. An election needs two fsyncs and a
  // round trip within the timeout, so the timeout bounds the fsync: beyond
  // that a group livelocks in elections, as a real one would.
  const slowDiskSyncMs = random.pick([5, 20]);
  const diskSyncMsMax = Math.max(1, Math.floor(electionTimeoutMs / 10));
  return {
    // Few voters: one voter's second vote, or one follower's acknowledgement,
    // must make a majority; a duplicated grant makes a false majority from 4.
    initialVoters: elections
      ? random.pick([3, 4, 5, 5])
      : commits
        ? random.pick([3, 3, 3, 5])
        : initialVoters,
    tickMs,
    electionTimeoutTicks,
    heartbeatIntervalTicks: random.pick([1, 1, 2]),
    preVote: random.chance(0.85),
    checkQuorum: random.chance(0.85),
    quiesce: random.chance(0.3),
    // One entry per message lets a quorum hold index i but not i + 1.
    appendMessageBytesMax: commits ? 1 : appendMessageBytesMax,
    inflightMessagesMax: commits ? 1 : inflightMessagesMax,
    uncommittedEntriesBytesMax: random.pick([512, 8 * 1024 * 1024]),
    diskSyncMs: Math.min(
      diskSyncMsMax,
      membership ? slowDiskSyncMs : elections ? Math.max(1, diskSyncMs) : diskSyncMs,
    ),
    crashLosesUnsyncedWrites: elections || crashLosesUnsyncedWrites,
    compactionEveryEntries: membership ? random.pick([2, 5]) : compactionEveryEntries,
    compactionKeepEntries: membership ? 0 : random.pick([0, 0, 5]),
    stateMachineCheckpointProbability: random.pick([0, 0, 0.2, 1]),
    clients: random.integerBetween(1, 5),
    registerKeys: random.integerBetween(1, 3),
    logKeys: random.integerBetween(0, 2),
    readIndexShare: random.pick([0, 0.5, 1]),
    readShare: random.pick([0.3, 0.5, 0.7]),
    clientThinkMsMean: random.pick([5, 20, 100]),
    clientAttemptTimeoutMs: electionTimeoutMs * random.pick([2, 5]),
    clientAttemptsMax: random.pick([2, 5]),
    faults,
    clientFaults: chooseClientFaults(random.fork("client-faults")),
    crashIntervalMsMean: enabled() ? random.pick([300, 1_000, 3_000]) : 0,
    downtimeMsMean: random.pick([20, 200, 2_000]),
    membershipIntervalMsMean: membership ? random.pick([50, 150]) : membershipIntervalMsMean,
    transferIntervalMsMean: enabled() ? random.pick([300, 1_000]) : 0,
    leaderIsolationIntervalMsMean: enabled() ? random.pick([500, 2_000]) : 0,
    failureDetectionMs: random.pick([0, electionTimeoutMs]),
    bias,
  };
}

/**
 * Clients reach the servers over their own network: no partitions (a client
 * simply retries elsewhere), but lost, duplicated and late requests, which
 * is what client sessions are for.
 */
function chooseClientFaults(random: Random): FaultProfile {
  return {
    ...quietFaults,
    delayMsMin: 1,
    delayMsMean: random.pick([2, 10]),
    delayMsMax: 50,
    delayTailMsMax: 50,
    lossProbability: random.pick([0, 0.01, 0.05]),
    duplicationProbability: random.pick([0, 0.05, 0.2]),
    replayProbability: random.pick([0, 0.02, 0.1]),
    replayDelayMsMin: 50,
    replayDelayMsMax: random.pick([500, 3_000]),
  };
}

export function electionTimeoutMs(scenario: Scenario): number {
  return scenario.tickMs * scenario.electionTimeoutTicks;
}

/** The scenario as a few readable lines, for a failure report or a verbose replay. */
export function describeScenario(scenario: Scenario): string {
  const bias = scenario.bias;
  const every = (ms: number): string => (ms === 0 ? "never" : `every ~${ms} ms`);
  return [
    `group: ${scenario.initialVoters} voters, tick ${scenario.tickMs} ms, election ${scenario.electionTimeoutTicks} ticks, heartbeat ${scenario.heartbeatIntervalTicks} ticks, preVote ${scenario.preVote}, checkQuorum ${scenario.checkQuorum}, quiesce ${scenario.quiesce}`,
    `flow: append ≤ ${scenario.appendMessageBytesMax} B, inflight ≤ ${scenario.inflightMessagesMax}, uncommitted ≤ ${scenario.uncommittedEntriesBytesMax} B; disk sync ${scenario.diskSyncMs} ms, crash loses unsynced ${scenario.crashLosesUnsyncedWrites}; compaction ${scenario.compactionEveryEntries === 0 ? "never" : `every ${scenario.compactionEveryEntries} entries, keep ${scenario.compactionKeepEntries}`}; state machine ${scenario.stateMachineCheckpointProbability === 0 ? "volatile" : `durable, saved after ${scenario.stateMachineCheckpointProbability} of applies`}`,
    `workload: ${scenario.clients} clients, ${scenario.registerKeys} registers, ${scenario.logKeys} logs, reads ${scenario.readShare} (ReadIndex ${scenario.readIndexShare}), think ~${scenario.clientThinkMsMean} ms, attempt timeout ${scenario.clientAttemptTimeoutMs} ms × ${scenario.clientAttemptsMax}`,
    `network: ${describeFaultProfile(scenario.faults)}`,
    `client network: ${describeFaultProfile(scenario.clientFaults)}`,
    `nodes: crash ${every(scenario.crashIntervalMsMean)} (down ~${scenario.downtimeMsMean} ms, detected after ${scenario.failureDetectionMs} ms), membership ${every(scenario.membershipIntervalMsMean)}, transfer ${every(scenario.transferIntervalMsMean)}, leader isolation ${every(scenario.leaderIsolationIntervalMsMean)}`,
    `bias (hunting ${bias.hunt}): crash leader ${every(bias.leaderCrashIntervalMsMean)}, crash after vote ${bias.crashAfterVoteProbability}, isolate leader after commit ${bias.isolateLeaderAfterCommitProbability}, isolate new leader ${bias.isolateNewLeaderProbability}, vote request replay ${bias.voteRequestReplayProbability}, vote response duplication ${bias.voteResponseDuplicationProbability}, tight election jitter ${bias.tightElectionJitter}`,
  ].join("\n");
}

/** The command that replays a run exactly (at the same commit). */
export function replayCommand(options: SimulationOptions): string {
  const parts = ["npm run sim --", "--seed", String(options.seed)];
  if (options.durationMs !== defaultDurationMs)
    parts.push("--duration-ms", String(options.durationMs));
  for (const bug of options.bugs) parts.push("--bug", bug);
  return parts.join(" ");
}
