import type { MlsFailureCode } from "@parley/mls";
/**
 * The server-to-server frames the federation cores emit and accept. One
 * authenticated link between two servers carries all of them, for every room
 * the two share; each frame is one canonical CBOR map with a `type` field
 * (frame-codec.ts), validated with limits when decoded. docs/protocol.md, chapter 12, is the
 * specification; this file is its TypeScript mirror.
 */
import type { ControlCertificate, DeviceId, RoomId, ServerName, UserId } from "@parley/protocol";
import type { Message, NodeId } from "@parley/raft";
import type { RoomRejectionCode } from "@parley/room";
import type { StampedMessage } from "../message-lane/stamped-message.ts";

/** One Raft message of one room's group. */
export interface RaftEnvelope {
  readonly room: RoomId;
  readonly message: Message;
}

/** Raft messages (other than heartbeats) of any rooms, from one server to another. */
export interface RaftFrame {
  readonly type: "raft";
  readonly messages: readonly RaftEnvelope[];
}

/**
 * A heartbeat of one room's group. The link names both servers, so a node id
 * is carried as its incarnation only (see sponsor-node-id.ts).
 */
export interface HeartbeatItem {
  readonly room: RoomId;
  readonly fromIncarnation: number;
  readonly toIncarnation: number;
  readonly term: number;
  readonly commit: number;
  readonly readRound: number;
  readonly quiesce: boolean;
}

export interface HeartbeatResponseItem {
  readonly room: RoomId;
  readonly fromIncarnation: number;
  readonly toIncarnation: number;
  readonly term: number;
  readonly readRound: number;
}

/** Every heartbeat (and response) from one server to another in one tick: one frame, not one per room. */
export interface HeartbeatFrame {
  readonly type: "heartbeats";
  readonly heartbeats: readonly HeartbeatItem[];
  readonly responses: readonly HeartbeatResponseItem[];
}

/**
 * A server's statement of which links it has up, versioned by a sequence
 * that only grows. A link counts as live when both ends list each other.
 */
export interface LinkAdvertisement {
  readonly server: ServerName;
  readonly sequence: number;
  /** Sorted, without duplicates, never the server itself. */
  readonly peers: readonly ServerName[];
}

/** Link-state advertisements, flooded between servers (routing/link-state.ts). */
export interface LinkStateFrame {
  readonly type: "link-state";
  readonly advertisements: readonly LinkAdvertisement[];
}

/** An application message on its way along a room's spanning tree. */
export interface RoutedFrame {
  readonly type: "routed";
  readonly message: StampedMessage;
  /** The servers the message has passed through, origin server first; never repeats a server. */
  readonly path: readonly ServerName[];
}

/** "I hold every message of `origin` up to `sequence`" (the origin's contiguous high-water mark). */
export interface OriginMark {
  readonly origin: NodeId;
  readonly sequence: number;
}

/** A room's high-water marks, plus the control index the sender has applied. */
export interface MarksFrame {
  readonly type: "marks";
  readonly room: RoomId;
  readonly controlIndex: number;
  /** Sorted by origin; origins with mark 0 are left out. */
  readonly marks: readonly OriginMark[];
}

/** Asks for messages of `origin` with sequence above `after`, at most `countMax` of them. */
export interface BackfillRequestFrame {
  readonly type: "backfill-request";
  readonly room: RoomId;
  readonly origin: NodeId;
  readonly after: number;
  readonly countMax: number;
}

/** Messages of one origin in ascending sequence (possibly with gaps the responder also lacks). */
export interface BackfillResponseFrame {
  readonly type: "backfill-response";
  readonly room: RoomId;
  readonly origin: NodeId;
  readonly messages: readonly StampedMessage[];
}

/** A leaf asks a sponsor to feed it the room: control records after `controlIndex`, and messages. */
export interface AttachFrame {
  readonly type: "attach";
  readonly room: RoomId;
  readonly controlIndex: number;
}

export interface DetachFrame {
  readonly type: "detach";
  readonly room: RoomId;
}

