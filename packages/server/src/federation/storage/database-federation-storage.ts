// FederationStorage in the homeserver's database, as a write-through mirror.
//
// The federation cores call their storage synchronously, in the middle of
// handling an input; the database is asynchronous (PostgreSQL can only be
// reached that way). So:
// - `open` reads every federation table into memory once;
// - every write changes memory at once and is recorded in a pending batch;
// - `flush()` writes the batch in one transaction and resolves when it is
//   durable. The caller (the federation driver) flushes whenever an input's
//   effects say `mustSync`, before sending that input's frames — the rule of
//   FederationEffects and docs/protocol.md §12.9.
//
// Flushes run one at a time; calls made while one runs share the next. A
// failed flush rejects, and its batch is kept for the next one; the caller
// must stop sending frames (a server whose disk fails must not claim
// durability). Writes not flushed are lost on a crash, all together:
// nothing of a batch is visible until its commit.

import type {
  ControlRecordAt,
  ControlSnapshot,
  FederationStorage,
  GroupStorageProvider,
  LeafControlLog,
  RoomMembershipRecord,
  RoomMessageStore,
} from "@parley/federation";
import { federationLimits } from "@parley/federation";
import type { ControlCertificate, RoomId } from "@parley/protocol";
import type { NodeId, WritableStorage } from "@parley/raft";
import type { Kysely } from "kysely";
import { federationPendingBytesFlushAt, federationPendingBytesMax } from "../../limits.ts";
import type { Database } from "../../storage/database-schema.ts";
import { StorageError } from "../../storage/errors.ts";
import type { DatabaseHandle } from "../../storage/storage.ts";
import { type BatchRows, batchRows } from "./batch-rows.ts";
import { writeBatchRows, writeBatchRowsIn } from "./batch-writer.ts";
import {
  type FederationDatabase,
  federationDatabase,
  federationDatabaseOf,
} from "./federation-tables.ts";
import { forEachStoredMessage, type LoadedMirror, loadMirror } from "./mirror-loader.ts";
import { groupKey, PendingWrites } from "./pending-writes.ts";
import { EMPTY_RAFT_GROUP_STATE, RaftGroupStorage, type RaftWrite } from "./raft-group-storage.ts";
import { DatabaseMessageStore } from "./room-message-store.ts";

export interface DatabaseFederationStorageOptions {
  /** Pending bytes beyond which a write throws (default: limits.federationPendingBytesMax). */
  readonly pendingBytesMax?: number;
}

/** Each Raft group's storage, from the mirror; deletions go into the batch. */
class DatabaseGroupStorageProvider implements GroupStorageProvider {
  readonly #storages = new Map<string, RaftGroupStorage>();
  readonly #pending: () => PendingWrites;

