// Turns what the stream delivers into application events, exactly once:
// events are dropped when their room sequence was already handed over (the
// stream is at least once), a jump in a room's sequences is filled from
// history first (so a `missed` frame or a retention cut loses nothing still
// stored), and the cursor is saved before the stream acknowledges, so a
// restarted client neither repeats nor skips.

import {
  type DeviceId,
  decodeBase64url,
  type EventJson,
  type HistoryPageJson,
  ParleyError,
  type QueueItemJson,
  type RoomId,
  type SignatureProvider,
} from "@parley/protocol";
import type { Outbox } from "../delivery/outbox.ts";
import type { SavedCursor, SavedState } from "../store/saved-state.ts";
import type { StreamHandlers } from "../stream/live-stream.ts";
import type { ClientEvent } from "./client-events.ts";
import { decodeQueueItem, decodeTimelineEvent } from "./decode-event.ts";

/** Pages fetched to fill one gap; beyond it the rest is reported as missed. */
const gapPagesMax = 20;
const gapPageSize = 500;

export interface TimelineSyncDependencies {
  readonly saved: SavedState;
  readonly provider: SignatureProvider;
  readonly deviceId: DeviceId;
  readonly outbox: Outbox;
  /** A page of the server's arrival order (`/messages`): gaps are holes in room sequences. */
  readonly arrivals: (
    roomId: RoomId,
    query: { from: number; direction: "forward"; limit: number },
  ) => Promise<HistoryPageJson>;
  readonly emit: (event: ClientEvent) => void;
  readonly encryption: TimelineEncryption;
}

/** What the timeline needs from encrypted rooms (encryption/encrypted-rooms.ts). */
export interface TimelineEncryption {
  /** A message event as the application sees it: decrypted, or `undecryptable`. */
  decrypt(event: Extract<ClientEvent, { type: "message" }>): Promise<ClientEvent>;
  /** An ordered commit of a room, applied to the device's member. */
  commitEvent(
    roomId: RoomId,
    epoch: number,
    controlIndex: number,
    commit: Uint8Array,
  ): Promise<void>;
  welcome(body: QueueItemJson["body"]): Promise<void>;
  /** Store changes (sealed MLS state) to write with the cursor. */
  takeChanges(): Promise<Map<string, string | undefined>>;
}

export class TimelineSync implements Omit<StreamHandlers, "connection" | "delivery"> {
  readonly #dependencies: TimelineSyncDependencies;
  #streamPosition = 0;
  #queuePosition = 0;
  readonly #roomSequences = new Map<string, number>();

  constructor(dependencies: TimelineSyncDependencies) {
    this.#dependencies = dependencies;
  }

  /** Reads the saved cursor; call before the stream starts. */
  async load(): Promise<void> {
    const cursor = await this.#dependencies.saved.cursor();
    this.#streamPosition = cursor.streamPosition;
    this.#queuePosition = cursor.queuePosition;
    for (const [roomId, sequence] of Object.entries(cursor.roomSequences)) {
      this.#roomSequences.set(roomId, sequence);
    }
  }

  /** The highest sequence handed over for a room, or 0. */
  lastSequence(roomId: string): number {
    return this.#roomSequences.get(roomId) ?? 0;
  }

  async events(events: readonly EventJson[]): Promise<void> {
    for (const event of events) {
      await this.#deliver(event);
      this.#streamPosition = Math.max(this.#streamPosition, event.position);
    }
    await this.#save();
  }

  async queue(items: readonly QueueItemJson[]): Promise<void> {
    for (const item of items) {
      if (item.position <= this.#queuePosition) continue;
      this.#queuePosition = item.position;
      try {
        if (item.kind === "welcome") {
          await this.#dependencies.encryption.welcome(item.body);
          continue;
        }
        const event = decodeQueueItem(item);
        if (event !== undefined) this.#dependencies.emit(event);
      } catch (error) {
        this.#reportError(error);
      }
    }
    await this.#save();
  }

  async missed(count: number, through: number): Promise<void> {
    this.#dependencies.emit({ type: "missed", scope: "stream", count, throughPosition: through });
  }

  async #deliver(event: EventJson): Promise<void> {
    const known = this.lastSequence(event.roomId);
    if (event.sequence <= known) return;
    // Rooms seen before have no holes: fill one from history before going on.
    if (known > 0 && event.sequence > known + 1) {
      await this.#fill(event.roomId as RoomId, known, event.sequence - 1);
    }
    if (event.sequence <= this.lastSequence(event.roomId)) return;
    this.#roomSequences.set(event.roomId, event.sequence);
    try {
      const decoded = decodeTimelineEvent(
        this.#dependencies.provider,
        event,
        this.#dependencies.deviceId,
      );
      if (decoded.type === "message" && decoded.fromThisDevice) {
        await this.#dependencies.outbox.sawAccepted(decoded.roomId, decoded.clientId, {
          sequence: decoded.sequence,
          streamPosition: decoded.position,
          acceptedAtMs: decoded.acceptedAtMs,
          controlIndex: decoded.controlIndex,
        });
      }
      if (decoded.type === "room-change" && event.mls?.commit != null) {
        await this.#dependencies.encryption.commitEvent(
          decoded.roomId,
          event.mls.epoch,
          decoded.controlIndex,
          decodeBase64url(event.mls.commit),
        );
      }
      this.#dependencies.emit(
        decoded.type === "message" ? await this.#dependencies.encryption.decrypt(decoded) : decoded,
      );
    } catch (error) {
      this.#reportError(error);
    }
  }

  async #fill(roomId: RoomId, after: number, through: number): Promise<void> {
    let from = after;
    for (let page = 0; page < gapPagesMax && from < through; page += 1) {
      let answer: HistoryPageJson;
      try {
        answer = await this.#dependencies.arrivals(roomId, {
          from,
          direction: "forward",
          limit: gapPageSize,
        });
      } catch (error) {
        // No longer readable (left, kicked) or unreachable: report what is missing.
        this.#reportError(error);
        break;
      }
      for (const event of answer.events) {
        if (event.sequence > through) break;
        await this.#deliver(event);
      }
      if (!answer.more || answer.next <= from) break;
      from = answer.next;
    }
    const reached = this.lastSequence(roomId);
    if (reached < through) {
      this.#dependencies.emit({
        type: "missed",
        scope: "room",
        roomId,
        count: through - reached,
        throughSequence: through,
      });
    }
  }

  /** Saves the cursor with the MLS state the same events moved, in one store write. */
  async #save(): Promise<void> {
    const cursor: SavedCursor = {
      streamPosition: this.#streamPosition,
      queuePosition: this.#queuePosition,
      roomSequences: Object.fromEntries(this.#roomSequences),
    };
    const alongside = await this.#dependencies.encryption.takeChanges();
    return this.#dependencies.saved.saveCursor(cursor, alongside);
  }

  #reportError(error: unknown): void {
    const parleyError =
      error instanceof ParleyError
        ? error
        : new ParleyError("internal", "an event could not be processed", { cause: error });
    this.#dependencies.emit({ type: "error", error: parleyError });
  }
}
