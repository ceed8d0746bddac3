import type { ControlCertificate, RoomId, ServerName } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import { type GroupStorageProvider, MemoryGroupStorage } from "../consensus/group-storage.ts";
import type { ControlRecordAt, ControlSnapshot } from "../frames/frame.ts";
import { controlRecordsRetainedPerRoomMax } from "../limits.ts";
import { MemoryMessageStore, type RoomMessageStore } from "../message-lane/message-store.ts";

/** What a server remembers about a room it takes part in, across restarts. */
export interface RoomMembershipRecord {
  /** Sponsors to ask first, before the room's state names its sponsors. */
  readonly contacts: readonly ServerName[];
  /** This server's Raft node in the room, while it sponsors it. */
  readonly node: NodeId | null;
  /** The highest incarnation this server ever had in the room: never started again. */
  readonly retiredIncarnation: number;
}

/**
 * A leaf's copy of the control log: the latest snapshot and the records
 * after it. (A sponsor's control log is its Raft log.)
 */
export interface LeafControlLog {
  readonly snapshot: ControlSnapshot | null;
  readonly records: readonly ControlRecordAt[];
}

/**
 * Everything the federation cores of one server persist. Writes made while
 * handling one input are made durable together (one transaction, one
 * fsync) before the frames that input produced are sent.
 */
export interface FederationStorage {
  readonly groups: GroupStorageProvider;
  messages(room: RoomId): RoomMessageStore;
  rooms(): readonly RoomId[];
  loadRoom(room: RoomId): RoomMembershipRecord | undefined;
  saveRoom(room: RoomId, record: RoomMembershipRecord): void;
  leafLog(room: RoomId): LeafControlLog;
  saveLeafSnapshot(room: RoomId, snapshot: ControlSnapshot): void;
  appendLeafRecord(room: RoomId, record: ControlRecordAt): void;
  /** The room's newest control certificate this server holds (§12.6.1), if any. */
  certificate(room: RoomId): ControlCertificate | null;
  /** Replaces the room's certificate with a newer one. */
  saveCertificate(room: RoomId, certificate: ControlCertificate): void;
}

/** The reference storage, in memory; it plays the disk in the simulator (it survives crashes). */
export class MemoryFederationStorage implements FederationStorage {
  readonly groups = new MemoryGroupStorage();
  readonly #messages = new Map<RoomId, MemoryMessageStore>();
  readonly #rooms = new Map<RoomId, RoomMembershipRecord>();
  readonly #certificates = new Map<RoomId, ControlCertificate>();
  readonly #leafLogs = new Map<
    RoomId,
    { snapshot: ControlSnapshot | null; records: ControlRecordAt[] }
  >();

  messages(room: RoomId): RoomMessageStore {
    let store = this.#messages.get(room);
    if (store === undefined) {
      store = new MemoryMessageStore();
      this.#messages.set(room, store);
    }
    return store;
  }

  rooms(): readonly RoomId[] {
    return [...this.#rooms.keys()].sort();
  }

  loadRoom(room: RoomId): RoomMembershipRecord | undefined {
    return this.#rooms.get(room);
  }

  saveRoom(room: RoomId, record: RoomMembershipRecord): void {
    this.#rooms.set(room, record);
  }

  leafLog(room: RoomId): LeafControlLog {
    return this.#leafLogs.get(room) ?? { snapshot: null, records: [] };
  }

  saveLeafSnapshot(room: RoomId, snapshot: ControlSnapshot): void {
    this.#leafLogs.set(room, { snapshot, records: [] });
  }

  certificate(room: RoomId): ControlCertificate | null {
    return this.#certificates.get(room) ?? null;
  }

  saveCertificate(room: RoomId, certificate: ControlCertificate): void {
    this.#certificates.set(room, certificate);
  }

  appendLeafRecord(room: RoomId, record: ControlRecordAt): void {
    let log = this.#leafLogs.get(room);
    if (log === undefined) {
      log = { snapshot: null, records: [] };
      this.#leafLogs.set(room, log);
    }
    log.records.push(record);
    if (log.records.length > controlRecordsRetainedPerRoomMax) {
      throw new Error("the leaf's control log must be compacted into a snapshot first");
    }
  }
}
