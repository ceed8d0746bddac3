// Receipts this server owes other servers (docs/protocol.md §12.13): when it
// stores a message whose sender is on server Y, it starts watching (Y, room,
// origin); once a second it sends Y one `receipts` frame with every watched
// room whose figures changed — its mark for the origin, and how many of its
// own devices acknowledged the origin's messages, as cumulative steps.
//
// Device acknowledgements arrive without any message, so a watch is counted
// again on a timer until every device has everything held: every second
// while the room is busy (a message within the last minute), every 30 s
// after, and it ends after a week. A new message from Y starts it again.
// A receipt's figures depend only on the room and the origin, not on the
// peer, so each (room, origin) is counted once per round whoever it goes to;
// only its refusals (messages of the peer's users this server refused) are
// the peer's own, kept until a frame carrying them is queued.

import {
  federationLimits,
  type OriginReceipt,
  type ReceiptsFrame,
  type RefusalCode,
  type RoomReceipts,
  type StoredMessage,
} from "@parley/federation";
import type { RoomId, UserId } from "@parley/protocol";
import { serverOfUser } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import { pageSizeMax } from "../limits.ts";
import { controlEventContentType } from "../rooms/control-events.ts";
import type { StoredEvent } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import { devicesCovering, type RoomAudience } from "./delivery-counts.ts";
import type { AudienceOf } from "./delivery-tracker.ts";
import { deviceSteps, originWindow } from "./receipt-steps.ts";

/** A watch is counted every second this long after the room's last message from the peer. */
const busyWindowMs = 60_000;
/** ... and this often after that. */
const quietIntervalMs = 30_000;
/** A watch ends this long after the last message that started it. */
const watchLifetimeMs = 7 * 24 * 60 * 60 * 1000;

export interface ReceiptReporterDependencies {
  readonly storage: Storage;
  readonly serverName: () => string;
  readonly nowMs: () => number;
  /** This server's contiguous mark for `origin` in `room` (§12.5.1). */
  readonly heldMark: (room: string, origin: string) => number;
  /** Queues the frame for `peer` (durable); false when there is no link to use. */
  readonly send: (peer: string, frame: ReceiptsFrame) => boolean;
}

interface OriginWatch {
  lastMessageMs: number;
  /** The receipt last sent (without refusals), as JSON, to send only what changed. */
  lastSent: string | null;
  /** `[origin sequence, code]` refused here and not yet sent, oldest first. */
  refused: Array<readonly [number, RefusalCode]>;
}

interface RoomWatch {
  readonly origins: Map<string, OriginWatch>;
  /** The newest message from the peer's users in the room. */
  lastMessageMs: number;
  lastCountedMs: number;
}

/** Receipts already counted this round, by `room origin`. */
type RoundReceipts = Map<string, Promise<OriginReceipt>>;

export class ReceiptReporter {
  readonly #dependencies: ReceiptReporterDependencies;
  /** peer → room → watch. */
  readonly #watches = new Map<string, Map<string, RoomWatch>>();
  #reporting = false;

  constructor(dependencies: ReceiptReporterDependencies) {
    this.#dependencies = dependencies;
  }

  /** Events as this server's stream publishes them: other servers' users' messages start watches. */
  observe(events: readonly StoredEvent[]): void {
    for (const event of events) {
      if (event.contentType === controlEventContentType || event.stamp === undefined) continue;
      this.#watch(event.senderUserId as UserId, event.roomId, event.stamp.origin);
    }
  }

  /**
   * A message stored here that this server refused: the sender's server
   * learns it in the next receipt (at most receiptRefusalsMax per origin
   * between two frames; beyond that the oldest are dropped, §12.13).
   */
  refused(room: string, stored: StoredMessage, code: RefusalCode): void {
    const { message } = stored;
    const watch = this.#watch(message.sender, room, message.origin);
    if (watch === null) return;
    if (watch.refused.some(([sequence]) => sequence === message.sequence)) return;
    watch.refused.push([message.sequence, code]);
    if (watch.refused.length > federationLimits.receiptRefusalsMax) watch.refused.shift();
  }

  /** Starts or refreshes the watch of a message from `sender`; null for this server's own users. */
  #watch(sender: UserId, roomId: string, originId: string): OriginWatch | null {
    const peer = serverOfUser(sender);
    if (peer === this.#dependencies.serverName()) return null;
    let rooms = this.#watches.get(peer);
    if (rooms === undefined) {
      rooms = new Map();
      this.#watches.set(peer, rooms);
    }
    const nowMs = this.#dependencies.nowMs();
    let room = rooms.get(roomId);
    if (room === undefined) {
      room = { origins: new Map(), lastMessageMs: nowMs, lastCountedMs: 0 };
      rooms.set(roomId, room);
    }
    room.lastMessageMs = nowMs;
    let origin = room.origins.get(originId);
    if (origin === undefined) {
      origin = { lastMessageMs: nowMs, lastSent: null, refused: [] };
      room.origins.set(originId, origin);
    } else origin.lastMessageMs = nowMs;
    return origin;
  }

