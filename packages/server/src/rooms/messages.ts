// The message lane of a plain room, on the client's side: check a signed
// message (signature, device, room rules at the applied state), hand it to
// the federation core (which stamps it with the control index at a sponsor),
// answer with its event in this server's stream, and page a room's history.

import type { MessageId } from "@parley/federation";
import {
  type AcceptedMessageJson,
  ParleyError,
  type RoomId,
  type SignatureProvider,
  type UserId,
  type VerifiedRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import type { FederationRuntime } from "../federation/federation-runtime.ts";
import { acceptedMessageArrivalTimeoutMs } from "../federation/limits.ts";
import { clientMessageId } from "../federation/projection/client-message-id.ts";
import type { RoomProjection } from "../federation/projection/room-projection.ts";
import type { AppendOutcome, Page, StoredEvent } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import { checkEncryptedMessage } from "./encrypted-rooms.ts";
import { decodeHistoryCursor, encodeHistoryCursor } from "./history-cursor.ts";
import type { RoomService } from "./room-service.ts";
import { outcomeError } from "./submission-outcomes.ts";

export interface HistoryQuery {
  /** Exclusive room sequence to start from; absent means the newest (backward) or the start (forward). */
  readonly from?: number | undefined;
  readonly direction: "backward" | "forward";
  readonly limit: number;
}

export interface HistoryPage {
  readonly events: readonly StoredEvent[];
  /** True when the limit cut the page: ask again from `next`. */
  readonly more: boolean;
  /** The `from` of the next page in the same direction. */
  readonly next: number;
}

export interface MessageDependencies {
  readonly storage: Storage;
  readonly rooms: RoomService;
  readonly federation: FederationRuntime;
  readonly projection: RoomProjection;
  readonly provider: SignatureProvider;
}

export class Messages {
  readonly #dependencies: MessageDependencies;

  constructor(dependencies: MessageDependencies) {
    this.#dependencies = dependencies;
  }

  /**
   * Verifies a device's message and hands it to the federation core, which
   * accepts it here (a sponsor) or submits it to a sponsor (a leaf). The
   * answer comes once the message is durable and in this server's stream.
   */
  async accept(
    sender: { readonly userId: UserId; readonly deviceId: string },
    roomId: RoomId,
    envelope: Uint8Array,
  ): Promise<AcceptedMessageJson> {
    const message = verifyRoomMessage(this.#dependencies.provider, envelope);
    if (message.roomId !== roomId) {
      throw new ParleyError("bad_structure", "the message names another room than the path");
    }
    if (message.deviceId !== sender.deviceId) {
      throw new ParleyError(
        "forbidden",
        "the message is signed by another device than the session's",
      );
    }
    const room = await this.#dependencies.rooms.authorizeMessage(roomId, sender.userId);
    if (room.mls !== undefined) {
      checkEncryptedMessage(room, message.contentType, message.body);
    } else if (message.contentType !== room.contentType) {
      throw new ParleyError("bad_structure", `this room's content type is ${room.contentType}`);
    }
    const { projection, federation } = this.#dependencies;
    projection.noteVerified(envelope, message);
    const arrival = projection.arrivals.expect(roomId, message.deviceId, message.clientId);
    try {
      const outcome = await federation.driver.sendMessage(
        roomId,
        sender.userId,
        clientMessageId(message.deviceId, message.clientId),
        envelope,
      );
      if (outcome.kind !== "accepted") throw outcomeError(outcome);
      const stored = await this.#storedEvent(roomId, message, outcome, arrival.arrived);
      if (!sameBytes(stored.event.body, message.signedBytes)) {
        throw new ParleyError("conflict", "this client id was already used for another message");
      }
      return {
        sequence: stored.event.roomSequence,
        streamPosition: stored.event.streamPosition,
        acceptedAtMs: stored.event.acceptedAtMs,
        controlIndex: stored.event.controlIndex,
        duplicate: stored.kind === "duplicate",
      };
    } finally {
      arrival.stop();
    }
  }

  /** The stream event of an accepted message: projected just now, stored before, or soon to arrive. */
  async #storedEvent(
    roomId: RoomId,
    message: VerifiedRoomMessage,
    stamp: MessageId,
    arrived: Promise<AppendOutcome>,
  ): Promise<AppendOutcome> {
    const now = await Promise.race([arrived, Promise.resolve(null)]);
    if (now !== null) return now;
    const before = await this.#dependencies.storage.events.findByClientId(
      roomId,
      message.deviceId,
      message.clientId,
    );
    if (before !== null) return { kind: "duplicate", event: before };
    // Stored by the core but not in the stream: its report was lost in a
    // crash between the core's flush and the projection. Project it now.
    const { federation, projection } = this.#dependencies;
    const stored = federation.storedMessage(roomId, stamp);
    const repaired = stored === undefined ? null : await projection.project(roomId, stored);
    if (repaired !== null) return repaired;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), acceptedMessageArrivalTimeoutMs);
    });
    try {
      const outcome = await Promise.race([arrived, late]);
      if (outcome !== null) return outcome;
    } finally {
      clearTimeout(timer);
    }
    throw new ParleyError(
      "unavailable",
      "a sponsor accepted the message but it has not reached this server yet; retrying with the same client id is safe",
    );
  }

  async history(reader: UserId, roomId: RoomId, query: HistoryQuery): Promise<HistoryPage> {
    const { storage, rooms } = this.#dependencies;
    await rooms.readableState(roomId, reader);
    const room = await storage.rooms.get(roomId);
    if (room === null) throw new ParleyError("not_found", "no such room");
    const forward = query.direction === "forward";
    const from = query.from ?? (forward ? 0 : room.lastEventSequence + 1);
    const page: Page<StoredEvent> = await storage.events.pageRoom({
      roomId,
      fromSequence: from,
      direction: query.direction,
      limit: query.limit,
    });
    const last = page.items.at(-1);
    return {
      events: page.items,
      more: page.more,
      next: last === undefined ? from : last.roomSequence,
    };
  }

  /** The room's events in history order (§12.4.3), paged by a key cursor. */
  async orderedHistory(
    reader: UserId,
    roomId: RoomId,
    query: OrderedHistoryQuery,
  ): Promise<OrderedHistoryPage> {
    const { storage, rooms } = this.#dependencies;
    await rooms.readableState(roomId, reader);
    const from = query.from === undefined ? undefined : decodeHistoryCursor(query.from);
    const page = await storage.events.pageHistory({
      roomId,
      direction: query.direction,
      limit: query.limit,
      ...(from === undefined ? {} : { from }),
    });
    const last = page.items.at(-1);
    return {
      events: page.items,
      more: page.more,
      next:
        last === undefined
          ? (query.from ?? null)
          : encodeHistoryCursor(storage.events.historyKeyOf(last)),
    };
  }
}

/** A page of the ordered history route (§10.4): events in the order of §12.4.3. */
export interface OrderedHistoryQuery {
  /** The `next` of an earlier page; absent means the newest (backward) or the oldest (forward). */
  readonly from?: string | undefined;
  readonly direction: "backward" | "forward";
  readonly limit: number;
}

export interface OrderedHistoryPage {
  readonly events: readonly StoredEvent[];
  readonly more: boolean;
  /** The cursor after this page's last event (`from` again when the page is empty; null when both are absent). */
  readonly next: string | null;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.compare(left, right) === 0;
}