/**
 * A sponsor tells a server that one of its users was invited to a room the
 * server does not take part in (neither sponsor nor attached leaf), naming
 * the room's sponsors, so the server can follow the room as a leaf and tell
 * its user. Sent once, by the group's leader, when the invite applies.
 */
export interface InviteFrame {
  readonly type: "invite";
  readonly room: RoomId;
  /** The room's sponsors when the invite applied: sorted, without duplicates, at least one. */
  readonly sponsors: readonly ServerName[];
}

/** A sponsor node asks a sponsor peer whether the room still counts it (see NodeStatusFrame). */
export interface NodeQueryFrame {
  readonly type: "node-query";
  readonly room: RoomId;
  readonly node: NodeId;
}

/**
 * The answer, from a server running the room's group: its applied control
 * index, the incarnation its state gives the node's server (0: not a
 * sponsor), and whether its applied Raft configuration includes the node.
 */
export interface NodeStatusFrame {
  readonly type: "node-status";
  readonly room: RoomId;
  readonly node: NodeId;
  readonly controlIndex: number;
  readonly incarnation: number;
  readonly inConfiguration: boolean;
}

/** The state at a control index, with the chain hash there. Also the data of Raft snapshots. */
export interface ControlSnapshot {
  readonly index: number;
  readonly chainHash: Uint8Array;
  /** The room state, encoded by the room package (encodeRoomSnapshot). */
  readonly state: Uint8Array;
  /** Each sponsor's incarnation (the control index that made it a sponsor), sorted by server. */
  readonly incarnations: readonly (readonly [ServerName, number])[];
}

/** A committed control record at its index, with the chain hash after it. */
export interface ControlRecordAt {
  readonly index: number;
  readonly chainHash: Uint8Array;
  /** The encoded control record (control-lane/control-record.ts). */
  readonly record: Uint8Array;
}

/**
 * Committed control records for a leaf: consecutive, starting right after
 * the leaf's applied index or right after `snapshot` if one is included.
 */
export interface ControlFrame {
  readonly type: "control";
  readonly room: RoomId;
  readonly snapshot: ControlSnapshot | null;
  readonly records: readonly ControlRecordAt[];
  /** The sponsor's newest certificate (§12.6.1); a leaf applies only up to a certificate it verified. */
  readonly certificate: ControlCertificate | null;
}

/** A sponsor's signature of (room, index, chain hash at index), sent to the room's other sponsors (§12.6.1). */
export interface ControlSignatureFrame {
  readonly type: "control-signature";
  readonly room: RoomId;
  readonly index: number;
  readonly chainHash: Uint8Array;
  readonly signature: Uint8Array;
}

/** What a leaf's user wants a sponsor to do. */
export type Submission =
  | {
      readonly kind: "message";
      readonly sender: UserId;
      readonly clientMessageId: string;
      readonly body: Uint8Array;
    }
  | {
      readonly kind: "control";
      /** An encoded control entry (room package), proposed as a record naming the leaf. */
      readonly entry: Uint8Array;
    };

export interface SubmitFrame {
  readonly type: "submit";
  readonly room: RoomId;
  /** Chosen by the submitting server, unique among its submissions. */
  readonly requestId: number;
  readonly submission: Submission;
}

/** Why a submission was refused: a room rejection or one of the project's error codes. */
export type RefusalCode =
  | RoomRejectionCode
  | MlsFailureCode
  | "not_sponsor_here"
  | "room_unknown"
  | "unavailable"
  | "capacity_exceeded"
  | "forbidden"
  /** A receiving server found the message's body signature invalid (receipts, §12.13). */
  | "signature_invalid"
  /** The message's device was revoked by its user's homeserver (§12.14). */
  | "device_revoked"
  /** The message's device is not bound to its sender by the sender's homeserver (§12.14). */
  | "user_mismatch";

export type SubmissionOutcome =
  | { readonly kind: "accepted"; readonly origin: NodeId; readonly sequence: number }
  | { readonly kind: "proposed" }
  | { readonly kind: "refused"; readonly code: RefusalCode; readonly reason: string };

