// The client-facing tables as a projection of the federation core's events.
// The core (FederationHost) holds each room's control log and messages; what
// clients read — the room rows, the membership index, the event stream and
// per-device notices — is derived here from its events, in the order the
// core emitted them:
//
// - `control-applied` (accepted): a control event in the room's stream,
//   stream readers told who starts or stops reading, notices to local users
//   who will not see the stream (invited, kicked, banned), and the
//   membership index at the applied index;
// - `state-restored` (a snapshot replaced the room's state: a leaf or a new
//   sponsor catching up): the room row and the whole membership index from
//   the restored state, readers, and invite notices for local invitees;
// - `message-stored` with an allowed verdict: the message as an event in the
//   stream, stored once (below). A message this server refused (its re-check
//   at the stamped index, or a body that does not verify) is reported to
//   `refused`, which tells the sender's server in its receipts (§12.13).
//
// Idempotent and crash-safe: the core replays applied records after a
// restart (from its last snapshot), so every write here is keyed — control
// events by `control:<index>`, messages by (room, device, client id),
// notices by `room:<room>:<index>`, the membership index by an applied index
// that only grows.
//
// Store a message once: the federation message store keeps the stamped
// message (what backfill and anti-entropy serve to peers), and the stream
// keeps the event row (what devices read). Both exist because the first is
// the federation storage's and the second is the changefeed devices follow;
// the row holds the device's signed bytes, not a copy of the envelope.

