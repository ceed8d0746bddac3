// What changed in memory since the last flush, recorded as "what to rewrite"
// rather than as a list of operations: a flush writes the current in-memory
// state of everything named here, so repeated writes to one group or room
// between flushes cost one row each, and writing a batch twice (a retry
// after a failed flush) gives the same rows.

import type { StoredMessage } from "@parley/federation";
import type { RoomId } from "@parley/protocol";
import type { RaftGroupStorage, RaftWrite, RaftWriteListener } from "./raft-group-storage.ts";

export function groupKey(room: string, node: string): string {
  return `${room} ${node}`;
}

export interface PendingGroup {
  readonly storage: RaftGroupStorage;
  /** Entries from this index on are written (0: all; Infinity: none). */
  rewriteFromIndex: number;
  /** Stored entries from `rewriteFromIndex` on may differ: delete them first. */
  truncates: boolean;
  /** The compaction point moved: delete stored entries at or before it. */
  movesOffset: boolean;
}

export interface PendingLeafLog {
  /** The snapshot was replaced: the stored records are all deleted first. */
  replaced: boolean;
  /** Records from this position of the in-memory list on are inserted. */
  fromPosition: number;
}

export interface PendingMessage {
  readonly room: RoomId;
  readonly stored: StoredMessage;
}

/** Rewriting from the lower index, deleting what either had to, covers both writes. */
function mergeGroup(
  into: PendingGroup,
  from: Pick<PendingGroup, "rewriteFromIndex" | "truncates" | "movesOffset">,
): void {
  into.rewriteFromIndex = Math.min(into.rewriteFromIndex, from.rewriteFromIndex);
  into.truncates ||= from.truncates;
  into.movesOffset ||= from.movesOffset;
}

/** Bytes a message or record adds to the batch beyond its body: its row. */
const rowOverheadBytes = 128;

export class PendingWrites implements RaftWriteListener {
  readonly groups = new Map<string, PendingGroup>();
  readonly destroyedGroups = new Map<string, { readonly room: string; readonly node: string }>();
  readonly rooms = new Set<RoomId>();
  /** Rooms whose certificate was replaced. */
  readonly certificates = new Set<RoomId>();
  messages: PendingMessage[] = [];
  readonly leafLogs = new Map<RoomId, PendingLeafLog>();
  #bytes = 0;
  readonly #onGrowth: (bytes: number) => void;

  /** `onGrowth` is told the batch's size after every write (it enforces the bound). */
  constructor(onGrowth: (bytes: number) => void) {
    this.#onGrowth = onGrowth;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get empty(): boolean {
    return (
      this.groups.size === 0 &&
      this.destroyedGroups.size === 0 &&
      this.rooms.size === 0 &&
      this.certificates.size === 0 &&
      this.messages.length === 0 &&
      this.leafLogs.size === 0
    );
  }

  written(storage: RaftGroupStorage, write: RaftWrite): void {
    const key = groupKey(storage.room, storage.node);
    const pending = this.groups.get(key);
    if (pending === undefined || pending.storage !== storage) {
      const { rewriteFromIndex, truncates, movesOffset } = write;
      this.groups.set(key, { storage, rewriteFromIndex, truncates, movesOffset });
    } else {
      mergeGroup(pending, write);
    }
    this.#grow(write.bytes);
  }

  groupDestroyed(room: string, node: string): void {
    const key = groupKey(room, node);
    this.groups.delete(key);
    this.destroyedGroups.set(key, { room, node });
    this.#grow(rowOverheadBytes);
  }

  roomSaved(room: RoomId): void {
    this.rooms.add(room);
    this.#grow(rowOverheadBytes);
  }

  certificateSaved(room: RoomId): void {
    this.certificates.add(room);
    this.#grow(rowOverheadBytes);
  }

  messagePut(room: RoomId, stored: StoredMessage): void {
    this.messages.push({ room, stored });
    this.#grow(rowOverheadBytes + stored.message.body.byteLength);
  }

  leafSnapshotSaved(room: RoomId, bytes: number): void {
    this.leafLogs.set(room, { replaced: true, fromPosition: 0 });
    this.#grow(rowOverheadBytes + bytes);
  }

  leafRecordAppended(room: RoomId, position: number, bytes: number): void {
    if (!this.leafLogs.has(room))
      this.leafLogs.set(room, { replaced: false, fromPosition: position });
    this.#grow(rowOverheadBytes + bytes);
  }

  /**
   * Puts an older batch that failed to flush back in front of this one, so
   * the next flush writes both. Rewriting more than changed is harmless; a
   * group destroyed since the older batch keeps its deletion.
   */
  takeBack(older: PendingWrites): void {
    const destroyedSince = new Set(this.destroyedGroups.keys());
    for (const [key, group] of older.groups) {
      const newer = this.groups.get(key);
      if (newer !== undefined) {
        mergeGroup(newer, group);
      } else if (!destroyedSince.has(key)) {
        this.groups.set(key, group);
      }
    }
    for (const [key, group] of older.destroyedGroups) {
      if (!this.destroyedGroups.has(key)) this.destroyedGroups.set(key, group);
    }
    for (const room of older.rooms) this.rooms.add(room);
    for (const room of older.certificates) this.certificates.add(room);
    this.messages = [...older.messages, ...this.messages];
    for (const [room, log] of older.leafLogs) {
      const newer = this.leafLogs.get(room);
      if (newer === undefined) {
        this.leafLogs.set(room, log);
      } else if (!newer.replaced) {
        newer.replaced = log.replaced;
        newer.fromPosition = Math.min(newer.fromPosition, log.fromPosition);
      }
    }
    // Not checked against the bound: nothing new was written.
    this.#bytes += older.bytes;
  }

  #grow(bytes: number): void {
    this.#bytes += bytes;
    this.#onGrowth(this.#bytes);
  }
}
