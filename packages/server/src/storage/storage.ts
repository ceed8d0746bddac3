// The storage contract: what the homeserver may ask of its database. SQLite and
// PostgreSQL both implement it through the same Kysely code and pass the same
// test suite (test/storage-contract). Methods return tagged outcomes for what a
// caller must expect (a name already taken, a duplicate, a stale write) and
// throw `StorageError` only for programmer errors (unknown room, oversized
// value) and for the database being unreachable.

import type { Kysely } from "kysely";
import type { LinkQueueStorage } from "../federation/links/storage/link-queue-storage.ts";
import type { Database } from "./database-schema.ts";

/** Writes done inside another write's transaction (the handle is that transaction). */
export type TransactionWrite = (transaction: Kysely<Database>) => Promise<void>;

import type {
  Account,
  AccountSummary,
  AppendOutcome,
  ControlEntry,
  Device,
  HistoryKey,
  HistoryPageInput,
  InboxCursor,
  InboxRetention,
  InboxStreamPage,
  InviteToken,
  Membership,
  MembershipChange,
  NewEvent,
  Page,
  QueueItem,
  QueuePage,
  Room,
  RoomKind,
  RoomMember,
  RoomState,
  RoomSummary,
  ServerBlock,
  ServerSigningKey,
  Session,
  StoredEvent,
  StreamPage,
} from "./records.ts";

export interface ServerKeyRepository {
  /** Stores a new key pair; returns false if the key id exists (nothing changed). */
  insert(key: ServerSigningKey): Promise<boolean>;
  /** The newest key valid at `atMs` (valid from <= at < valid until), or null. */
  current(atMs: number): Promise<ServerSigningKey | null>;
  /** Every key, newest first: old keys stay so old signatures still verify. */
  list(): Promise<readonly ServerSigningKey[]>;
  /** Ends a key's validity; returns false if the key id is unknown. */
  retire(keyId: string, validUntilMs: number): Promise<boolean>;
}

export type CreateAccountOutcome =
  | { readonly kind: "created"; readonly account: Account }
  | { readonly kind: "name-taken" }
  /** The invite token is unknown, used up or expired; no account was created. */
  | { readonly kind: "invite-unavailable" };

export interface AccountRepository {
  /** Creates an account, consuming one use of the invite token (if given) in the same transaction. */
  create(input: {
    localName: string;
    passwordHash: string;
    createdAtMs: number;
    inviteTokenHash?: Uint8Array;
  }): Promise<CreateAccountOutcome>;
  get(localName: string): Promise<Account | null>;
  /** Returns false if the account is unknown. */
  setPasswordHash(localName: string, passwordHash: string): Promise<boolean>;
  /** Marks the account deactivated and revokes all its devices and sessions at once; false if unknown or already deactivated. */
  deactivate(localName: string, atMs: number): Promise<boolean>;
  /** Stores an invite token (by hash); false if that hash exists. */
  createInviteToken(token: InviteToken): Promise<boolean>;
  getInviteToken(tokenHash: Uint8Array): Promise<InviteToken | null>;
}

export type CreateDeviceOutcome =
  | { readonly kind: "created"; readonly device: Device }
  | { readonly kind: "device-exists" }
  | { readonly kind: "unknown-account" }
  | { readonly kind: "account-deactivated" };

export type UpdateDeviceRecordOutcome =
  | { readonly kind: "updated" }
  /** The stored record's sequence is already >= the offered one. */
  | { readonly kind: "stale"; readonly storedSequence: number }
  | { readonly kind: "unknown-device" }
  | { readonly kind: "revoked" };

