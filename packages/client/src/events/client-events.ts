// Everything a client tells its application, as one discriminated union on
// `type`. Room events (messages and room changes) are what history pages
// return too; the others come from the stream, the outbox and the connection.
// Encrypted rooms will decrypt before this point: the application only ever
// sees plaintext events.

import type { DeviceId, ParleyError, RoomId, UserId } from "@parley/protocol";
import type { Actor, Membership, RoomAction } from "@parley/room";
import type { DeliveryState } from "../delivery/delivery-state.ts";

/** Fields every room event has: where it sits in its room and in the server's stream. */
export interface RoomEventPosition {
  readonly roomId: RoomId;
  /** The event's sequence in its room: consecutive from 1, no gaps. */
  readonly sequence: number;
  /** The event's position in the server-wide stream. */
  readonly position: number;
  /** When the sponsoring server accepted it (its clock). */
  readonly acceptedAtMs: number;
  /** The room's control index the server had applied when it accepted it. */
  readonly controlIndex: number;
}

/** A message in a room, signature verified (docs/protocol.md §9.2). */
export interface RoomMessageEvent extends RoomEventPosition {
  readonly type: "message";
  readonly sender: UserId;
  readonly deviceId: DeviceId;
  /** The id the sending client chose; with `deviceId` it identifies the message. */
  readonly clientId: string;
  readonly contentType: string;
  readonly body: Uint8Array;
  /** The body as UTF-8 text for `text/*` content types, else undefined. */
  readonly text: string | undefined;
  /** The sending device's clock when it sent the message (informational only). */
  readonly sentAtMs: number;
  /** Sent by this very device (so its delivery state is tracked here). */
  readonly fromThisDevice: boolean;
}

/** A change of room state: membership, roles, name, topic, rules (docs/protocol.md ch. 11). */
export interface RoomChangeEvent extends RoomEventPosition {
  readonly type: "room-change";
  readonly actor: Actor;
  readonly action: RoomAction;
}

/**
 * A message of an encrypted room that this device could not decrypt: `error`
 * says why with an `mls_` code (`mls_epoch_too_old`: older than the
 * past-epoch window; `mls_not_member`: sent while this device was not in the
 * group; `mls_replayed`: already decrypted once, or sent by this device
 * before a restart). Never dropped silently.
 */
export interface UndecryptableEvent extends RoomEventPosition {
  readonly type: "undecryptable";
  readonly sender: UserId;
  readonly deviceId: DeviceId;
  readonly clientId: string;
  readonly sentAtMs: number;
  readonly fromThisDevice: boolean;
  readonly error: ParleyError;
}

/** What history pages and the stream carry for a room. */
export type TimelineEvent = RoomMessageEvent | RoomChangeEvent;

/** What `ParleyClient.history` gives: encrypted rooms' messages decrypted or `undecryptable`. */
export type HistoryEvent = TimelineEvent | UndecryptableEvent;

/** This user was invited to a room (from the device's private queue). */
export interface InviteEvent {
  readonly type: "invite";
  readonly roomId: RoomId;
  /**
   * Who invited; undefined when the user's server learnt the invitation from a
   * snapshot of another server's room, which does not say who sent it.
   */
  readonly by: UserId | undefined;
  readonly roomName: string;
  readonly logIndex: number;
}

/**
 * One of this user's other devices was revoked (from the device's private
 * queue). The SDK removes it from the groups of the user's encrypted rooms
 * by itself (`ParleyClient.devices`); the event is for the application to show.
 */
export interface DeviceRevokedEvent {
  readonly type: "device-revoked";
  readonly deviceId: DeviceId;
}

/**
 * This user's membership of a room changed by someone's action while the
 * device may not read the room any more: left, kicked, banned, unbanned.
 */
export interface MembershipEvent {
  readonly type: "membership";
  readonly roomId: RoomId;
  /** The user's membership now; "none" when no record is left. */
  readonly membership: Membership | "none";
  readonly by: UserId;
  readonly roomName: string;
  readonly reason: string | undefined;
  readonly logIndex: number;
}

export type ConnectionState =
  | { readonly status: "connecting"; readonly attempt: number }
  | { readonly status: "connected" }
  | {
      readonly status: "reconnecting";
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: ParleyError;
    }
  /** Not connected and not trying: `stop()` was called (no error) or reconnecting gave up. */
  | { readonly status: "stopped"; readonly error: ParleyError | undefined };

/** The live stream's connection changed. */
export interface ConnectionEvent {
  readonly type: "connection";
  readonly state: ConnectionState;
}

/** A message this device sent changed delivery state. */
export interface DeliveryEvent {
  readonly type: "delivery";
  readonly roomId: RoomId;
  readonly clientId: string;
  readonly state: DeliveryState;
}

/**
 * Events the client could not get: the stream skipped events beyond the
 * server's retention (`scope: "stream"`, up to a stream position), or a gap in
 * a room's sequences could not be filled from history (`scope: "room"`). The
 * application may show a gap there; history may still be readable later.
 */
export type MissedEvent =
  | {
      readonly type: "missed";
      readonly scope: "stream";
      readonly count: number;
      readonly throughPosition: number;
    }
  | {
      readonly type: "missed";
      readonly scope: "room";
      readonly roomId: RoomId;
      readonly count: number;
      readonly throughSequence: number;
    };

/** Something from the server could not be used (a bad signature, an unknown notice). */
export interface ErrorEvent {
  readonly type: "error";
  readonly error: ParleyError;
}

/**
 * An MLS commit of an encrypted room that no valid sponsors' certificate
 * covers (forged, certified by a minority, or none in time): it was not
 * processed (§10.13). A later commit makes the device catch up and check it again.
 */
export interface CommitRefusedEvent {
  readonly type: "commit-refused";
  readonly roomId: RoomId;
  readonly epoch: number;
  readonly controlIndex: number;
  readonly error: ParleyError;
}

export type ClientEvent =
  | TimelineEvent
  | CommitRefusedEvent
  | UndecryptableEvent
  | InviteEvent
  | MembershipEvent
  | DeviceRevokedEvent
  | ConnectionEvent
  | DeliveryEvent
  | MissedEvent
  | ErrorEvent;

export type ClientEventType = ClientEvent["type"];
