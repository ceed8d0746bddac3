// Rooms, their control log, their applied state and the membership index.
//
// The control log is append-only and chained: entry i names the hash of entry
// i-1. An append locks the room's row (PostgreSQL) or holds the write lock
// (SQLite), checks that the index is the next one and that the chain holds,
// and inserts; the primary key (room, index) is the backstop. The room state
// machine is pure and lives elsewhere: this repository stores its canonical
// snapshot bytes and the membership index its applied entries produced.

import {
  controlEntryBytesMax,
  membershipChangesMax,
  roomSnapshotBytesMax,
  roomsPerUserMax,
} from "../../limits.ts";
import { fromStoredBytes, fromStoredBytesOrNull, toStoredBytes } from "../bytes.ts";
import type { RoomControlLogTable, RoomsTable } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { ControlEntry, Membership, Room, RoomKind, RoomMember } from "../records.ts";
import type {
  AppendControlOutcome,
  CreateRoomOutcome,
  RecordAppliedOutcome,
  RoomRepository,
} from "../storage.ts";
import {
  assertBytesMax,
  assertIdentifier,
  assertInteger,
  assertLimit,
  lockingRows,
  type RepositoryContext,
  sameBytes,
  toPage,
} from "./context.ts";

const hashBytesMax = 64;

function toRoom(row: RoomsTable): Room {
  if (row.kind !== "plain" && row.kind !== "encrypted") {
    throw new StorageError("database-failed", "a stored room kind is unknown");
  }
  const kind: RoomKind = row.kind;
  return {
    roomId: row.room_id,
    kind,
    contentType: row.content_type,
    createdAtMs: row.created_at_ms,
    lastEventSequence: row.last_event_sequence,
  };
}

function toControlEntry(row: RoomControlLogTable): ControlEntry {
  return {
    roomId: row.room_id,
    logIndex: row.log_index,
    entry: fromStoredBytes(row.entry),
    entryHash: fromStoredBytes(row.entry_hash),
    previousHash: fromStoredBytesOrNull(row.previous_hash),
  };
}

const memberships: ReadonlySet<string> = new Set<Membership>([
  "invite",
  "join",
  "knock",
  "leave",
  "ban",
]);

function isMembership(value: string): value is Membership {
  return memberships.has(value);
}

function toMember(row: {
  room_id: string;
  user_id: string;
  membership: string;
  since_index: number;
}): RoomMember {
  return {
    roomId: row.room_id,
    userId: row.user_id,
    membership: assertMembership(row.membership),
    sinceIndex: row.since_index,
  };
}

function assertMembership(value: string): Membership {
  if (!isMembership(value)) {
    throw new StorageError("database-failed", "a stored membership is unknown");
  }
  return value;
}

