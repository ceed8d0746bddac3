// One user's cached view of their rooms in the browser database: each room's
// newest events (shown at once after a reload, before the server answers)
// and the read markers behind the unread counts. Values written by an older
// version of the page, or damaged, are dropped rather than trusted.

import type { BrowserDatabase } from "./browser-database.ts";

/** Events kept per room; older ones are one history request away. */
export const cachedEventsPerRoomMax = 300;

interface CachedEvent {
  readonly roomId: string;
  readonly sequence: number;
  readonly acceptedAtMs: number;
  readonly type: string;
}

function isCachedEvent(value: unknown): value is CachedEvent {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as Record<string, unknown>;
  return (
    typeof fields["sequence"] === "number" &&
    typeof fields["acceptedAtMs"] === "number" &&
    typeof fields["type"] === "string" &&
    typeof fields["roomId"] === "string"
  );
}

export class RoomCache<Event extends CachedEvent> {
  readonly #database: BrowserDatabase;
  readonly #prefix: string;

  /** `userId` scopes every key, so accounts sharing a browser never see each other's rooms. */
  constructor(database: BrowserDatabase, userId: string) {
    this.#database = database;
    this.#prefix = `user:${userId}:`;
  }

  async events(roomId: string): Promise<Event[]> {
    const value = await this.#database.cached(`${this.#prefix}events:${roomId}`);
    if (!Array.isArray(value) || !value.every(isCachedEvent)) return [];
    // The key names the room; an event of another room in it is damage.
    return value.filter((event) => event.roomId === roomId) as Event[];
  }

  /** Keeps the newest `cachedEventsPerRoomMax` of `events` (ascending sequence). */
  saveEvents(roomId: string, events: readonly Event[]): Promise<void> {
    const kept = events.slice(Math.max(0, events.length - cachedEventsPerRoomMax));
    return this.#database.cache(`${this.#prefix}events:${roomId}`, kept);
  }

  /** Room id → the newest sequence read. */
  async readMarkers(): Promise<Record<string, number>> {
    const value = await this.#database.cached(`${this.#prefix}read`);
    if (typeof value !== "object" || value === null) return {};
    const markers: Record<string, number> = {};
    for (const [roomId, sequence] of Object.entries(value)) {
      if (typeof sequence === "number" && Number.isSafeInteger(sequence))
        markers[roomId] = sequence;
    }
    return markers;
  }

  saveReadMarkers(markers: Readonly<Record<string, number>>): Promise<void> {
    return this.#database.cache(`${this.#prefix}read`, { ...markers });
  }

  /** Drops this user's cache (sign-out). */
  forget(): Promise<void> {
    return this.#database.forgetCached(this.#prefix);
  }
}
