// One room's message store: the reference in-memory store (its indexes and
// every body), with each new message also added to the pending batch.
//
// Every body stays in memory because the store's reads are synchronous (the
// message lane calls `after` while answering a backfill request inline) and
// PostgreSQL can only be read asynchronously. The bound and the follow-up
// (a window of recent bodies plus an asynchronous prefetch for older ones)
// are in README.md.

import {
  MemoryMessageStore,
  type MessageId,
  type RoomMessageStore,
  type StoredMessage,
} from "@parley/federation";
import type { RoomId } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import { federationMessagesPerRoomMax } from "../../limits.ts";
import { StorageError } from "../../storage/errors.ts";

export interface MessageWriteListener {
  messagePut(room: RoomId, stored: StoredMessage): void;
}

export class DatabaseMessageStore implements RoomMessageStore {
  readonly #room: RoomId;
  readonly #memory = new MemoryMessageStore(federationMessagesPerRoomMax);
  readonly #listener: MessageWriteListener;

  constructor(room: RoomId, listener: MessageWriteListener) {
    this.#room = room;
    this.#listener = listener;
  }

  /** Adds a message read back from the database (not a new write). */
  load(stored: StoredMessage): void {
    this.#memory.put(stored);
  }

  get size(): number {
    return this.#memory.size;
  }

  put(stored: StoredMessage): boolean {
    if (stored.message.room !== this.#room) {
      throw new StorageError("invalid-input", "a message was put in another room's store");
    }
    if (!this.#memory.put(stored)) return false;
    this.#listener.messagePut(this.#room, stored);
    return true;
  }

  get(id: MessageId): StoredMessage | undefined {
    return this.#memory.get(id);
  }

  after(origin: NodeId, sequence: number, countMax: number): readonly StoredMessage[] {
    return this.#memory.after(origin, sequence, countMax);
  }

  origins(): readonly NodeId[] {
    return this.#memory.origins();
  }

  contiguous(origin: NodeId): number {
    return this.#memory.contiguous(origin);
  }

  ahead(origin: NodeId): readonly number[] {
    return this.#memory.ahead(origin);
  }

  last(origin: NodeId): StoredMessage | undefined {
    return this.#memory.last(origin);
  }

  all(): Iterable<StoredMessage> {
    return this.#memory.all();
  }
}
