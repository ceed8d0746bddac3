// Delivery truth on the sender's server (docs/protocol.md §10.14): for the
// newest messages each local user sent, how many of the room's servers hold
// them and how many of the room's devices acknowledged them, pushed to every
// stream socket of the sender as `delivery` frames.
//
// Counting never adds a row per message per device: each round, for every
// room with a message still short of everyone, the tracker takes the room's
// audience (delivery-truth.ts reads it once per round for both directions)
// and counts every tracked message of the room by binary search over the
// sorted cursors.

import type { ReceiptsFrame } from "@parley/federation";
import { serverOfNode } from "@parley/federation";
import { type DeliveryItemJson, serverOfUser, type UserId } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import {
  deliveryFrameItemsMax,
  deliveryTrackedAgeMaxMs,
  deliveryTrackedPerUserMax,
} from "../limits.ts";
import { controlEventContentType } from "../rooms/control-events.ts";
import type { StoredEvent } from "../storage/records.ts";
import {
  countDelivery,
  type DeliveryCounts,
  isComplete,
  mergeCounts,
  type ReceiptFigures,
  type RoomAudience,
  sameCounts,
  type TrackedMessage,
} from "./delivery-counts.ts";

export interface DeliveryTrackerDependencies {
  readonly serverName: () => string;
  readonly nowMs: () => number;
  /** Sends a frame to every stream socket of the user; false if the user has none. */
  readonly sendToUser: (userId: string, frame: string) => boolean;
}

/** A room's audience for this round, or null when the room is too big to count. */
export type AudienceOf = (roomId: string) => Promise<RoomAudience | null>;

interface Tracked {
  readonly message: TrackedMessage;
  /** What was last computed; null before the first count. */
  counts: DeliveryCounts | null;
  /** Counts changed since the user's sockets were last sent them. */
  unsent: boolean;
}

export class DeliveryTracker {
  readonly #dependencies: DeliveryTrackerDependencies;
  /** Per user, ascending by position. */
  readonly #byUser = new Map<string, Tracked[]>();
  /** Rooms with a tracked message not yet held by everyone. */
  readonly #openRooms = new Map<string, Set<Tracked>>();
  /** Newest receipts of the open rooms (§12.13): room → server → origin → receipt. */
  readonly #receipts = new Map<string, Map<string, Map<string, ReceiptFigures>>>();
  /** Refusals receipts reported, by tracked message: shown once, kept until it leaves tracking. */
  readonly #refusals = new Map<Tracked, Array<{ server: string; code: string }>>();
  /** Users with counts their sockets have not been sent; offline users leave it until `resend`. */
  readonly #unsentUsers = new Set<string>();
  #counting = false;

  constructor(dependencies: DeliveryTrackerDependencies) {
    this.#dependencies = dependencies;
  }

