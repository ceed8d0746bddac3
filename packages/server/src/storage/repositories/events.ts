// The server-wide event stream: every accepted room message, stored once, with
// one stream position increasing across all rooms and a sequence within its
// room. Device inboxes are cursors over this stream (see inboxes.ts).
//
// Ordering under concurrency. An append transaction first locks the single
// `event_stream_head` row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
// IMMEDIATE transaction already holds the database's write lock), then the
// rows of the rooms it writes, in room id order. So appenders from every
// process sharing the database run one after another, and they commit in the
// order of the positions they assign. That is what makes a changefeed safe:
// a reader that sees head H also sees every event at or below H, so a cursor
// moved to H never skips an event that commits later with a smaller position
// (the classic gap of plain database sequences). The price is that appends do
// not run in parallel; transactions are a few statements long, and batches
// amortise the wait. Lock order is always head, then rooms, so appenders
// cannot deadlock.
//
// Idempotency. (room, sender device, client event id) is unique. Under the
// head lock the append looks for an existing row first and returns it as a
// duplicate; the unique constraint is the backstop.

import type { Kysely } from "kysely";
import { eventBatchMax, eventBodyBytesMax, roomsPerUserMax } from "../../limits.ts";
import { fromStoredBytes, fromStoredBytesOrNull, toStoredBytes } from "../bytes.ts";
import type { Database, RoomEventsTable } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { AppendOutcome, NewEvent, StoredEvent, StreamPage } from "../records.ts";
import type { EventRepository, TransactionWrite } from "../storage.ts";
import {
  assertBytesMax,
  assertIdentifier,
  assertInteger,
  assertLimit,
  lockingRows,
  type RepositoryContext,
  toPage,
} from "./context.ts";
import { historyColumns, historyKeyOf, pageHistory, stampSortsFirst } from "./history.ts";

const signatureBytesMax = 1024;

export function toStoredEvent(row: RoomEventsTable): StoredEvent {
  return {
    streamPosition: row.stream_position,
    roomId: row.room_id,
    roomSequence: row.room_sequence,
    senderUserId: row.sender_user_id,
    senderDeviceId: row.sender_device_id,
    clientEventId: row.client_event_id,
    contentType: row.content_type,
    body: fromStoredBytes(row.body),
    signature: fromStoredBytesOrNull(row.signature),
    controlIndex: row.control_index,
    acceptedAtMs: row.accepted_at_ms,
    ...(row.origin === "" ? {} : { stamp: { origin: row.origin, sequence: row.origin_sequence } }),
  };
}

function assertNewEvent(event: NewEvent): void {
  assertIdentifier("room id", event.roomId);
  assertIdentifier("sender user id", event.senderUserId);
  assertIdentifier("sender device id", event.senderDeviceId);
  assertIdentifier("client event id", event.clientEventId);
  assertIdentifier("content type", event.contentType);
  assertBytesMax("event body", event.body, eventBodyBytesMax);
  if (event.signature !== null) {
    assertBytesMax("event signature", event.signature, signatureBytesMax);
  }
  assertInteger("control index", event.controlIndex, 0);
  assertInteger("accepted at", event.acceptedAtMs, 0);
  if (event.stamp !== undefined) {
    assertIdentifier("origin", event.stamp.origin);
    assertInteger("origin sequence", event.stamp.sequence, 1);
  }
}

function clientKey(event: {
  roomId: string;
  senderDeviceId: string;
  clientEventId: string;
}): string {
  // JSON of a tuple cannot collide the way a joined string could.
  return JSON.stringify([event.roomId, event.senderDeviceId, event.clientEventId]);
}

/** The newest stream position; every event at or below it is committed. */
export async function readStreamHead(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom("event_stream_head")
    .select("last_position")
    .where("singleton_id", "=", 1)
    .executeTakeFirstOrThrow();
  return row.last_position;
}

