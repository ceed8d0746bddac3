// The applied state of rooms, in memory, loaded from storage on first use:
// the newest snapshot, then the control log after it, applied in log order
// through the pure RoomStateMachine (as a sponsor replays its Raft log).
//
// Recovery. A control entry is appended to the log first and its effects
// (membership index, control event, notices) are recorded after. A crash in
// between leaves entries beyond the stored applied index; loading finds them
// and hands them to `onUnrecorded` in order, whose writes are idempotent.
//
// The cache is bounded (least recently used rooms are dropped) and holds the
// hash of the newest entry so the next append can chain to it.

import type { RoomId, UserId } from "@parley/protocol";
import {
  type ControlEntry,
  decodeControlEntry,
  decodeRoomSnapshot,
  type Membership,
  RoomStateMachine,
} from "@parley/room";
import { pageSizeMax, roomStatesCachedMax } from "../limits.ts";
import type { Storage } from "../storage/storage.ts";
import { membershipsOf, touchedUsers } from "./membership-changes.ts";

export interface LoadedRoom {
  readonly roomId: RoomId;
  readonly machine: RoomStateMachine;
  /** Hash of the newest log entry; null for an empty log. */
  lastHash: Uint8Array | null;
}

/** An entry in the log whose effects were not recorded before a crash. */
export interface UnrecordedEntry {
  readonly entry: ControlEntry;
  readonly entryBytes: Uint8Array;
  readonly index: number;
  readonly before: ReadonlyMap<UserId, Membership | "none">;
}

export class RoomStates {
  readonly #storage: Storage;
  readonly #rooms = new Map<string, LoadedRoom>();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** The cached room, if loaded; marks it recently used. */
  cached(roomId: string): LoadedRoom | undefined {
    const room = this.#rooms.get(roomId);
    if (room !== undefined) {
      this.#rooms.delete(roomId);
      this.#rooms.set(roomId, room);
    }
    return room;
  }

  remember(room: LoadedRoom): void {
    this.#rooms.delete(room.roomId);
    if (this.#rooms.size >= roomStatesCachedMax) {
      const oldest = this.#rooms.keys().next();
      if (oldest.done !== true) this.#rooms.delete(oldest.value);
    }
    this.#rooms.set(room.roomId, room);
  }

  forget(roomId: string): void {
    this.#rooms.delete(roomId);
  }

  /**
   * Loads a room from storage (not from the cache). Null when the room row
   * does not exist. Entries beyond the recorded applied index are returned
   * for the caller to record.
   */
  async load(roomId: RoomId): Promise<{ room: LoadedRoom; unrecorded: UnrecordedEntry[] } | null> {
    if ((await this.#storage.rooms.get(roomId)) === null) return null;
    const stored = await this.#storage.rooms.loadState(roomId);
    const snapshot = stored?.snapshot ?? null;
    const machine = new RoomStateMachine(
      snapshot === null ? undefined : decodeRoomSnapshot(snapshot.state),
    );
    const recordedIndex = stored?.appliedIndex ?? 0;
    const room: LoadedRoom = { roomId, machine, lastHash: null };
    const unrecorded: UnrecordedEntry[] = [];
    // Start at the snapshot's own entry to learn its hash; it is not applied again.
    let from = Math.max(1, machine.appliedIndex);
    // Bounded: each page advances `from` by at least one entry of a finite log.
    for (;;) {
      const page = await this.#storage.rooms.readControlEntries(roomId, from, pageSizeMax);
      for (const stored of page.items) {
        room.lastHash = stored.entryHash;
        if (stored.logIndex <= machine.appliedIndex) continue;
        const entry = decodeControlEntry(stored.entry);
        const before =
          entry.actor.type === "user"
            ? membershipsOf(machine.state, touchedUsers(entry.actor.user, entry.action))
            : new Map<UserId, Membership | "none">();
        machine.apply(entry, stored.logIndex);
        if (stored.logIndex > recordedIndex) {
          unrecorded.push({ entry, entryBytes: stored.entry, index: stored.logIndex, before });
        }
      }
      const last = page.items.at(-1);
      if (!page.more || last === undefined) break;
      from = last.logIndex + 1;
    }
    return { room, unrecorded };
  }
}
