// Reading a room's past (docs/protocol.md §10.4): pages in history order —
// the order every server of the room converges on, which applications show —
// or in this server's arrival order, the room sequences the stream delivers.
// Signatures are verified and encrypted messages decrypted on the way.

import type { DeviceId, EventJson, RoomId, SignatureProvider } from "@parley/protocol";
import type { ArrivalQuery, HistoryQuery, RoomApi } from "../rooms/room-api.ts";
import type { HistoryEvent, TimelineEvent } from "./client-events.ts";
import { decodeTimelineEvent } from "./decode-event.ts";

/** One page: `next` is the `from` of the page after it in the same direction. */
export interface HistoryPage<Event, Cursor> {
  readonly events: Event[];
  readonly more: boolean;
  readonly next: Cursor;
}

/** What reading needs of encrypted rooms (encryption/encrypted-rooms.ts). */
export interface HistoryDecryption {
  /** A message from history as the application sees it: decrypted, or `undecryptable`. */
  fromHistory(event: Extract<TimelineEvent, { type: "message" }>): Promise<HistoryEvent>;
}

export interface HistoryReaderDependencies {
  readonly rooms: Pick<RoomApi, "history" | "arrivals">;
  readonly provider: SignatureProvider;
  readonly deviceId: DeviceId;
  readonly encryption: HistoryDecryption;
}

export class HistoryReader {
  readonly #dependencies: HistoryReaderDependencies;

  constructor(dependencies: HistoryReaderDependencies) {
    this.#dependencies = dependencies;
  }

  /** A page in history order, decrypted. */
  async history(
    roomId: RoomId,
    query: HistoryQuery,
  ): Promise<HistoryPage<HistoryEvent, string | null>> {
    const page = await this.#dependencies.rooms.history(roomId, query);
    return { events: await this.#decrypted(page.events), more: page.more, next: page.next };
  }

  /** A page in this server's arrival order, decrypted. */
  async arrivals(roomId: RoomId, query: ArrivalQuery): Promise<HistoryPage<HistoryEvent, number>> {
    const page = await this.#dependencies.rooms.arrivals(roomId, query);
    return { events: await this.#decrypted(page.events), more: page.more, next: page.next };
  }

  /** A page in history order as the server holds it: encrypted messages stay ciphertexts. */
  async raw(
    roomId: RoomId,
    query: HistoryQuery,
  ): Promise<HistoryPage<TimelineEvent, string | null>> {
    const page = await this.#dependencies.rooms.history(roomId, query);
    return {
      events: page.events.map((json) => this.#decode(json)),
      more: page.more,
      next: page.next,
    };
  }

  async #decrypted(events: readonly EventJson[]): Promise<HistoryEvent[]> {
    const decoded: HistoryEvent[] = [];
    for (const json of events) {
      const event = this.#decode(json);
      decoded.push(
        event.type === "message" ? await this.#dependencies.encryption.fromHistory(event) : event,
      );
    }
    return decoded;
  }

  #decode(json: EventJson): TimelineEvent {
    return decodeTimelineEvent(this.#dependencies.provider, json, this.#dependencies.deviceId);
  }
}