/** Events of `roomIds` in (afterPosition, head], ascending, cut at `limit`. */
export async function readStreamRange(
  db: Kysely<Database>,
  input: { roomIds: readonly string[]; afterPosition: number; limit: number },
): Promise<StreamPage> {
  assertLimit(input.limit);
  if (input.roomIds.length > roomsPerUserMax) {
    throw new StorageError("invalid-input", `a stream read names over ${roomsPerUserMax} rooms`);
  }
  // Read the head first: positions at or below it are all committed, so the
  // range read below cannot miss one that commits later.
  const head = await readStreamHead(db);
  const end = Math.max(head, input.afterPosition);
  if (input.roomIds.length === 0 || input.afterPosition >= head) {
    return { events: [], more: false, throughPosition: end };
  }
  const rows = await db
    .selectFrom("room_events")
    .selectAll()
    .where("room_id", "in", input.roomIds)
    .where("stream_position", ">", input.afterPosition)
    .where("stream_position", "<=", head)
    .orderBy("stream_position")
    .limit(input.limit + 1)
    .execute();
  const page = toPage(rows, input.limit, toStoredEvent);
  const last = page.items.at(-1);
  return {
    events: page.items,
    more: page.more,
    throughPosition: page.more && last !== undefined ? last.streamPosition : end,
  };
}

async function appendInTransaction(
  context: RepositoryContext,
  transaction: Kysely<Database>,
  events: readonly NewEvent[],
): Promise<AppendOutcome[]> {
  const head = await lockingRows(
    context,
    transaction
      .selectFrom("event_stream_head")
      .select("last_position")
      .where("singleton_id", "=", 1),
  ).executeTakeFirstOrThrow();

  const stored = new Map<string, StoredEvent>();
  const existing = await transaction
    .selectFrom("room_events")
    .selectAll()
    .where((where) =>
      where.or(
        events.map((event) =>
          where.and([
            where("room_id", "=", event.roomId),
            where("sender_device_id", "=", event.senderDeviceId),
            where("client_event_id", "=", event.clientEventId),
          ]),
        ),
      ),
    )
    .execute();
  for (const row of existing) {
    const event = toStoredEvent(row);
    stored.set(clientKey(event), event);
  }

  const fresh = new Map<string, NewEvent>();
  for (const event of events) {
    const key = clientKey(event);
    const before = stored.get(key);
    if (before !== undefined) {
      // A second stamp of the same message (a retry accepted by another
      // sponsor): history shows the copy that sorts first (§12.4.3).
      if (stampSortsFirst(event, before)) {
        await restamp(transaction, before, event);
        stored.set(key, { ...before, ...stampFields(event) });
      }
    } else {
      const other = fresh.get(key);
      if (other === undefined || stampSortsFirst(event, other)) fresh.set(key, event);
    }
  }
  const roomIds = [...new Set([...fresh.values()].map((event) => event.roomId))].sort();
  const roomSequences = new Map<string, number>();
  if (roomIds.length > 0) {
    const rooms = await lockingRows(
      context,
      transaction
        .selectFrom("rooms")
        .select(["room_id", "last_event_sequence"])
        .where("room_id", "in", roomIds)
        .orderBy("room_id"),
    ).execute();
    for (const room of rooms) {
      roomSequences.set(room.room_id, room.last_event_sequence);
    }
  }

  let position = head.last_position;
  const rows: RoomEventsTable[] = [];
  const appended = new Set<string>();
  for (const [key, event] of fresh) {
    const previousSequence = roomSequences.get(event.roomId);
    if (previousSequence === undefined) {
      throw new StorageError("unknown-room", "event for a room never created");
    }
    position += 1;
    roomSequences.set(event.roomId, previousSequence + 1);
    const row = toRow(event, position, previousSequence + 1);
    rows.push(row);
    stored.set(key, toStoredEvent(row));
    appended.add(key);
  }

  if (rows.length > 0) {
    await transaction.insertInto("room_events").values(rows).execute();
    for (const roomId of roomIds) {
      const sequence = roomSequences.get(roomId);
      if (sequence !== undefined) {
        await transaction
          .updateTable("rooms")
          .set({ last_event_sequence: sequence })
          .where("room_id", "=", roomId)
          .execute();
      }
    }
    await transaction
      .updateTable("event_stream_head")
      .set({ last_position: position })
      .where("singleton_id", "=", 1)
      .execute();
  }

  // Only the first occurrence of a key in the batch is the one appended now.
  const answered = new Set<string>();
  return events.map((event): AppendOutcome => {
    const key = clientKey(event);
    const found = stored.get(key);
    if (found === undefined) {
      throw new StorageError("database-failed", "an appended event was not found");
    }
    const first = !answered.has(key);
    answered.add(key);
    return appended.has(key) && first
      ? { kind: "appended", event: found }
      : { kind: "duplicate", event: found };
  });
}

