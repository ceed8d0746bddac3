/**
 * @parley/federation — the pure (sans-IO) cores of federation between homeservers.
 *
 * What it does:
 * - routing/: link-state tables, each room's spanning tree over its sponsors
 *   (Kruskal with per-room weights), leaf attachment (rendezvous hashing),
 *   and where a message goes next;
 * - message-lane/: stamping at a sponsor, deduplication by (origin,
 *   sequence) with high-water marks, re-checking at the stamped control
 *   index (holding until it applies), history order, mark exchange and backfill;
 * - control-lane/: control records, the chained control log, the room replica
 *   (state machine + authorization history) shared by sponsors and leaves;
 * - consensus/: one MultiRaftHost per server running a Raft group per
 *   sponsored room, ticking only awake groups, coalescing heartbeats per
 *   peer, and moving each group's configuration towards the sponsor set;
 * - frames/: every server-to-server frame as canonical CBOR, validated with
 *   limits when decoded;
 * - host/: FederationHost, one server's whole federation core: inputs in
 *   (ticks, link events, frames, local requests), effects out;
 * - simulation/: a whole federation on the simulated network, with invariants.
 *
 * What it does not: no sockets, timers, clock, randomness or database. The
 * caller owns the links (authenticated, one per server pair), the durable
 * outbound queues, discovery, and storage (FederationStorage).
 *
 * What callers owe it: a tick at a fixed interval; link up/down events from
 * the transport; every frame's bytes with the authenticated peer name;
 * durability of the storage writes of an input before its frames are sent
 * (`mustSync`); authenticated users (device signatures checked before
 * `sendMessage` / `proposeControl`). README.md and docs/protocol.md, chapter 12, say more.
 */

export {
  type GroupStorageProvider,
  MemoryGroupStorage,
  type SnapshotSource,
  SnapshottingStorage,
} from "./consensus/group-storage.ts";
export { expandHeartbeats, HeartbeatBatch } from "./consensus/heartbeat-batch.ts";
export {
  MultiRaftHost,
  type MultiRaftOptions,
  type ProcessResult,
  type RaftOutput,
} from "./consensus/multi-raft-host.ts";
export { type GroupApplier, type GroupRaftSettings, RaftGroup } from "./consensus/raft-group.ts";
export { type MembershipStep, nextMembershipStep } from "./consensus/sponsor-membership.ts";
export { AuthorizationHistory } from "./control-lane/authorization-history.ts";
export {
  type ControlRecord,
  decodeControlRecord,
  encodeControlRecord,
  genesisChainHash,
  nextChainHash,
} from "./control-lane/control-record.ts";
export {
  type AppliedRecord,
  decodeControlSnapshot,
  encodeControlSnapshot,
  RoomReplica,
} from "./control-lane/room-replica.ts";
export { sharedSecretKeys } from "./control-lane/shared-secret-keys.ts";
export {
  CommitChecker,
  type CommitVerdict,
  type GroupVerdict,
} from "./encryption/commit-checker.ts";
export type {
  AttachFrame,
  BackfillRequestFrame,
  BackfillResponseFrame,
  ClaimedKeyPackage,
  ControlFrame,
  ControlRecordAt,
  ControlSnapshot,
  DetachFrame,
  DeviceListFrame,
  Frame,
  FrameType,
  HeartbeatFrame,
  HeartbeatItem,
  HeartbeatResponseItem,
  KeyPackageClaimFailure,
  KeyPackageClaimFrame,
  KeyPackageClaimResultFrame,
  LinkAdvertisement,
  LinkStateFrame,
  MarksFrame,
  NodeQueryFrame,
  NodeStatusFrame,
  OriginMark,
  OriginReceipt,
  RaftEnvelope,
  RaftFrame,
  ReceiptsFrame,
  RefusalCode,
  RoomReceipts,
  RoutedFrame,
  Submission,
  SubmissionOutcome,
  SubmitFrame,
  SubmitResultFrame,
} from "./frames/frame.ts";
export { frameTypes } from "./frames/frame.ts";
export { decodeFrame, encodeFrame, frameValue } from "./frames/frame-codec.ts";
export {
  type CertifiedRecordsGap,
  certifiedRecordsFrom,
} from "./host/certified-view.ts";
export type {
  FederationEffects,
  FederationEvent,
  LocalSubmissionOutcome,
  MembershipChange,
  OutgoingFrame,
} from "./host/effects.ts";
export { FederationHost, type FederationHostOptions } from "./host/federation-host.ts";
export {
  type FederationStorage,
  type LeafControlLog,
  MemoryFederationStorage,
  type RoomMembershipRecord,
} from "./host/federation-storage.ts";
export { defaultHostTiming, type HostTiming } from "./host/host-context.ts";
export type { RoomSession } from "./host/room-session.ts";
export {
  isSponsorNodeId,
  parseSponsorNodeId,
  type SponsorNode,
  serverOfNode,
  sponsorNodeId,
} from "./identity/sponsor-node-id.ts";
export * as federationLimits from "./limits.ts";
export {
  type AntiEntropyTiming,
  defaultAntiEntropyTiming,
} from "./message-lane/anti-entropy.ts";
export { compareHistoryOrder, visibleHistory } from "./message-lane/history-order.ts";
export {
  type AcceptOutcome,
  type Clock,
  type ControlView,
  type LaneOutput,
  type LaneStatistics,
  type MessageLaneOptions,
  RoomMessageLane,
} from "./message-lane/message-lane.ts";
export { MemoryMessageStore, type RoomMessageStore } from "./message-lane/message-store.ts";
export { OriginMarks } from "./message-lane/origin-marks.ts";
export {
  type MessageId,
  type MessageVerdict,
  messageKey,
  type StampedMessage,
  type StoredMessage,
  submissionKey,
} from "./message-lane/stamped-message.ts";
export { forwardingTargets } from "./routing/forwarding.ts";
export {
  attachmentPreference,
  attachmentScore,
  chooseAttachment,
} from "./routing/leaf-attachment.ts";
export { LinkStateTable } from "./routing/link-state.ts";
export { edgeWeight, type SpanningTree, spanningTree } from "./routing/spanning-tree.ts";
