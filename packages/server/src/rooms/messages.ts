// The message lane of a plain room: accept a signed message (signature,
// device, room rules at the applied state), stamp it with the control index,
// store it once through the group committer, and page a room's history.

import {
  ParleyError,
  type RoomId,
  type SignatureProvider,
  type UserId,
  verifyRoomMessage,
} from "@parley/protocol";
import type { Page, StoredEvent } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import type { EventAppender, RoomService } from "./room-service.ts";

export interface AcceptedMessage {
  readonly sequence: number;
  readonly streamPosition: number;
  readonly acceptedAtMs: number;
  readonly controlIndex: number;
  /** True when this client id was stored before: the answer is the first one's. */
  readonly duplicate: boolean;
}

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
  readonly events: EventAppender;
  readonly provider: SignatureProvider;
  readonly nowMs: () => number;
}

export class Messages {
  readonly #dependencies: MessageDependencies;

  constructor(dependencies: MessageDependencies) {
    this.#dependencies = dependencies;
  }

  async accept(
    sender: { readonly userId: UserId; readonly deviceId: string },
    roomId: RoomId,
    envelope: Uint8Array,
  ): Promise<AcceptedMessage> {
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
    if (message.contentType !== room.contentType) {
      throw new ParleyError("bad_structure", `this room's content type is ${room.contentType}`);
    }
    const outcome = await this.#dependencies.events.append({
      roomId,
      senderUserId: sender.userId,
      senderDeviceId: sender.deviceId,
      clientEventId: message.clientId,
      contentType: message.contentType,
      body: message.signedBytes,
      signature: message.signature,
      controlIndex: room.controlIndex,
      acceptedAtMs: this.#dependencies.nowMs(),
    });
    const stored = outcome.event;
    if (outcome.kind === "duplicate" && !sameBytes(stored.body, message.signedBytes)) {
      throw new ParleyError("conflict", "this client id was already used for another message");
    }
    return {
      sequence: stored.roomSequence,
      streamPosition: stored.streamPosition,
      acceptedAtMs: stored.acceptedAtMs,
      controlIndex: stored.controlIndex,
      duplicate: outcome.kind === "duplicate",
    };
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
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.compare(left, right) === 0;
}