export interface DeviceRepository {
  /** Creates the device and its inbox, whose stream cursor starts at the current stream head. */
  create(input: {
    deviceId: string;
    localName: string;
    identityRecord: Uint8Array;
    attestation: Uint8Array;
    recordSequence: number;
    createdAtMs: number;
  }): Promise<CreateDeviceOutcome>;
  get(deviceId: string): Promise<Device | null>;
  /** The user's devices, oldest first, revoked ones included. */
  listForAccount(localName: string): Promise<readonly Device[]>;
  /** Replaces the record only if `recordSequence` is larger than the stored one. */
  updateRecord(input: {
    deviceId: string;
    identityRecord: Uint8Array;
    attestation: Uint8Array;
    recordSequence: number;
  }): Promise<UpdateDeviceRecordOutcome>;
  /** Marks the device revoked and deletes its sessions and queued items in one transaction; false if unknown or already revoked. */
  revoke(deviceId: string, atMs: number): Promise<boolean>;
  /** Stores a session for a live device; false if the device is unknown or revoked. */
  createSession(input: {
    tokenHash: Uint8Array;
    deviceId: string;
    createdAtMs: number;
    expiresAtMs: number;
  }): Promise<boolean>;
  /** The session for this token hash if it exists, has not expired at `atMs` and its device is not revoked. */
  findSession(tokenHash: Uint8Array, atMs: number): Promise<Session | null>;
  /** Records activity; never moves last-seen backwards. */
  touchSession(tokenHash: Uint8Array, atMs: number): Promise<void>;
  /** Logs out one session; false if it did not exist. */
  deleteSession(tokenHash: Uint8Array): Promise<boolean>;
  /** Deletes up to `limit` sessions expired at `atMs`; returns how many. */
  deleteExpiredSessions(atMs: number, limit: number): Promise<number>;
  /**
   * The live (not revoked) devices of these accounts with their acknowledged
   * stream positions, in no particular order: what delivery counts read
   * (docs/protocol.md §10.14). At most pageSizeMax local names per call.
   */
  streamCursorsOf(localNames: readonly string[]): Promise<readonly DeviceStreamCursor[]>;
}

export interface DeviceStreamCursor {
  readonly deviceId: string;
  readonly localName: string;
  /** Every stream event up to here is acknowledged by the device. */
  readonly streamPosition: number;
}

export type CreateRoomOutcome =
  | { readonly kind: "created"; readonly room: Room }
  | { readonly kind: "room-exists"; readonly room: Room };

export type AppendControlOutcome =
  | { readonly kind: "appended" }
  /** The same entry (same index and hash) is already stored: nothing changed. */
  | { readonly kind: "duplicate" }
  /** The index is not the next one, or the previous hash does not chain. */
  | { readonly kind: "conflict"; readonly lastIndex: number };

export type RecordAppliedOutcome =
  | { readonly kind: "recorded" }
  /** The stored applied index is already >= the offered one: nothing changed. */
  | { readonly kind: "stale"; readonly appliedIndex: number };

export interface RoomRepository {
  create(input: {
    roomId: string;
    kind: RoomKind;
    contentType: string;
    createdAtMs: number;
  }): Promise<CreateRoomOutcome>;
  get(roomId: string): Promise<Room | null>;
  /** Appends the next control entry, checking index and hash chain; atomic under concurrent writers. */
  appendControlEntry(entry: ControlEntry): Promise<AppendControlOutcome>;
  /** Entries with index >= `fromIndex`, ascending, at most `limit`. */
  readControlEntries(roomId: string, fromIndex: number, limit: number): Promise<Page<ControlEntry>>;
  /** The newest entry, or null for an empty log. */
  lastControlEntry(roomId: string): Promise<ControlEntry | null>;
  /**
   * Records that control entries up to `appliedIndex` have been applied: the
   * membership changes they caused and, optionally, a new snapshot of the pure
   * state machine, all in one transaction. Applied indexes only grow.
   */
  recordApplied(input: {
    roomId: string;
    appliedIndex: number;
    membershipChanges: readonly MembershipChange[];
    snapshot?: Uint8Array;
  }): Promise<RecordAppliedOutcome>;
  /** The applied index and newest snapshot; null if nothing was recorded. */
  loadState(roomId: string): Promise<RoomState | null>;
  /** Rooms where the user currently has one of the given memberships, by room id (at most limits.roomsPerUserMax). */
  roomsOfUser(userId: string, memberships: readonly Membership[]): Promise<readonly RoomMember[]>;
  /** Members with one of the given memberships, by user id, after `afterUserId` (exclusive), at most `limit`. */
  membersOfRoom(input: {
    roomId: string;
    memberships: readonly Membership[];
    afterUserId?: string;
    limit: number;
  }): Promise<Page<RoomMember>>;
}

