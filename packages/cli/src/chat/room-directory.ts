// The rooms `parley chat` knows about, in the order they were learned (that
// order gives /rooms its numbers), with their names, and which one is
// current. Resolves what a user types as ROOM: a number, an id, or a name.

import type { RoomId } from "@parley/protocol";

export type RoomStanding = "joined" | "invited" | "knocking";

export interface KnownRoom {
  readonly roomId: RoomId;
  name: string;
  standing: RoomStanding;
}

export class RoomDirectory {
  readonly #rooms = new Map<RoomId, KnownRoom>();
  current: RoomId | undefined;

  list(): KnownRoom[] {
    return [...this.#rooms.values()];
  }

  get(roomId: RoomId): KnownRoom | undefined {
    return this.#rooms.get(roomId);
  }

  /** Adds or updates a room; an empty name keeps the known one. */
  set(roomId: RoomId, standing: RoomStanding, name = ""): KnownRoom {
    const existing = this.#rooms.get(roomId);
    if (existing !== undefined) {
      existing.standing = standing;
      if (name !== "") existing.name = name;
      return existing;
    }
    const room = { roomId, name, standing };
    this.#rooms.set(roomId, room);
    return room;
  }

  remove(roomId: RoomId): void {
    this.#rooms.delete(roomId);
    if (this.current === roomId) {
      this.current = this.list().find((room) => room.standing === "joined")?.roomId;
    }
  }

  /** `#name` (or a short id when the room has no name yet). */
  label(roomId: RoomId): string {
    const name = this.#rooms.get(roomId)?.name ?? "";
    return name === "" ? roomId.slice(0, 8) : `#${name.replace(/\s+/g, "-")}`;
  }

  /** A room by its /rooms number, its id, or its name (with or without #, any case). */
  resolve(text: string): KnownRoom | undefined {
    const wanted = text.trim();
    const rooms = this.list();
    if (/^\d+$/.test(wanted)) return rooms[Number(wanted) - 1];
    if (wanted.startsWith("!")) return rooms.find((room) => room.roomId === wanted);
    const name = wanted.replace(/^#/, "").toLowerCase();
    return rooms.find(
      (room) =>
        room.name.toLowerCase() === name || room.name.replace(/\s+/g, "-").toLowerCase() === name,
    );
  }
}