export interface SubmitResultFrame {
  readonly type: "submit-result";
  readonly room: RoomId;
  readonly requestId: number;
  readonly outcome: SubmissionOutcome;
}

/**
 * A server asks another for one KeyPackage of every live device of some of
 * its users (docs/protocol.md §13.4), to add them to an MLS group. Not about
 * a room: it travels on the link between the two servers.
 */
export interface KeyPackageClaimFrame {
  readonly type: "key-package-claim";
  /** Chosen by the asking server, unique among its open claims to this peer. */
  readonly requestId: number;
  /** Users of the receiving server, distinct. */
  readonly users: readonly UserId[];
}

/** One claimed KeyPackage. A one-time package is never handed out again. */
export interface ClaimedKeyPackage {
  readonly user: UserId;
  readonly device: DeviceId;
  /** The encoded KeyPackage (MLSMessage), to be verified by whoever uses it. */
  readonly keyPackage: Uint8Array;
  readonly lastResort: boolean;
}

/** A user of the claim that got nothing. */
export interface KeyPackageClaimFailure {
  readonly user: UserId;
  /** `not_found`: no such user or no live device; `unavailable`: not a user here; `forbidden`: the asker is blocked. */
  readonly code: "not_found" | "unavailable" | "forbidden";
  readonly reason: string;
}

export interface KeyPackageClaimResultFrame {
  readonly type: "key-package-claim-result";
  readonly requestId: number;
  /** At most one per (user, device); devices without a package are absent. */
  readonly packages: readonly ClaimedKeyPackage[];
  readonly failures: readonly KeyPackageClaimFailure[];
}

/**
 * How far a server has stored and delivered one origin's messages in a room
 * (docs/protocol.md §12.13), for the server of their senders.
 */
export interface OriginReceipt {
  readonly origin: NodeId;
  /** The receiving server's contiguous mark for `origin`. */
  readonly held: number;
  /** `[sequence, count]`, sequences ascending, counts descending: `count` devices acknowledged every message 1..sequence. */
  readonly devices: ReadonlyArray<readonly [number, number]>;
  /** The reporting server's live devices of the room's joined members. */
  readonly devicesTotal: number;
  /** `[sequence, code]` of messages whose re-check refused them since the last receipt. */
  readonly refused: ReadonlyArray<readonly [number, RefusalCode]>;
}

export interface RoomReceipts {
  readonly room: RoomId;
  readonly receipts: readonly OriginReceipt[];
}

/** Cumulative receipts for the peer's users' messages, at most one frame a second per peer. */
export interface ReceiptsFrame {
  readonly type: "receipts";
  readonly rooms: readonly RoomReceipts[];
}

/**
 * A user's device list (docs/protocol.md §12.14), pushed by the user's
 * homeserver when it revokes one of their devices. Only the user's own
 * homeserver may send it; the receiver verifies `list` like a fetched one.
 */
export interface DeviceListFrame {
  readonly type: "device-list";
  readonly user: UserId;
  readonly list: Uint8Array;
}

export type Frame =
  | RaftFrame
  | HeartbeatFrame
  | LinkStateFrame
  | RoutedFrame
  | MarksFrame
  | BackfillRequestFrame
  | BackfillResponseFrame
  | AttachFrame
  | DetachFrame
  | InviteFrame
  | NodeQueryFrame
  | NodeStatusFrame
  | ControlFrame
  | ControlSignatureFrame
  | SubmitFrame
  | SubmitResultFrame
  | KeyPackageClaimFrame
  | KeyPackageClaimResultFrame
  | ReceiptsFrame
  | DeviceListFrame;

export type FrameType = Frame["type"];

export const frameTypes: readonly FrameType[] = [
  "raft",
  "heartbeats",
  "link-state",
  "routed",
  "marks",
  "backfill-request",
  "backfill-response",
  "attach",
  "detach",
  "invite",
  "node-query",
  "node-status",
  "control",
  "control-signature",
  "submit",
  "submit-result",
  "key-package-claim",
  "key-package-claim-result",
  "receipts",
  "device-list",
];