function stampFields(event: NewEvent): Pick<NewEvent, "controlIndex" | "acceptedAtMs" | "stamp"> {
  return {
    controlIndex: event.controlIndex,
    acceptedAtMs: event.acceptedAtMs,
    ...(event.stamp === undefined ? {} : { stamp: event.stamp }),
  };
}

async function restamp(
  transaction: Kysely<Database>,
  stored: StoredEvent,
  event: NewEvent,
): Promise<void> {
  await transaction
    .updateTable("room_events")
    .set({
      control_index: event.controlIndex,
      accepted_at_ms: event.acceptedAtMs,
      ...historyColumns(event),
    })
    .where("stream_position", "=", stored.streamPosition)
    .execute();
}

function toRow(event: NewEvent, streamPosition: number, roomSequence: number): RoomEventsTable {
  return {
    stream_position: streamPosition,
    room_id: event.roomId,
    room_sequence: roomSequence,
    sender_user_id: event.senderUserId,
    sender_device_id: event.senderDeviceId,
    client_event_id: event.clientEventId,
    content_type: event.contentType,
    body: toStoredBytes(event.body),
    signature: event.signature === null ? null : toStoredBytes(event.signature),
    control_index: event.controlIndex,
    accepted_at_ms: event.acceptedAtMs,
    ...historyColumns(event),
  };
}

export function createEventRepository(context: RepositoryContext): EventRepository {
  const { db } = context;

  async function appendBatch(
    events: readonly NewEvent[],
    alongside?: TransactionWrite,
  ): Promise<AppendOutcome[]> {
    if (events.length > eventBatchMax) {
      throw new StorageError("invalid-input", `an append batch holds at most ${eventBatchMax}`);
    }
    if (events.length === 0) {
      return [];
    }
    for (const event of events) {
      assertNewEvent(event);
    }
    return db.transaction().execute(async (transaction) => {
      await alongside?.(transaction);
      return appendInTransaction(context, transaction, events);
    });
  }

  return {
    async append(event) {
      const [outcome] = await appendBatch([event]);
      if (outcome === undefined) {
        throw new StorageError("database-failed", "an append returned no outcome");
      }
      return outcome;
    },

    appendBatch,

    async findByClientId(roomId, deviceId, clientId) {
      const row = await db
        .selectFrom("room_events")
        .selectAll()
        .where("room_id", "=", roomId)
        .where("sender_device_id", "=", deviceId)
        .where("client_event_id", "=", clientId)
        .executeTakeFirst();
      return row === undefined ? null : toStoredEvent(row);
    },

    async getByRoomSequence(roomId, roomSequence) {
      const row = await db
        .selectFrom("room_events")
        .selectAll()
        .where("room_id", "=", roomId)
        .where("room_sequence", "=", roomSequence)
        .executeTakeFirst();
      return row === undefined ? null : toStoredEvent(row);
    },

    async pageRoom(input) {
      assertLimit(input.limit);
      const forward = input.direction === "forward";
      const rows = await db
        .selectFrom("room_events")
        .selectAll()
        .where("room_id", "=", input.roomId)
        .where("room_sequence", forward ? ">" : "<", input.fromSequence)
        .orderBy("room_sequence", forward ? "asc" : "desc")
        .limit(input.limit + 1)
        .execute();
      return toPage(rows, input.limit, toStoredEvent);
    },

    pageHistory(input) {
      return pageHistory(db, input, toStoredEvent);
    },

    historyKeyOf,

    readStream(input) {
      return readStreamRange(db, input);
    },

    streamHead() {
      return readStreamHead(db);
    },

    async originPositions(input) {
      assertLimit(input.limit);
      const rows = await db
        .selectFrom("room_events")
        .select(["origin_sequence", "stream_position"])
        .where("room_id", "=", input.roomId)
        .where("origin", "=", input.origin)
        .where("origin_sequence", "<=", input.throughSequence)
        .orderBy("origin_sequence", "desc")
        .limit(input.limit)
        .execute();
      return rows.map((row) => ({
        sequence: Number(row.origin_sequence),
        streamPosition: Number(row.stream_position),
      }));
    },
  };
}
