// A room's history in the order of docs/protocol.md §12.4.3: by
// (control index, rank, accepted time, origin, origin sequence), with the
// room sequence breaking ties between events stored before migration 0006.
// The order depends only on the stamps, so servers holding the same events
// page them alike; the cursor is the key of the last event returned, which
// stays valid when a backfilled event lands anywhere in the room.

import { type Kysely, sql } from "kysely";
import { controlEventContentType } from "../../rooms/control-events.ts";
import type { Database, RoomEventsTable } from "../database-schema.ts";
import { controlHistoryRank, messageHistoryRank } from "../migrations/0006-history-order.ts";
import type { HistoryKey, HistoryPageInput, NewEvent, Page, StoredEvent } from "../records.ts";
import { assertInteger, assertLimit, toPage } from "./context.ts";

/** The rank and stamp columns of a new event's row. */
export function historyColumns(
  event: NewEvent,
): Pick<RoomEventsTable, "history_rank" | "origin" | "origin_sequence"> {
  return {
    history_rank: historyRank(event),
    origin: event.stamp?.origin ?? "",
    origin_sequence: event.stamp?.sequence ?? 0,
  };
}

function historyRank(event: NewEvent): number {
  return event.contentType === controlEventContentType ? controlHistoryRank : messageHistoryRank;
}

/** The key of a stored event: the cursor that pages on after it. */
export function historyKeyOf(event: StoredEvent): HistoryKey {
  return {
    controlIndex: event.controlIndex,
    rank: historyRank(event),
    acceptedAtMs: event.acceptedAtMs,
    origin: event.stamp?.origin ?? "",
    originSequence: event.stamp?.sequence ?? 0,
    roomSequence: event.roomSequence,
  };
}

/**
 * Whether `candidate`'s stamp sorts before `current`'s: two stamps of one
 * message, of which history keeps the first (§12.4.3). Only stamped copies
 * compete; an event without a stamp never replaces one.
 */
export function stampSortsFirst(candidate: NewEvent, current: NewEvent): boolean {
  const next = candidate.stamp;
  const held = current.stamp;
  if (next === undefined || held === undefined) return false;
  if (candidate.controlIndex !== current.controlIndex) {
    return candidate.controlIndex < current.controlIndex;
  }
  if (candidate.acceptedAtMs !== current.acceptedAtMs) {
    return candidate.acceptedAtMs < current.acceptedAtMs;
  }
  const origins = Buffer.compare(Buffer.from(next.origin), Buffer.from(held.origin));
  if (origins !== 0) return origins < 0;
  return next.sequence < held.sequence;
}

function assertHistoryKey(key: HistoryKey): void {
  assertInteger("cursor control index", key.controlIndex, 0);
  assertInteger("cursor rank", key.rank, 0);
  assertInteger("cursor time", key.acceptedAtMs, 0);
  assertInteger("cursor origin sequence", key.originSequence, 0);
  assertInteger("cursor room sequence", key.roomSequence, 0);
}

export async function pageHistory(
  db: Kysely<Database>,
  input: HistoryPageInput,
  toEvent: (row: RoomEventsTable) => StoredEvent,
): Promise<Page<StoredEvent>> {
  assertLimit(input.limit);
  const forward = input.direction === "forward";
  const order = forward ? "asc" : "desc";
  let query = db.selectFrom("room_events").selectAll().where("room_id", "=", input.roomId);
  const from = input.from;
  if (from !== undefined) {
    assertHistoryKey(from);
    // A row-value comparison: both databases compare the tuples in order and
    // walk room_events_by_history for it.
    const columns = sql`(control_index, history_rank, accepted_at_ms, origin, origin_sequence, room_sequence)`;
    const values = sql`(${from.controlIndex}, ${from.rank}, ${from.acceptedAtMs}, ${from.origin}, ${from.originSequence}, ${from.roomSequence})`;
    query = query.where(
      forward ? sql<boolean>`${columns} > ${values}` : sql<boolean>`${columns} < ${values}`,
    );
  }
  const rows = await query
    .orderBy("control_index", order)
    .orderBy("history_rank", order)
    .orderBy("accepted_at_ms", order)
    .orderBy("origin", order)
    .orderBy("origin_sequence", order)
    .orderBy("room_sequence", order)
    .limit(input.limit + 1)
    .execute();
  return toPage(rows, input.limit, toEvent);
}
