/**
 * The configuration of one Raft node, with every limit named and defaulted.
 */
import { assert } from "../assert.ts";
import type { Storage } from "../storage/storage.ts";
import type { LogIndex, NodeId, RandomSource } from "../types.ts";
import { NO_TESTING_BUGS, type TestingBugs } from "./testing-bugs.ts";

/**
 * Where the core reports what it does and why. The core logs only on state
 * changes and unusual events, never per entry or per heartbeat, so a logger
 * costs little even with thousands of groups.
 */
export interface RaftLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const SILENT_LOGGER: RaftLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Used only to randomize the election timeout. */
  readonly random: RandomSource;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The
   * actual timeout is drawn from [electionTimeoutTicks, 2 * electionTimeoutTicks).
   * Also the CheckQuorum interval and the leader lease. Default 10.
   */
  readonly electionTimeoutTicks?: number;
  /** Ticks between a leader's heartbeats; must be less than the election timeout. Default 1. */
  readonly heartbeatIntervalTicks?: number;
  /**
   * The last index the application has applied, when restarting. Entries up
   * to it are not handed out again. Default: the storage's snapshot index.
   * Storage's initialState().confState must be the configuration as of this
   * index (see InitialState).
   */
  readonly applied?: LogIndex;
  /** Bound on the entries of one append message, in bytes (at least one entry is always sent). Default 1 MiB. */
  readonly appendMessageBytesMax?: number;
  /** Bound on the committed entries handed out by one Ready, in bytes (at least one). Default 4 MiB. */
  readonly committedEntriesPerReadyBytesMax?: number;
  /**
   * Bound on the leader's uncommitted log tail, in payload bytes; proposals
   * beyond it are dropped. Protects memory when a quorum is slow. Default 8 MiB.
   */
  readonly uncommittedEntriesBytesMax?: number;
  /** Per-follower pipelining window, in append messages. Default 64. */
  readonly inflightMessagesMax?: number;
  /** Per-follower pipelining window, in bytes (soft). Default: unbounded. */
  readonly inflightBytesMax?: number;
  /** Bound on ReadIndex requests waiting at the leader; more are dropped. Default 4096. */
  readonly pendingReadRequestsMax?: number;
  /** Raft thesis §9.6: rehearse an election before disrupting the group. Default true. */
  readonly preVote?: boolean;
  /**
   * The leader steps down if it has not heard from a quorum within an
   * election timeout, and followers ignore vote requests while they have a
   * leader (the lease). Default true.
   */
  readonly checkQuorum?: boolean;
  /** Followers drop proposals instead of forwarding them to the leader. Default false. */
  readonly disableProposalForwarding?: boolean;
  /**
   * Let idle groups go quiet (see README "Quiescence"). Requires the caller to
   * report peer liveness with `peerLivenessChanged`. Default false.
   */
  readonly quiesce?: boolean;
  readonly logger?: RaftLogger;
  /** TEST ONLY: injected bugs for the simulator's self-test (see testing-bugs.ts). Never set. */
  readonly testingBugs?: TestingBugs;
}

export interface ResolvedRaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  readonly random: RandomSource;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly applied: LogIndex;
  readonly appendMessageBytesMax: number;
  readonly committedEntriesPerReadyBytesMax: number;
  readonly uncommittedEntriesBytesMax: number;
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
  readonly pendingReadRequestsMax: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly disableProposalForwarding: boolean;
  readonly quiesce: boolean;
  readonly logger: RaftLogger;
  readonly testingBugs: TestingBugs;
}

const MEBIBYTE = 1024 * 1024;

export function resolveConfig(config: RaftConfig): ResolvedRaftConfig {
  const resolved: ResolvedRaftConfig = {
    id: config.id,
    storage: config.storage,
    random: config.random,
    electionTimeoutTicks: config.electionTimeoutTicks ?? 10,
    heartbeatIntervalTicks: config.heartbeatIntervalTicks ?? 1,
    applied: config.applied ?? 0,
    appendMessageBytesMax: config.appendMessageBytesMax ?? MEBIBYTE,
    committedEntriesPerReadyBytesMax: config.committedEntriesPerReadyBytesMax ?? 4 * MEBIBYTE,
    uncommittedEntriesBytesMax: config.uncommittedEntriesBytesMax ?? 8 * MEBIBYTE,
    inflightMessagesMax: config.inflightMessagesMax ?? 64,
    inflightBytesMax: config.inflightBytesMax ?? Number.POSITIVE_INFINITY,
    pendingReadRequestsMax: config.pendingReadRequestsMax ?? 4096,
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    disableProposalForwarding: config.disableProposalForwarding ?? false,
    quiesce: config.quiesce ?? false,
    logger: config.logger ?? SILENT_LOGGER,
    testingBugs: config.testingBugs ?? NO_TESTING_BUGS,
  };
  assert(resolved.heartbeatIntervalTicks > 0, "heartbeat interval must be positive");
  assert(
    resolved.electionTimeoutTicks > resolved.heartbeatIntervalTicks,
    "election timeout must be longer than the heartbeat interval",
  );
  assert(resolved.inflightMessagesMax > 0, "inflight window must be positive");
  assert(
    resolved.inflightBytesMax >= resolved.appendMessageBytesMax,
    "inflight byte budget must hold at least one full append message",
  );
  assert(resolved.pendingReadRequestsMax > 0, "pending read bound must be positive");
  return resolved;
}