export function createRoomRepository(context: RepositoryContext): RoomRepository {
  const { db } = context;

  async function lastEntry(
    executor: RepositoryContext["db"],
    roomId: string,
  ): Promise<ControlEntry | null> {
    const row = await executor
      .selectFrom("room_control_log")
      .selectAll()
      .where("room_id", "=", roomId)
      .orderBy("log_index", "desc")
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? null : toControlEntry(row);
  }

  return {
    async create(input) {
      assertIdentifier("room id", input.roomId);
      assertIdentifier("content type", input.contentType);
      const row: RoomsTable = {
        room_id: input.roomId,
        kind: input.kind,
        content_type: input.contentType,
        created_at_ms: input.createdAtMs,
        last_event_sequence: 0,
      };
      const inserted = await db
        .insertInto("rooms")
        .values(row)
        .onConflict((conflict) => conflict.column("room_id").doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
        return { kind: "created", room: toRoom(row) } satisfies CreateRoomOutcome;
      }
      const existing = await db
        .selectFrom("rooms")
        .selectAll()
        .where("room_id", "=", input.roomId)
        .executeTakeFirstOrThrow();
      return { kind: "room-exists", room: toRoom(existing) };
    },

    async get(roomId) {
      const row = await db
        .selectFrom("rooms")
        .selectAll()
        .where("room_id", "=", roomId)
        .executeTakeFirst();
      return row === undefined ? null : toRoom(row);
    },

    async appendControlEntry(entry) {
      assertInteger("log index", entry.logIndex, 1);
      assertBytesMax("control entry", entry.entry, controlEntryBytesMax);
      assertBytesMax("entry hash", entry.entryHash, hashBytesMax);
      return db.transaction().execute(async (transaction): Promise<AppendControlOutcome> => {
        const room = await lockingRows(
          context,
          transaction.selectFrom("rooms").select("room_id").where("room_id", "=", entry.roomId),
        ).executeTakeFirst();
        if (room === undefined) {
          throw new StorageError("unknown-room", "control entry for a room never created");
        }
        const last = await lastEntry(transaction, entry.roomId);
        const lastIndex = last?.logIndex ?? 0;
        if (last !== null && entry.logIndex <= lastIndex) {
          const stored = await transaction
            .selectFrom("room_control_log")
            .select("entry_hash")
            .where("room_id", "=", entry.roomId)
            .where("log_index", "=", entry.logIndex)
            .executeTakeFirstOrThrow();
          return sameBytes(stored.entry_hash, entry.entryHash)
            ? { kind: "duplicate" }
            : { kind: "conflict", lastIndex };
        }
        const chains =
          entry.logIndex === lastIndex + 1 &&
          (last === null
            ? entry.previousHash === null
            : entry.previousHash !== null && sameBytes(last.entryHash, entry.previousHash));
        if (!chains) {
          return { kind: "conflict", lastIndex };
        }
        await transaction
          .insertInto("room_control_log")
          .values({
            room_id: entry.roomId,
            log_index: entry.logIndex,
            entry: toStoredBytes(entry.entry),
            entry_hash: toStoredBytes(entry.entryHash),
            previous_hash: entry.previousHash === null ? null : toStoredBytes(entry.previousHash),
          })
          .execute();
        return { kind: "appended" };
      });
    },

    async readControlEntries(roomId, fromIndex, limit) {
      assertLimit(limit);
      const rows = await db
        .selectFrom("room_control_log")
        .selectAll()
        .where("room_id", "=", roomId)
        .where("log_index", ">=", fromIndex)
        .orderBy("log_index")
        .limit(limit + 1)
        .execute();
      return toPage(rows, limit, toControlEntry);
    },

    lastControlEntry(roomId) {
      return lastEntry(db, roomId);
    },

    async recordApplied(input) {
      assertInteger("applied index", input.appliedIndex, 1);
      if (input.membershipChanges.length > membershipChangesMax) {
        throw new StorageError("invalid-input", "too many membership changes at once");
      }
      if (input.snapshot !== undefined) {
        assertBytesMax("room snapshot", input.snapshot, roomSnapshotBytesMax);
      }
      return db.transaction().execute(async (transaction): Promise<RecordAppliedOutcome> => {
        const room = await lockingRows(
          context,
          transaction.selectFrom("rooms").select("room_id").where("room_id", "=", input.roomId),
        ).executeTakeFirst();
        if (room === undefined) {
          throw new StorageError("unknown-room", "applied state for a room never created");
        }
        const state = await transaction
          .selectFrom("room_states")
          .select("applied_index")
          .where("room_id", "=", input.roomId)
          .executeTakeFirst();
        if (state !== undefined && state.applied_index >= input.appliedIndex) {
          return { kind: "stale", appliedIndex: state.applied_index };
        }
        const snapshotColumns =
          input.snapshot === undefined
            ? {}
            : { snapshot_index: input.appliedIndex, snapshot: toStoredBytes(input.snapshot) };
        await transaction
          .insertInto("room_states")
          .values({
            room_id: input.roomId,
            applied_index: input.appliedIndex,
            snapshot_index: null,
            snapshot: null,
            ...snapshotColumns,
          })
          .onConflict((conflict) =>
            conflict
              .column("room_id")
              .doUpdateSet({ applied_index: input.appliedIndex, ...snapshotColumns }),
          )
          .execute();
        // One statement per change keeps each under any parameter limit; the
        // count is bounded by limits.membershipChangesMax.
        for (const change of input.membershipChanges) {
          assertIdentifier("user id", change.userId);
          await transaction
            .insertInto("room_memberships")
            .values({
              room_id: input.roomId,
              user_id: change.userId,
              membership: change.membership,
              since_index: input.appliedIndex,
            })
            .onConflict((conflict) =>
              conflict.columns(["room_id", "user_id"]).doUpdateSet({
                membership: change.membership,
                since_index: input.appliedIndex,
              }),
            )
            .execute();
        }
        return { kind: "recorded" };
      });
    },

    async loadState(roomId) {
      const row = await db
        .selectFrom("room_states")
        .selectAll()
        .where("room_id", "=", roomId)
        .executeTakeFirst();
      if (row === undefined) {
        return null;
      }
      const snapshot =
        row.snapshot === null || row.snapshot_index === null
          ? null
          : { logIndex: row.snapshot_index, state: fromStoredBytes(row.snapshot) };
      return { roomId: row.room_id, appliedIndex: row.applied_index, snapshot };
    },

    async roomsOfUser(userId, memberships) {
      if (memberships.length === 0) {
        return [];
      }
      const rows = await db
        .selectFrom("room_memberships")
        .selectAll()
        .where("user_id", "=", userId)
        .where("membership", "in", memberships)
        .orderBy("room_id")
        .limit(roomsPerUserMax + 1)
        .execute();
      if (rows.length > roomsPerUserMax) {
        // The room layer keeps users within the limit; more means a bug there.
        throw new StorageError("invalid-input", `user is in more than ${roomsPerUserMax} rooms`);
      }
      return rows.map(toMember);
    },

    async membersOfRoom(input) {
      assertLimit(input.limit);
      if (input.memberships.length === 0) {
        return { items: [], more: false };
      }
      let query = db
        .selectFrom("room_memberships")
        .selectAll()
        .where("room_id", "=", input.roomId)
        .where("membership", "in", input.memberships);
      if (input.afterUserId !== undefined) {
        query = query.where("user_id", ">", input.afterUserId);
      }
      const rows = await query
        .orderBy("user_id")
        .limit(input.limit + 1)
        .execute();
      return toPage(rows, input.limit, toMember);
    },
  };
}