export interface EventRepository {
  /** Stores one event atomically, or returns the stored one for a repeated (room, sender device, client id). */
  append(event: NewEvent): Promise<AppendOutcome>;
  /**
   * Stores many events in one transaction; outcomes in input order. A repeat
   * within the batch is a duplicate of the first. `alongside` writes more in
   * the same transaction, before the events (the federation core's flush):
   * both become durable together, with one commit.
   */
  appendBatch(
    events: readonly NewEvent[],
    alongside?: TransactionWrite,
  ): Promise<readonly AppendOutcome[]>;
  /** The event a device stored under its client id in a room, or null. */
  findByClientId(roomId: string, deviceId: string, clientId: string): Promise<StoredEvent | null>;
  /** The event at a room sequence, or null. */
  getByRoomSequence(roomId: string, roomSequence: number): Promise<StoredEvent | null>;
  /**
   * A page of a room's events. Forward: sequences > `fromSequence`, ascending.
   * Backward: sequences < `fromSequence`, descending (use last sequence + 1 to
   * start from the newest). `more` says the limit cut the page.
   */
  pageRoom(input: {
    roomId: string;
    fromSequence: number;
    direction: "forward" | "backward";
    limit: number;
  }): Promise<Page<StoredEvent>>;
  /**
   * A page of a room's events in history order (§12.4.3). Forward: keys after
   * `from`, ascending; backward: keys before `from`, descending; without
   * `from`, from the oldest or the newest. `more` says the limit cut the page.
   */
  pageHistory(input: HistoryPageInput): Promise<Page<StoredEvent>>;
  /** The history key of a stored event (the cursor after it). */
  historyKeyOf(event: StoredEvent): HistoryKey;
  /** Events of the given rooms with stream position > `afterPosition`, ascending, at most `limit`. */
  readStream(input: {
    roomIds: readonly string[];
    afterPosition: number;
    limit: number;
  }): Promise<StreamPage>;
  /** The newest stream position (0 for an empty stream); every event up to it is committed and readable. */
  streamHead(): Promise<number>;
  /**
   * Where one origin's messages of a room sit in this server's stream: the
   * newest `limit` (at most pageSizeMax) with origin sequence at most
   * `throughSequence`, descending by sequence (§12.13).
   */
  originPositions(input: {
    roomId: string;
    origin: string;
    throughSequence: number;
    limit: number;
  }): Promise<ReadonlyArray<{ readonly sequence: number; readonly streamPosition: number }>>;
}

export type AcknowledgeOutcome =
  | { readonly kind: "advanced"; readonly position: number }
  /** The cursor was already at or past the position: it never moves backwards. */
  | { readonly kind: "unchanged"; readonly position: number }
  /** The position is beyond anything that exists: a client error. */
  | { readonly kind: "beyond-end"; readonly end: number }
  | { readonly kind: "unknown-device" };

export type EnqueueOutcome =
  | { readonly kind: "queued"; readonly item: QueueItem }
  | { readonly kind: "duplicate"; readonly item: QueueItem }
  | { readonly kind: "unknown-device" };

