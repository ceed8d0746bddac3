/**
 * @parley/raft — a pure (sans-IO) Raft consensus core in the shape of
 * etcd-io/raft's RawNode.
 *
 * What it does: leader election (PreVote + CheckQuorum), log replication with
 * batching and pipelining, snapshots and log compaction, membership changes
 * (learners, joint consensus), leadership transfer, ReadIndex reads (safe
 * mode), quiescence of idle groups, and a client-session table for
 * deduplicating retried proposals at apply time.
 *
 * What it does not do: no timers, clock, randomness, disk or network. The
 * caller ticks it, delivers messages, persists and sends what `ready()`
 * returns, applies committed entries, and calls `advance()`. README.md
 * describes that loop and its ordering rules; read it before using RawNode.
 */

export { RaftAssertionError } from "./assert.ts";
export { ConfChangeError } from "./confchange/changer.ts";
export type { RaftConfig, RaftLogger } from "./core/config.ts";
export { SILENT_LOGGER } from "./core/config.ts";
export type { ProposalDropReason, ProposeResult } from "./core/proposal.ts";
export type { ReadIndexDropReason, ReadIndexResult } from "./core/read-index.ts";
export type { SnapshotStatus } from "./core/step-leader.ts";
export type { DataFormatter } from "./describe.ts";
export {
  defaultDataFormatter,
  describeConfChange,
  describeConfState,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeSoftState,
} from "./describe.ts";
export type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  MessageType,
  ProposeMessage,
  ReadIndexMessage,
  ReadIndexResponseMessage,
  SnapshotMessage,
  TimeoutNowMessage,
  TransferLeaderMessage,
  VoteMessage,
  VoteResponseMessage,
} from "./message.ts";
export { isHeartbeatMessage, isResponseMessage } from "./message.ts";
export type { ProgressStatus, Ready, Status } from "./raw-node.ts";
export { RawNode } from "./raw-node.ts";
export type {
  ClientCommand,
  ClientSessionLimits,
  ClientSessionSnapshot,
  SessionDecision,
} from "./session/client-sessions.ts";
export { ClientSessionTable } from "./session/client-sessions.ts";
export { MemoryStorage } from "./storage/memory-storage.ts";
export type {
  InitialState,
  Storage,
  StorageErrorCode,
  WritableStorage,
} from "./storage/storage.ts";
export { isStorageError, StorageError } from "./storage/storage.ts";
export type { ProgressState } from "./tracker/progress.ts";
export type {
  ConfChange,
  ConfChangeEntry,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  Entry,
  EntryPayload,
  HardState,
  LogIndex,
  NodeId,
  NormalEntry,
  RaftRole,
  RandomSource,
  ReadState,
  Snapshot,
  SnapshotMetadata,
  SoftState,
  Term,
} from "./types.ts";
export {
  confStatesEqual,
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  entryBytes,
  entryPayloadBytes,
  isLeaveJoint,
  leaveJointChange,
  NODE_ID_LENGTH_MAX,
  nodeId,
} from "./types.ts";