  /** Events as the stream publishes them: this server's users' messages start being tracked. */
  observe(events: readonly StoredEvent[]): void {
    let ownServer: string | null = null;
    for (const event of events) {
      if (event.contentType === controlEventContentType) continue;
      ownServer ??= this.#dependencies.serverName();
      if (serverOfUser(event.senderUserId as UserId) !== ownServer) continue;
      const origin = event.stamp?.origin;
      this.#track({
        roomId: event.roomId,
        position: event.streamPosition,
        senderUserId: event.senderUserId,
        senderDeviceId: event.senderDeviceId,
        stampingServer: origin === undefined ? null : serverOfNode(origin as NodeId),
        origin: origin ?? null,
        originSequence: event.stamp?.sequence ?? 0,
        acceptedAtMs: event.acceptedAtMs,
      });
    }
  }

  /**
   * A peer's receipts. Only rooms with a tracked message are kept; whether
   * the peer counts at all is decided when counting (a server without a
   * joined member is not one of the room's servers).
   */
  receiptsArrived(peer: string, frame: ReceiptsFrame): void {
    for (const room of frame.rooms) {
      const tracked = this.#openRooms.get(room.room);
      if (tracked === undefined) continue;
      let servers = this.#receipts.get(room.room);
      if (servers === undefined) {
        servers = new Map();
        this.#receipts.set(room.room, servers);
      }
      const origins = servers.get(peer) ?? new Map<string, ReceiptFigures>();
      servers.set(peer, origins);
      for (const receipt of room.receipts) {
        const before = origins.get(receipt.origin);
        // Receipts are cumulative; one that arrives late must not undo a newer one.
        if (before !== undefined && before.held > receipt.held) continue;
        origins.set(receipt.origin, receipt);
        for (const [sequence, code] of receipt.refused)
          this.#refused(tracked, peer, receipt.origin, sequence, code);
      }
    }
  }

  /** Counts every open room again and sends what changed. Runs once at a time. */
  async count(audienceOf: AudienceOf): Promise<void> {
    if (this.#counting) return;
    this.#counting = true;
    try {
      this.#forgetOld();
      for (const [roomId, tracked] of [...this.#openRooms]) {
        const audience = await audienceOf(roomId);
        if (audience === null) {
          // Too big to count: its messages get no items and age out.
          this.#openRooms.delete(roomId);
          continue;
        }
        for (const entry of tracked) {
          const now = countDelivery(
            entry.message,
            audience,
            this.#dependencies.serverName(),
            this.#receipts.get(roomId),
          );
          const merged = mergeCounts(entry.counts, now);
          if (entry.counts === null || !sameCounts(entry.counts, merged)) {
            entry.counts = merged;
            this.#markUnsent(entry);
          }
          if (isComplete(merged)) tracked.delete(entry);
        }
        if (tracked.size === 0) this.#closeRoom(roomId);
      }
      this.#sendUnsent();
    } finally {
      this.#counting = false;
    }
  }

  /** A socket of `userId` became ready: it gets the counts of every tracked message. */
  resend(userId: string): void {
    for (const entry of this.#byUser.get(userId) ?? []) {
      if (entry.counts !== null) this.#markUnsent(entry);
    }
    this.#sendUnsent(userId);
  }

  #markUnsent(entry: Tracked): void {
    entry.unsent = true;
    this.#unsentUsers.add(entry.message.senderUserId);
  }

  #track(message: TrackedMessage): void {
    const list = this.#byUser.get(message.senderUserId) ?? [];
    const entry: Tracked = { message, counts: null, unsent: false };
    list.push(entry);
    this.#byUser.set(message.senderUserId, list);
    this.#openRoom(message.roomId).add(entry);
    while (list.length > deliveryTrackedPerUserMax) {
      const oldest = list.shift();
      if (oldest !== undefined) this.#close(oldest);
    }
  }

  #openRoom(roomId: string): Set<Tracked> {
    let set = this.#openRooms.get(roomId);
    if (set === undefined) {
      set = new Set();
      this.#openRooms.set(roomId, set);
    }
    return set;
  }

  #close(entry: Tracked): void {
    this.#refusals.delete(entry);
    const room = this.#openRooms.get(entry.message.roomId);
    room?.delete(entry);
    if (room?.size === 0) this.#closeRoom(entry.message.roomId);
  }

  #closeRoom(roomId: string): void {
    this.#openRooms.delete(roomId);
    this.#receipts.delete(roomId);
  }

  #refused(
    tracked: ReadonlySet<Tracked>,
    server: string,
    origin: string,
    sequence: number,
    code: string,
  ): void {
    for (const entry of tracked) {
      if (entry.message.origin !== origin || entry.message.originSequence !== sequence) continue;
      const refusals = this.#refusals.get(entry) ?? [];
      if (refusals.some((known) => known.server === server)) continue;
      refusals.push({ server, code });
      this.#refusals.set(entry, refusals);
      this.#markUnsent(entry);
    }
  }

  #forgetOld(): void {
    const oldestKeptMs = this.#dependencies.nowMs() - deliveryTrackedAgeMaxMs;
    for (const [user, list] of this.#byUser) {
      while (list.length > 0 && (list[0]?.message.acceptedAtMs ?? 0) < oldestKeptMs) {
        const oldest = list.shift();
        if (oldest !== undefined) this.#close(oldest);
      }
      if (list.length === 0) this.#byUser.delete(user);
    }
  }

  /**
   * One frame per user (per socket, through sendToUser) of at most
   * deliveryFrameItemsMax items. Complete messages whose counts went out
   * leave tracking (§10.14).
   */
  #sendUnsent(onlyUser?: string): void {
    const users = onlyUser === undefined ? [...this.#unsentUsers] : [onlyUser];
    for (const user of users) {
      const list = this.#byUser.get(user) ?? [];
      const items: DeliveryItemJson[] = [];
      const included: Tracked[] = [];
      for (const entry of list) {
        if (!entry.unsent || entry.counts === null) continue;
        items.push({
          roomId: entry.message.roomId,
          position: entry.message.position,
          servers: entry.counts.servers,
          devices: entry.counts.devices,
          refused: this.#refusals.get(entry) ?? [],
        });
        included.push(entry);
        if (items.length >= deliveryFrameItemsMax) break;
      }
      const cut = items.length >= deliveryFrameItemsMax;
      // Offline: nothing to do until a socket is ready, when `resend` sends it all.
      if (
        items.length > 0 &&
        !this.#dependencies.sendToUser(user, JSON.stringify({ type: "delivery", items }))
      ) {
        this.#unsentUsers.delete(user);
        continue;
      }
      if (!cut) this.#unsentUsers.delete(user);
      const finished = new Set<Tracked>();
      for (const entry of included) {
        entry.unsent = false;
        if (entry.counts !== null && isComplete(entry.counts)) finished.add(entry);
      }
      if (finished.size === 0) continue;
      for (const entry of finished) this.#refusals.delete(entry);
      const kept = list.filter((entry) => !finished.has(entry));
      if (kept.length === 0) this.#byUser.delete(user);
      else this.#byUser.set(user, kept);
    }
  }
}