import {
  type FederationEvent,
  messageKey,
  type RefusalCode,
  type StoredMessage,
} from "@parley/federation";
import {
  type RoomId,
  type ServerName,
  type SignatureProvider,
  type UserId,
  userIdParts,
  type VerifiedRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import {
  type ControlEntry,
  encodeControlEntry,
  type Membership,
  type RoomState,
} from "@parley/room";
import { membershipChangesMax } from "../../limits.ts";
import type { Logger } from "../../observability/logger.ts";
import { controlEvent } from "../../rooms/control-events.ts";
import { toStoredMembership } from "../../rooms/membership-changes.ts";
import type { DeviceNotices } from "../../rooms/notices.ts";
import type { EventAppender, ReaderListener } from "../../rooms/room-service.ts";
import type { AppendOutcome, MembershipChange, NewEvent } from "../../storage/records.ts";
import type { Storage, TransactionWrite } from "../../storage/storage.ts";
import { VerifiedMessages } from "../../verification/verified-messages.ts";
import type { DeviceDirectory } from "../device-directory.ts";
import { MessageArrivals } from "./message-arrivals.ts";
import { beforeSettling, MessageDevices } from "./message-devices.ts";
import { queueWelcome, type WelcomeTarget } from "./welcome-notices.ts";

export interface RoomProjectionDependencies {
  readonly storage: Storage;
  readonly events: EventAppender;
  readonly notices: DeviceNotices;
  readonly readers: ReaderListener;
  readonly provider: SignatureProvider;
  readonly serverName: () => ServerName;
  /** The room's applied state in the core now (for a restored snapshot). */
  readonly stateOf: (room: RoomId) => RoomState | undefined;
  /** A message stored here that this server will not show, and why (for receipts). */
  readonly refused: (room: RoomId, stored: StoredMessage, code: RefusalCode) => void;
  readonly logger: Logger;
  /** Whose devices are whose (§12.14.3); without it, devices are not checked against senders. */
  readonly devices?: DeviceDirectory;
}

type ControlApplied = Extract<FederationEvent, { type: "control-applied" }>;

type StateRestored = Extract<FederationEvent, { type: "state-restored" }>;

export class RoomProjection {
  readonly #dependencies: RoomProjectionDependencies;
  /** Messages verified at this server's edge, so projecting them does not verify twice. */
  readonly #verified = new VerifiedMessages();
  readonly #devices: MessageDevices;
  readonly arrivals = new MessageArrivals();
  readonly #welcomeTarget: WelcomeTarget;

  constructor(dependencies: RoomProjectionDependencies) {
    this.#dependencies = dependencies;
    this.#welcomeTarget = {
      notices: dependencies.notices,
      isLocal: (user) => this.#isLocal(user),
    };
    this.#devices = new MessageDevices(dependencies.devices, dependencies.provider, this.#verified);
  }

  /** Remembers that these bytes were verified, so projecting them finds the result. */
  noteVerified(body: Uint8Array, message: VerifiedRoomMessage): void {
    this.#verified.note(body, message);
  }

  async handle(events: readonly FederationEvent[]): Promise<void> {
    const listSinceMs = await this.#devices.settle(shown(events));
    const appends: Promise<void>[] = [];
    for (const event of events) {
      if (event.type === "control-applied") await this.#controlApplied(event);
      else if (event.type === "state-restored") await this.#stateRestored(event);
      else if (event.type === "message-stored" && event.stored.verdict === "allowed") {
        // Not awaited one by one: the group committer stores a round's messages together, in order.
        appends.push(this.#messageStored(event.room, event.stored, listSinceMs).then(() => {}));
      } else if (event.type === "message-stored" && event.refusal !== undefined) {
        this.#dependencies.refused(event.room, event.stored, event.refusal);
      }
    }
    await Promise.all(appends);
  }

  /**
   * Projects a message the core already stored (a repair: the core reports a
   * message once, and a crash between its flush and the projection loses
   * that report). Null when it is not to be shown.
   */
  async project(room: RoomId, stored: StoredMessage): Promise<AppendOutcome | null> {
    if (stored.verdict !== "allowed") return null;
    const listSinceMs = await this.#devices.settle([stored]);
    return this.#messageStored(room, stored, listSinceMs);
  }

  /**
   * At start: projects again the messages the core holds that are at most
   * `windowMs` older than the newest event of their room in the stream (all
   * of them for a room without events). The core's report of a message is
   * lost only in a crash right after its flush, so such messages are the
   * newest ones; appends of messages already projected change nothing.
   */
  async repairRecent(
    rooms: ReadonlyArray<{ room: RoomId; messages: Iterable<StoredMessage> }>,
    windowMs: number,
  ): Promise<number> {
    let repaired = 0;
    for (const { room, messages } of rooms) {
      if ((await this.#dependencies.storage.rooms.get(room)) === null) continue;
      const newest = await this.#dependencies.storage.events.pageRoom({
        roomId: room,
        fromSequence: Number.MAX_SAFE_INTEGER,
        direction: "backward",
        limit: 1,
      });
      const since = (newest.items[0]?.acceptedAtMs ?? Number.NEGATIVE_INFINITY) - windowMs;
      const appends: Promise<AppendOutcome | null>[] = [];
      for (const stored of messages) {
        if (stored.message.acceptedAtMs >= since) appends.push(this.project(room, stored));
      }
      for (const outcome of await Promise.all(appends)) {
        if (outcome?.kind === "appended") repaired += 1;
      }
    }
    return repaired;
  }

  #isLocal(user: UserId): boolean {
    return userIdParts(user).server === this.#dependencies.serverName();
  }

  /**
   * The round's events stored in the same transaction as `alongside` (the
   * core's flush), so a round of messages costs one commit. Only for rounds
   * of messages alone: null otherwise (and for rounds with nothing to show),
   * and the caller flushes, then calls `handle`. Control events keep their
   * own path, which must see each one applied in order.
   */
  handleWithin(
    events: readonly FederationEvent[],
    alongside: TransactionWrite,
  ): Promise<void> | null {
    const staged: NewEvent[] = [];
    const refusals: Array<Extract<FederationEvent, { type: "message-stored" }>> = [];
    // A device the cached lists cannot place: `handle` fetches them first.
    if (this.#devices.needsSettling(shown(events))) return null;
    for (const event of events) {
      if (event.type === "control-applied" || event.type === "state-restored") return null;
      if (event.type !== "message-stored") continue;
      if (event.stored.verdict !== "allowed") {
        if (event.refusal !== undefined) refusals.push(event);
        continue;
      }
      const message = this.#streamEvent(event.room, event.stored);
      if (message !== null) staged.push(message);
    }
    // Null hands the whole round to `handle`, which reports the refusals itself.
    if (staged.length === 0) return null;
    for (const event of refusals) {
      if (event.refusal !== undefined)
        this.#dependencies.refused(event.room, event.stored, event.refusal);
    }
    return this.#dependencies.events.appendAll(staged, alongside).then((outcomes) => {
      staged.forEach((event, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined) return;
        this.arrivals.arrived(event.roomId, event.senderDeviceId, event.clientEventId, outcome);
      });
    });
  }

  async #messageStored(
    room: RoomId,
    stored: StoredMessage,
    listSinceMs: number,
  ): Promise<AppendOutcome | null> {
    const event = this.#streamEvent(room, stored, listSinceMs);
    if (event === null) return null;
    const outcome: AppendOutcome = await this.#dependencies.events.append(event);
    this.arrivals.arrived(room, event.senderDeviceId, event.clientEventId, outcome);
    return outcome;
  }

  /**
   * The stream event of a stored message, or null when it is not to be shown.
   * A device no list places is shown on its sponsor's word; a list fetched
   * from `listSinceMs` on is believed when it does not name the device.
   */
  #streamEvent(room: RoomId, stored: StoredMessage, listSinceMs = beforeSettling): NewEvent | null {
    const stamped = stored.message;
    let message = this.#devices.takeVerified(stamped.body);
    if (message === undefined) {
      try {
        message = verifyRoomMessage(this.#dependencies.provider, stamped.body);
      } catch (error) {
        // The accepting sponsor checked it; a body that fails here is that sponsor's fault.
        this.#dependencies.logger.warn(
          { err: error, room, message: messageKey(stamped) },
          "a stored message does not verify; not shown",
        );
        this.#dependencies.refused(room, stored, "signature_invalid");
        return null;
      }
    }
    if (message.roomId !== room) {
      // Signed for another room: its signature does not cover this one.
      this.#dependencies.refused(room, stored, "signature_invalid");
      return null;
    }
    const refusal = this.#devices.refusal(stored, message, listSinceMs);
    if (refusal !== null) {
      this.#dependencies.refused(room, stored, refusal);
      return null;
    }
    return {
      roomId: room,
      senderUserId: stamped.sender,
      senderDeviceId: message.deviceId,
      clientEventId: message.clientId,
      contentType: message.contentType,
      body: message.signedBytes,
      signature: message.signature,
      controlIndex: stamped.controlIndex,
      acceptedAtMs: stamped.acceptedAtMs,
      stamp: { origin: stamped.origin, sequence: stamped.sequence },
    };
  }

  async #ensureRoom(
    room: RoomId,
    fields: { kind: "plain" | "encrypted"; contentType: string; createdAtMs: number },
  ): Promise<void> {
    await this.#dependencies.storage.rooms.create({ roomId: room, ...fields });
  }

  async #controlApplied(event: ControlApplied): Promise<void> {
    const entry: ControlEntry = event.record.entry;
    const action = entry.action;
    if (action.type === "create") {
      await this.#ensureRoom(event.room, {
        kind: action.kind,
        contentType: action.contentType,
        createdAtMs: entry.proposedAtMs,
      });
    }
    if (event.outcome.verdict !== "accepted" || entry.actor.type !== "user") return;
    const actor = entry.actor.user;
    const { readers, events, storage } = this.#dependencies;
    // Streams first: a joiner's sockets then receive the join event itself,
    // and a banned user's sockets stop before anything else is sent.
    for (const change of event.memberships) {
      const reads = change.after === "joined";
      if (reads !== (change.before === "joined") && this.#isLocal(change.user)) {
        readers.readerChanged(event.room, change.user, reads);
      }
    }
    await events.append(
      controlEvent({
        roomId: event.room,
        actor,
        index: event.index,
        entryBytes: encodeControlEntry(entry),
        acceptedAtMs: entry.proposedAtMs,
      }),
    );
    await this.#deliverWelcome(event);
    const reason = "reason" in action ? action.reason : undefined;
    for (const change of event.memberships) {
      if (change.after === "joined" || !this.#isLocal(change.user)) continue;
      await this.#notify(event.room, change.user, change.after, {
        by: actor,
        index: event.index,
        name: event.roomName,
        reason,
      });
    }
    await storage.rooms.recordApplied({
      roomId: event.room,
      appliedIndex: event.index,
      membershipChanges: event.memberships.map((change) => ({
        userId: change.user,
        membership: toStoredMembership(change.after),
      })),
    });
  }

  /**
   * A commit that added devices: its Welcome, with the new epoch's tree, into
   * the queue of each added device of this server (docs/protocol.md §10.13).
   * Keyed by room and index, so a replayed record queues nothing twice.
   */
  async #deliverWelcome(event: ControlApplied): Promise<void> {
    const mls = event.record.entry.mls;
    if (event.outcome.verdict !== "accepted" || mls === undefined) return;
    await queueWelcome(this.#welcomeTarget, event.room, {
      ...mls,
      epoch: mls.epoch + 1,
      sinceIndex: event.index,
    });
  }

  async #stateRestored(event: StateRestored): Promise<void> {
    const state = this.#dependencies.stateOf(event.room);
    if (state === undefined) return;
    await this.#ensureRoom(event.room, {
      kind: state.kind,
      contentType: state.contentType,
      createdAtMs: state.createdAtMs,
    });
    // Before the invite notices, as for an applied record: a device that sees
    // its invite finds the Welcome already queued ahead of it.
    if (state.mls !== undefined) await queueWelcome(this.#welcomeTarget, event.room, state.mls);
    const changes: MembershipChange[] = [];
    for (const [user, record] of state.members) {
      if (changes.length >= membershipChangesMax) {
        this.#dependencies.logger.warn({ room: event.room }, "membership index cut at the limit");
        break;
      }
      changes.push({ userId: user, membership: toStoredMembership(record.membership) });
      if (!this.#isLocal(user)) continue;
      if (record.membership === "joined") {
        this.#dependencies.readers.readerChanged(event.room, user, true);
      } else if (record.membership === "invited") {
        await this.#notify(event.room, user, "invited", {
          by: null,
          index: record.sinceIndex,
          name: state.name,
          reason: undefined,
        });
      }
    }
    await this.#dependencies.storage.rooms.recordApplied({
      roomId: event.room,
      appliedIndex: event.index,
      membershipChanges: changes,
    });
  }

  /** Users who will not see the control event in the room's stream hear of it in their queue. */
  async #notify(
    room: RoomId,
    user: UserId,
    membership: Membership,
    about: { by: UserId | null; index: number; name: string; reason: string | undefined },
  ): Promise<void> {
    const invited = membership === "invited";
    const body = {
      type: invited ? "invite" : "membership",
      roomId: room,
      membership,
      by: about.by,
      logIndex: about.index,
      name: about.name,
      ...(about.reason === undefined ? {} : { reason: about.reason }),
    };
    await this.#dependencies.notices.send([user], {
      id: `room:${room}:${about.index}`,
      kind: invited ? "invite" : "membership",
      body,
    });
  }
}

/** The stored messages of a round. */
function* shown(events: readonly FederationEvent[]): Iterable<StoredMessage> {
  for (const event of events) if (event.type === "message-stored") yield event.stored;
}
