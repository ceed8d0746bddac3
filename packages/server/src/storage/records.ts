// The values the storage layer reads and writes. Bytes are `Uint8Array` (owned
// by the caller once returned), identifiers are text, times are integer
// milliseconds since the Unix epoch, positions and indexes are safe integers.
// Nothing here is validated protocol data: the storage layer stores what the
// layers above have already checked (signatures, room rules) and only asserts
// sizes and shapes.

export interface ServerSigningKey {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  /** The 32-byte Ed25519 seed. Never logged, never sent. */
  readonly secretSeed: Uint8Array;
  readonly validFromMs: number;
  readonly validUntilMs: number | null;
}

export interface Account {
  readonly localName: string;
  readonly passwordHash: string;
  readonly createdAtMs: number;
  readonly deactivatedAtMs: number | null;
}

export interface InviteToken {
  /** A hash of the token; the token itself is shown once to the admin. */
  readonly tokenHash: Uint8Array;
  readonly usesLeft: number;
  readonly expiresAtMs: number | null;
  readonly createdAtMs: number;
}

export interface Device {
  readonly deviceId: string;
  readonly localName: string;
  /** The device identity record as signed by the device (canonical bytes). */
  readonly identityRecord: Uint8Array;
  /** The homeserver's attestation over that record. */
  readonly attestation: Uint8Array;
  /** The record's sequence number; a newer record has a larger one. */
  readonly recordSequence: number;
  readonly createdAtMs: number;
  readonly revokedAtMs: number | null;
}

export interface Session {
  /** A hash of the bearer token; the token itself is never stored. */
  readonly tokenHash: Uint8Array;
  readonly deviceId: string;
  readonly localName: string;
  readonly createdAtMs: number;
  readonly lastSeenAtMs: number;
  readonly expiresAtMs: number;
}

export type RoomKind = "plain" | "encrypted";

export interface Room {
  readonly roomId: string;
  readonly kind: RoomKind;
  readonly contentType: string;
  readonly createdAtMs: number;
  /** Per-room sequence of the newest stored event, 0 before the first. */
  readonly lastEventSequence: number;
}

export interface ControlEntry {
  readonly roomId: string;
  /** 1 for the first entry, then each entry one more than the last. */
  readonly logIndex: number;
  readonly entry: Uint8Array;
  readonly entryHash: Uint8Array;
  /** The hash of the entry before; null only for the first entry. */
  readonly previousHash: Uint8Array | null;
}

export interface RoomState {
  readonly roomId: string;
  /** The highest control-log index whose effects (membership) are recorded. */
  readonly appliedIndex: number;
  /** The newest saved snapshot of the pure room state machine, if any. */
  readonly snapshot: { readonly logIndex: number; readonly state: Uint8Array } | null;
}

export type Membership = "invite" | "join" | "knock" | "leave" | "ban";

export interface MembershipChange {
  readonly userId: string;
  readonly membership: Membership;
}

export interface RoomMember {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: Membership;
  /** The control-log index at which this membership took effect. */
  readonly sinceIndex: number;
}

/** What a caller gives to store one accepted room message. */
export interface NewEvent {
  readonly roomId: string;
  readonly senderUserId: string;
  readonly senderDeviceId: string;
  /** Chosen by the sending client; the same id is stored once per device and room. */
  readonly clientEventId: string;
  readonly contentType: string;
  readonly body: Uint8Array;
  /** The sender's signature (plain rooms); null where the body authenticates itself (MLS). */
  readonly signature: Uint8Array | null;
  /** The control-log index the accepting sponsor had applied. */
  readonly controlIndex: number;
  readonly acceptedAtMs: number;
  /**
   * A message's id in the federation lane (§12.1): the sponsor node that
   * accepted it and that origin's sequence. Absent for control events (and
   * for messages stored before the history order was kept).
   */
  readonly stamp?: MessageStamp;
}

export interface MessageStamp {
  readonly origin: string;
  readonly sequence: number;
}

/**
 * Where an event sits in a room's history (§12.4.3), compared field by field
 * in this order; `rank` puts control entry i before the messages stamped at i.
 * `roomSequence` breaks ties only between events without a stamp.
 */
export interface HistoryKey {
  readonly controlIndex: number;
  readonly rank: number;
  readonly acceptedAtMs: number;
  readonly origin: string;
  readonly originSequence: number;
  readonly roomSequence: number;
}

export interface HistoryPageInput {
  readonly roomId: string;
  /** Exclusive: the page starts after (forward) or before (backward) this key; absent: from either end. */
  readonly from?: HistoryKey;
  readonly direction: "forward" | "backward";
  readonly limit: number;
}

export interface StoredEvent extends NewEvent {
  /** Position in the server-wide stream, increasing across all rooms. */
  readonly streamPosition: number;
  /** Position within the room, 1 for its first event. */
  readonly roomSequence: number;
}

export type AppendOutcome =
  | { readonly kind: "appended"; readonly event: StoredEvent }
  /** The same (room, sender device, client id) was stored before: nothing was written. */
  | { readonly kind: "duplicate"; readonly event: StoredEvent };

/** A page of items read with a limit. `more` is true when the limit cut the
 * page and further items exist in the same direction: never a silent gap. */
export interface Page<Item> {
  readonly items: readonly Item[];
  readonly more: boolean;
}

export interface StreamPage {
  readonly events: readonly StoredEvent[];
  /** True when the limit cut the page; read again after `throughPosition`. */
  readonly more: boolean;
  /** Every event of the requested rooms up to this position has been returned
   * (the stream head when not cut), so a reader may move its cursor here. */
  readonly throughPosition: number;
}

/** Stands in for what a device will no longer be sent because retention
 * dropped it: the client fetches room history instead. */
export interface MissedMarker {
  readonly count: number;
  /** Everything up to and including this position is covered by the marker. */
  readonly throughPosition: number;
}

export interface InboxStreamPage extends StreamPage {
  readonly missed: MissedMarker | null;
}

export interface QueueItem {
  readonly deviceId: string;
  /** Increasing per device, 1 for the first item. */
  readonly queuePosition: number;
  /** Chosen by the producer (an invite or welcome id); stored once per device. */
  readonly itemId: string;
  /** What the item is ("invite", "welcome", "notice", ...), for routing. */
  readonly itemKind: string;
  readonly body: Uint8Array;
  readonly createdAtMs: number;
}

export interface QueuePage {
  readonly missed: MissedMarker | null;
  readonly items: readonly QueueItem[];
  readonly more: boolean;
}

export interface InboxCursor {
  readonly deviceId: string;
  /** Every stream event up to here is acknowledged by the device. */
  readonly streamPosition: number;
  /** Every queue item up to here is acknowledged (and deleted). */
  readonly queuePosition: number;
}

export interface InboxRetention {
  readonly maxAgeMs: number;
  readonly maxEvents: number;
}

/** A homeserver this server's operator blocked: device records it attests are refused. */
export interface ServerBlock {
  readonly serverName: string;
  /** The operator's note; may be empty. */
  readonly reason: string;
  readonly blockedAtMs: number;
}

/** An account as the operator's user list shows it. */
export interface AccountSummary {
  readonly localName: string;
  readonly createdAtMs: number;
  readonly deactivatedAtMs: number | null;
  /** Devices not revoked. */
  readonly liveDevices: number;
}

/** A room as the operator's room list shows it. */
export interface RoomSummary {
  readonly roomId: string;
  readonly kind: RoomKind;
  readonly contentType: string;
  readonly createdAtMs: number;
  readonly lastEventSequence: number;
  /** Members whose membership is `join` in the membership index. */
  readonly joinedMembers: number;
}