  constructor(loaded: LoadedMirror["groups"], pending: () => PendingWrites) {
    this.#pending = pending;
    for (const { room, node, state } of loaded) {
      const storage = new RaftGroupStorage(room, node, state, { written: this.#written });
      this.#storages.set(groupKey(room, node), storage);
    }
  }

  // The listener is looked up at each write: the batch is replaced at every flush.
  readonly #written = (storage: RaftGroupStorage, write: RaftWrite) =>
    this.#pending().written(storage, write);

  open(room: RoomId, id: NodeId): WritableStorage {
    const key = groupKey(room, id);
    let storage = this.#storages.get(key);
    if (storage === undefined) {
      storage = new RaftGroupStorage(room, id, EMPTY_RAFT_GROUP_STATE, { written: this.#written });
      this.#storages.set(key, storage);
    }
    return storage;
  }

  destroy(room: RoomId, id: NodeId): void {
    this.#storages.delete(groupKey(room, id));
    this.#pending().groupDestroyed(room, id);
  }
}

export class DatabaseFederationStorage implements FederationStorage {
  readonly groups: GroupStorageProvider;
  readonly #db: FederationDatabase;
  readonly #pendingBytesMax: number;
  readonly #messages = new Map<RoomId, DatabaseMessageStore>();
  readonly #rooms: Map<RoomId, RoomMembershipRecord>;
  readonly #leafLogs: Map<RoomId, { snapshot: ControlSnapshot | null; records: ControlRecordAt[] }>;
  readonly #certificates: Map<RoomId, ControlCertificate>;
  #pending: PendingWrites;
  /** The flush running now, if any. */
  #running: Promise<void> | null = null;
  /** The flush that will start when the running one ends; later callers share it. */
  #queued: Promise<void> | null = null;

  private constructor(
    db: FederationDatabase,
    loaded: LoadedMirror,
    options: DatabaseFederationStorageOptions,
  ) {
    this.#db = db;
    this.#pendingBytesMax = options.pendingBytesMax ?? federationPendingBytesMax;
    this.#pending = this.#newBatch();
    this.#rooms = new Map(loaded.rooms);
    this.#leafLogs = new Map(
      [...loaded.leafLogs].map(([room, log]) => [
        room,
        { snapshot: log.snapshot, records: [...log.records] },
      ]),
    );
    this.#certificates = new Map(loaded.certificates);
    this.groups = new DatabaseGroupStorageProvider(loaded.groups, () => this.#pending);
  }

  /** Loads everything the federation host reads at start. The tables must be migrated. */
  static async open(
    handle: DatabaseHandle,
    options: DatabaseFederationStorageOptions = {},
  ): Promise<DatabaseFederationStorage> {
    const db = federationDatabase(handle);
    const storage = new DatabaseFederationStorage(db, await loadMirror(db), options);
    await forEachStoredMessage(db, (room, stored) => storage.#store(room).load(stored));
    return storage;
  }

  /** Bytes written since the last successful flush started. */
  get pendingBytes(): number {
    return this.#pending.bytes;
  }

  /** Whether the caller should flush before its next input even without `mustSync`. */
  get flushWanted(): boolean {
    return this.#pending.bytes >= federationPendingBytesFlushAt;
  }

  messages(room: RoomId): RoomMessageStore {
    return this.#store(room);
  }

  rooms(): readonly RoomId[] {
    return [...this.#rooms.keys()].sort();
  }

  loadRoom(room: RoomId): RoomMembershipRecord | undefined {
    return this.#rooms.get(room);
  }

  saveRoom(room: RoomId, record: RoomMembershipRecord): void {
    this.#rooms.set(room, { ...record, contacts: [...record.contacts] });
    this.#pending.roomSaved(room);
  }

  leafLog(room: RoomId): LeafControlLog {
    const log = this.#leafLogs.get(room);
    return log === undefined ? { snapshot: null, records: [] } : log;
  }

  saveLeafSnapshot(room: RoomId, snapshot: ControlSnapshot): void {
    this.#leafLogs.set(room, { snapshot, records: [] });
    this.#pending.leafSnapshotSaved(room, snapshot.state.byteLength);
  }

  certificate(room: RoomId): ControlCertificate | null {
    return this.#certificates.get(room) ?? null;
  }

  saveCertificate(room: RoomId, certificate: ControlCertificate): void {
    this.#certificates.set(room, certificate);
    this.#pending.certificateSaved(room);
  }

  appendLeafRecord(room: RoomId, record: ControlRecordAt): void {
    let log = this.#leafLogs.get(room);
    if (log === undefined) {
      log = { snapshot: null, records: [] };
      this.#leafLogs.set(room, log);
    }
    if (log.records.length >= federationLimits.controlRecordsRetainedPerRoomMax) {
      throw new StorageError(
        "invalid-input",
        "the leaf's control log must be compacted into a snapshot first",
      );
    }
    log.records.push(record);
    this.#pending.leafRecordAppended(room, log.records.length - 1, record.record.byteLength);
  }

  /**
   * Makes every write made before this call durable, in one transaction.
   * Resolves when it is committed; rejects if the database failed (the batch
   * is kept, and the caller must stop sending frames).
   */
  flush(): Promise<void> {
    if (this.#queued !== null) return this.#queued;
    const previous = this.#running ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        this.#queued = null;
        this.#running = next;
        try {
          await this.#write();
        } finally {
          if (this.#running === next) this.#running = null;
        }
      });
    this.#queued = next;
    return next;
  }

  /**
   * Writes every write made before this call inside `transaction`, which the
   * caller commits (the event stream's append: one commit for both). Durable
   * when that transaction is. Waits for a flush already running, so batches
   * reach the database in the order they were taken. If the writes fail, the
   * batch is kept for the next flush; if the caller's commit fails, the
   * caller must stop as after a failed flush.
   */
  readonly flushWithin = async (transaction: Kysely<Database>): Promise<void> => {
    // Bounded: flushes only start from the caller's rounds, one at a time.
    while (this.#running !== null || this.#queued !== null) {
      await (this.#running ?? this.#queued)?.catch(() => {});
    }
    await this.#write((rows) => writeBatchRowsIn(federationDatabaseOf(transaction), rows));
  };

  async #write(
    write: (rows: BatchRows) => Promise<void> = (rows) => writeBatchRows(this.#db, rows),
  ): Promise<void> {
    const batch = this.#pending;
    if (batch.empty) return;
    this.#pending = this.#newBatch();
    const rows = batchRows(batch, {
      room: (room) => this.#rooms.get(room),
      leafLog: (room) => this.leafLog(room),
      certificate: (room) => this.certificate(room),
    });
    try {
      await write(rows);
    } catch (error) {
      this.#pending.takeBack(batch);
      throw new StorageError("database-failed", "the federation storage flush failed", {
        cause: error,
      });
    }
  }

  #newBatch(): PendingWrites {
    return new PendingWrites((bytes) => {
      if (bytes > this.#pendingBytesMax) {
        throw new StorageError(
          "invalid-input",
          `federation writes pending a flush exceed ${this.#pendingBytesMax} bytes: flush first`,
        );
      }
    });
  }

  #store(room: RoomId): DatabaseMessageStore {
    let store = this.#messages.get(room);
    if (store === undefined) {
      store = new DatabaseMessageStore(room, {
        messagePut: (target, stored) => this.#pending.messagePut(target, stored),
      });
      this.#messages.set(room, store);
    }
    return store;
  }
}