export interface InboxRepository {
  /** The device's acknowledged positions, or null if the device has no inbox. */
  cursor(deviceId: string): Promise<InboxCursor | null>;
  /**
   * What the device has not acknowledged on the stream, for the given rooms.
   * Events older than `retention.maxAgeMs` at `atMs`, or beyond the newest
   * `retention.maxEvents`, are not returned but counted in `missed`.
   */
  readStream(input: {
    deviceId: string;
    roomIds: readonly string[];
    limit: number;
    retention: InboxRetention;
    atMs: number;
  }): Promise<InboxStreamPage | null>;
  /** Moves the stream cursor forward to `position` (at most the stream head). */
  acknowledgeStream(deviceId: string, position: number): Promise<AcknowledgeOutcome>;
  /**
   * Moves many devices' stream cursors forward in one transaction (one fsync
   * for all), each only forward and at most to the stream head; unknown
   * devices are skipped. At most limits.acknowledgementBatchMax entries.
   * Returns how many cursors moved.
   */
  acknowledgeStreams(
    acknowledgements: ReadonlyArray<{ readonly deviceId: string; readonly position: number }>,
  ): Promise<number>;
  /**
   * Adds an item for this device alone, idempotent by `itemId`. When the queue
   * would exceed `maxItems`, the oldest items are dropped and counted in the
   * missed marker rather than lost silently.
   */
  enqueue(input: {
    deviceId: string;
    itemId: string;
    itemKind: string;
    body: Uint8Array;
    createdAtMs: number;
    maxItems: number;
  }): Promise<EnqueueOutcome>;
  /** Unacknowledged queue items after the acknowledged position, with the missed marker if any. */
  readQueue(deviceId: string, limit: number): Promise<QueuePage | null>;
  /** Deletes items up to `position` and clears a missed marker it covers. */
  acknowledgeQueue(deviceId: string, position: number): Promise<AcknowledgeOutcome>;
  /** Drops queue items created before `olderThanMs`, at most `limit`, counting them as missed; returns how many. */
  expireQueueItems(olderThanMs: number, limit: number): Promise<number>;
  /** Unacknowledged queue items of a device (for the inbox-depth metric). */
  queueDepth(deviceId: string): Promise<number>;
}

export type BlockServerOutcome =
  | { readonly kind: "blocked"; readonly block: ServerBlock }
  /** The server was blocked before; the stored block is unchanged. */
  | { readonly kind: "already-blocked"; readonly block: ServerBlock };

/**
 * What the operator's admin API reads and changes beyond the other
 * repositories (docs/protocol.md §10.11). Lists are pages in key order after
 * an exclusive cursor, at most limits.pageSizeMax each.
 */
export interface AdministrationRepository {
  /** Invite tokens by hash, after `afterTokenHash`; used-up and expired ones included. */
  listInviteTokens(input: {
    afterTokenHash?: Uint8Array;
    limit: number;
  }): Promise<Page<InviteToken>>;
  /** Deletes an invite token, so it can no longer be spent; false if unknown. */
  deleteInviteToken(tokenHash: Uint8Array): Promise<boolean>;
  /** Accounts by local name, after `afterLocalName`, with their live device counts. */
  listAccounts(input: { afterLocalName?: string; limit: number }): Promise<Page<AccountSummary>>;
  /** Rooms by id, after `afterRoomId`, with their joined member counts. */
  listRooms(input: { afterRoomId?: string; limit: number }): Promise<Page<RoomSummary>>;
  blockServer(block: ServerBlock): Promise<BlockServerOutcome>;
  /** False if the server was not blocked. */
  unblockServer(serverName: string): Promise<boolean>;
  /** Blocks by server name, after `afterServerName`. */
  listServerBlocks(input: { afterServerName?: string; limit: number }): Promise<Page<ServerBlock>>;
}

/** A KeyPackage to store: checked by the caller (packages/mls) before it gets here. */
export interface NewKeyPackage {
  /** RFC 9420 §5.2 KeyPackageRef, 1 to 64 bytes: a package published twice is stored once. */
  readonly reference: Uint8Array;
  /** The encoded KeyPackage (MLSMessage), at most limits.keyPackageBytesMax. */
  readonly keyPackage: Uint8Array;
  /** The end of its lifetime: it is never handed out after this. */
  readonly notAfterMs: number;
}