  /** Counts the watches that are due and sends each peer one frame of what changed. */
  async report(audienceOf: AudienceOf): Promise<void> {
    if (this.#reporting) return;
    this.#reporting = true;
    const round: RoundReceipts = new Map();
    try {
      for (const [peer, rooms] of [...this.#watches]) {
        const frameRooms: RoomReceipts[] = [];
        const sentAfter: Array<() => void> = [];
        for (const [roomId, room] of [...rooms]) {
          if (frameRooms.length >= federationLimits.receiptRoomsPerFrameMax) break;
          if (!this.#due(room)) continue;
          const counted = await this.#countRoom(roomId, room, audienceOf, round);
          if (counted === null) {
            rooms.delete(roomId);
            continue;
          }
          if (counted.changed.length > 0) {
            frameRooms.push({ room: roomId as RoomId, receipts: counted.receipts });
            sentAfter.push(() => {
              for (const [watch, json, refusalsSent] of counted.changed) {
                watch.lastSent = json;
                // Refusals that arrived while counting stay for the next frame.
                watch.refused = watch.refused.filter((refusal) => !refusalsSent.includes(refusal));
              }
            });
          }
          for (const origin of counted.settled) room.origins.delete(origin);
          if (room.origins.size === 0) rooms.delete(roomId);
        }
        if (rooms.size === 0) this.#watches.delete(peer);
        if (frameRooms.length === 0) continue;
        if (this.#dependencies.send(peer, { type: "receipts", rooms: frameRooms })) {
          for (const done of sentAfter) done();
        }
      }
    } finally {
      this.#reporting = false;
    }
  }

  #due(room: RoomWatch): boolean {
    const nowMs = this.#dependencies.nowMs();
    if (nowMs - room.lastMessageMs < busyWindowMs) return true;
    return nowMs - room.lastCountedMs >= quietIntervalMs;
  }

  /**
   * The receipts of the room's most recently active origins, which of them
   * changed since last sent, and which are settled (every device has all
   * that is held, and that was sent) or expired. Null: the room cannot be
   * counted (too big) and is no longer watched.
   */
  async #countRoom(
    roomId: string,
    room: RoomWatch,
    audienceOf: AudienceOf,
    round: RoundReceipts,
  ): Promise<{
    receipts: OriginReceipt[];
    changed: Array<[OriginWatch, string, ReadonlyArray<readonly [number, RefusalCode]>]>;
    settled: string[];
  } | null> {
    const audience = await audienceOf(roomId);
    if (audience === null) return null;
    const nowMs = this.#dependencies.nowMs();
    room.lastCountedMs = nowMs;
    const origins = [...room.origins]
      .sort(([, a], [, b]) => b.lastMessageMs - a.lastMessageMs)
      .slice(0, federationLimits.receiptOriginsPerRoomMax);
    const receipts: OriginReceipt[] = [];
    // The watch, its receipt's JSON (without refusals), and the refusals the receipt carries.
    const changed: Array<[OriginWatch, string, ReadonlyArray<readonly [number, RefusalCode]>]> = [];
    const settled: string[] = [];
    for (const [origin, watch] of origins) {
      const key = `${roomId} ${origin}`;
      let counting = round.get(key);
      if (counting === undefined) {
        counting = this.#receiptOf(roomId, origin, audience);
        round.set(key, counting);
      }
      const receipt = await counting;
      const refused = [...watch.refused];
      receipts.push(refused.length === 0 ? receipt : { ...receipt, refused });
      const json = JSON.stringify(receipt);
      if (json !== watch.lastSent || refused.length > 0) changed.push([watch, json, refused]);
      const everyDevice =
        receipt.held > 0 && devicesCovering(receipt.devices, receipt.held) >= receipt.devicesTotal;
      const expired = nowMs - watch.lastMessageMs > watchLifetimeMs;
      if ((everyDevice && json === watch.lastSent && refused.length === 0) || expired)
        settled.push(origin);
    }
    return { receipts, changed, settled };
  }

  /** This server's receipt for one origin of a room, now. */
  async #receiptOf(roomId: string, origin: string, audience: RoomAudience): Promise<OriginReceipt> {
    const held = this.#dependencies.heldMark(roomId, origin);
    const rows = await this.#dependencies.storage.events.originPositions({
      roomId,
      origin,
      throughSequence: held,
      limit: pageSizeMax,
    });
    const devices = deviceSteps(
      originWindow(rows, held),
      audience.localCursorsAscending,
      federationLimits.receiptDeviceStepsMax,
    );
    return {
      origin: origin as NodeId,
      held,
      devices,
      devicesTotal: audience.localCursorsAscending.length,
      refused: [],
    };
  }
}