export type PublishKeyPackagesOutcome =
  | {
      readonly kind: "published";
      /** One-time packages stored by this call (re-published ones are not counted). */
      readonly oneTimeAdded: number;
      /** Unexpired one-time packages the device has now. */
      readonly oneTimeCount: number;
      /** Whether the device has an unexpired last-resort package now. */
      readonly lastResort: boolean;
    }
  /** Storing them would leave more than `oneTimeMax` one-time packages: nothing was stored. */
  | { readonly kind: "too-many"; readonly oneTimeCount: number }
  /** The device is unknown or revoked: nothing was stored. */
  | { readonly kind: "unknown-device" };

export interface KeyPackageCount {
  /** Unexpired one-time packages waiting to be claimed. */
  readonly oneTime: number;
  /** Whether an unexpired last-resort package is stored. */
  readonly lastResort: boolean;
}

export interface ClaimedKeyPackage {
  readonly deviceId: string;
  readonly keyPackage: Uint8Array;
  readonly lastResort: boolean;
  readonly notAfterMs: number;
}

export interface KeyPackageRepository {
  /**
   * Stores a device's one-time packages and, if given, replaces its
   * last-resort package, in one transaction; drops the device's expired ones
   * first. Publishes of one device are serialised, so `oneTimeMax` holds
   * under concurrent uploads.
   */
  publish(input: {
    deviceId: string;
    oneTime: readonly NewKeyPackage[];
    lastResort: NewKeyPackage | null;
    publishedAtMs: number;
    oneTimeMax: number;
  }): Promise<PublishKeyPackagesOutcome>;
  /** What a device has left at `atMs` (expired packages do not count). */
  count(deviceId: string, atMs: number): Promise<KeyPackageCount>;
  /**
   * One package for each of the given devices that is live and has one
   * unexpired at `atMs`, in the order given: its oldest one-time package,
   * which is deleted in the same transaction, or else its last-resort
   * package, which is kept. A one-time package is handed out once, even to
   * claims running at the same time in several processes. Devices without a
   * package are left out. At most limits.keyPackageClaimDevicesMax devices.
   */
  claim(deviceIds: readonly string[], atMs: number): Promise<readonly ClaimedKeyPackage[]>;
  /** Deletes up to `limit` packages (of either kind) whose lifetime ended before `atMs`; returns how many. */
  deleteExpired(atMs: number, limit: number): Promise<number>;
}

export interface MigrationStatus {
  readonly name: string;
  readonly appliedAtMs: number | null;
}

export interface MigrationRunner {
  /** Applies every pending migration in order; returns the names applied now. Safe to run from several processes at once. */
  migrateToLatest(): Promise<readonly string[]>;
  /** Every known migration and whether it is applied. */
  status(): Promise<readonly MigrationStatus[]>;
  /** Reverts every migration (tests and operators starting over). */
  migrateToEmpty(): Promise<void>;
}

export type StorageDialect = "sqlite" | "postgres";

/**
 * The database itself, for a subsystem that owns its own tables and
 * transactions (the federation storage, which mirrors its tables in memory).
 * Request handlers use the repositories instead.
 */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: StorageDialect;
}

export interface Storage {
  readonly dialect: StorageDialect;
  readonly migrations: MigrationRunner;
  readonly database: DatabaseHandle;
  readonly serverKeys: ServerKeyRepository;
  readonly accounts: AccountRepository;
  readonly devices: DeviceRepository;
  readonly rooms: RoomRepository;
  readonly events: EventRepository;
  readonly inboxes: InboxRepository;
  readonly administration: AdministrationRepository;
  readonly keyPackages: KeyPackageRepository;
  /** The server-to-server links' durable queues and receive marks (migration 0003). */
  readonly federationLinks: LinkQueueStorage;
  /** A trivial query, for health checks. Throws if the database cannot answer. */
  ping(): Promise<void>;
  /** Closes every connection. Calls after close fail. */
  close(): Promise<void>;
}
