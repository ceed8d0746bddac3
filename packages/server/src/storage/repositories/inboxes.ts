// Device inboxes. A room message is stored once, in the event stream; a
// device's inbox is only its cursor over that stream (the position it has
// acknowledged) plus a small queue for what is addressed to that device alone
// (invites, welcomes, server notices). A 100-member room costs one write per
// message, not a hundred.
//
// Nothing is dropped silently. A device that was away too long is not replayed
// the whole stream: events beyond retention (older than maxAgeMs, or beyond the
// newest maxEvents) are summarised as a "missed N through position P" marker,
// computed at read time, and the client pages room history instead. Queue
// items are deleted when acknowledged, expired by age, or pushed out by a full
// queue; the last two add to a missed marker stored with the inbox, cleared
// once the device acknowledges past it.
//
// Concurrency. Queue positions come from a per-device counter on the inbox
// row, which every queue write locks first (FOR UPDATE on PostgreSQL; SQLite
// holds its write lock), so positions are unique, increasing and committed in
// order per device. The stream cursor moves with one conditional UPDATE
// ("only forward"), atomic on both databases.

import { type Kysely, sql } from "kysely";
import {
  acknowledgementBatchMax,
  controlEntryBytesMax,
  deviceQueueItemsMax,
  sweepRowsMax,
} from "../../limits.ts";
import { fromStoredBytes, toStoredBytes } from "../bytes.ts";
import type { Database, DeviceQueueItemsTable } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { InboxRetention, MissedMarker, QueueItem } from "../records.ts";
import type { AcknowledgeOutcome, EnqueueOutcome, InboxRepository } from "../storage.ts";
import {
  assertBytesMax,
  assertIdentifier,
  assertInteger,
  assertLimit,
  lockingRows,
  type RepositoryContext,
  toPage,
} from "./context.ts";
import { readStreamHead, readStreamRange } from "./events.ts";

function toQueueItem(row: DeviceQueueItemsTable): QueueItem {
  return {
    deviceId: row.device_id,
    queuePosition: row.queue_position,
    itemId: row.item_id,
    itemKind: row.item_kind,
    body: fromStoredBytes(row.body),
    createdAtMs: row.created_at_ms,
  };
}

function assertRetention(retention: InboxRetention): void {
  assertInteger("retention age", retention.maxAgeMs, 1);
  assertInteger("retention events", retention.maxEvents, 1);
}

/**
 * The stream marker for a device at `cursor`: the newest position that
 * retention rules out, and how many of the rooms' events lie in
 * (cursor, that position]. Null when nothing is ruled out.
 */
async function streamMissedMarker(
  db: Kysely<Database>,
  input: { roomIds: readonly string[]; cursor: number; head: number; retention: InboxRetention },
  atMs: number,
): Promise<MissedMarker | null> {
  const inRange = db
    .selectFrom("room_events")
    .where("room_id", "in", input.roomIds)
    .where("stream_position", ">", input.cursor)
    .where("stream_position", "<=", input.head);
  // More than maxEvents ahead: everything up to the (maxEvents+1)-th newest is out.
  const beyondCount = await inRange
    .select("stream_position")
    .orderBy("stream_position", "desc")
    .limit(1)
    .offset(input.retention.maxEvents)
    .executeTakeFirst();
  const beyondAge = await inRange
    .select((select) => select.fn.max("stream_position").as("position"))
    .where("accepted_at_ms", "<", atMs - input.retention.maxAgeMs)
    .executeTakeFirst();
  const through = Math.max(beyondCount?.stream_position ?? 0, Number(beyondAge?.position ?? 0));
  if (through <= input.cursor) {
    return null;
  }
  const counted = await inRange
    .select((select) => select.fn.countAll().as("count"))
    .where("stream_position", "<=", through)
    .executeTakeFirstOrThrow();
  return { count: Number(counted.count), throughPosition: through };
}

function byKey(left: [string, unknown], right: [string, unknown]): number {
  return left[0] < right[0] ? -1 : left[0] > right[0] ? 1 : 0;
}

export function createInboxRepository(context: RepositoryContext): InboxRepository {
  const { db } = context;

  async function inboxRow(deviceId: string) {
    return db
      .selectFrom("device_inboxes")
      .selectAll()
      .where("device_id", "=", deviceId)
      .executeTakeFirst();
  }

  return {
    async cursor(deviceId) {
      const row = await inboxRow(deviceId);
      if (row === undefined) {
        return null;
      }
      return {
        deviceId,
        streamPosition: row.stream_position,
        queuePosition: row.queue_position_acknowledged,
      };
    },

    async readStream(input) {
      assertLimit(input.limit);
      assertRetention(input.retention);
      const row = await inboxRow(input.deviceId);
      if (row === undefined) {
        return null;
      }
      const head = await readStreamHead(db);
      const missed =
        input.roomIds.length === 0
          ? null
          : await streamMissedMarker(
              db,
              {
                roomIds: input.roomIds,
                cursor: row.stream_position,
                head,
                retention: input.retention,
              },
              input.atMs,
            );
      const page = await readStreamRange(db, {
        roomIds: input.roomIds,
        afterPosition: missed?.throughPosition ?? row.stream_position,
        limit: input.limit,
      });
      return { ...page, missed };
    },

    async acknowledgeStream(deviceId, position) {
      assertInteger("acknowledged position", position, 0);
      const head = await readStreamHead(db);
      if (position > head) {
        return { kind: "beyond-end", end: head };
      }
      const result = await db
        .updateTable("device_inboxes")
        .set({ stream_position: position })
        .where("device_id", "=", deviceId)
        .where("stream_position", "<", position)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) {
        return { kind: "advanced", position };
      }
      const row = await inboxRow(deviceId);
      return row === undefined
        ? { kind: "unknown-device" }
        : { kind: "unchanged", position: row.stream_position };
    },

    async acknowledgeStreams(acknowledgements) {
      if (acknowledgements.length > acknowledgementBatchMax) {
        throw new StorageError(
          "invalid-input",
          `at most ${acknowledgementBatchMax} acknowledgements at once`,
        );
      }
      for (const { deviceId, position } of acknowledgements) {
        assertIdentifier("device id", deviceId);
        assertInteger("acknowledged position", position, 0);
      }
      if (acknowledgements.length === 0) {
        return 0;
      }
      // One statement for the whole batch: a hundred single-row updates cost
      // milliseconds of the event loop in query building alone, every
      // interval, which showed as a latency spike for every message waiting.
      // A device named twice moves to the larger position.
      const targets = new Map<string, number>();
      for (const { deviceId, position } of acknowledgements) {
        targets.set(deviceId, Math.max(position, targets.get(deviceId) ?? 0));
      }
      // Device order, so two batches lock inbox rows in the same order.
      const devices = [...targets.keys()].sort();
      return db.transaction().execute(async (transaction) => {
        const head = await readStreamHead(transaction);
        const target = sql<number>`case device_id ${sql.join(
          devices.map(
            (deviceId) =>
              sql`when ${deviceId} then cast(${Math.min(targets.get(deviceId) ?? 0, head)} as bigint)`,
          ),
          sql` `,
        )} end`;
        const result = await transaction
          .updateTable("device_inboxes")
          .set({ stream_position: target })
          .where("device_id", "in", devices)
          .where("stream_position", "<", target)
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      });
    },

    async enqueue(input) {
      assertIdentifier("queue item id", input.itemId);
      assertIdentifier("queue item kind", input.itemKind);
      assertBytesMax("queue item", input.body, controlEntryBytesMax);
      assertInteger("queue length", input.maxItems, 1);
      if (input.maxItems > deviceQueueItemsMax) {
        throw new StorageError(
          "invalid-input",
          `a device queue holds at most ${deviceQueueItemsMax}`,
        );
      }
      return db.transaction().execute(async (transaction): Promise<EnqueueOutcome> => {
        const inbox = await lockingRows(
          context,
          transaction
            .selectFrom("device_inboxes")
            .innerJoin("devices", "devices.device_id", "device_inboxes.device_id")
            .select([
              "device_inboxes.queue_position_last",
              "device_inboxes.queue_missed_count",
              "device_inboxes.queue_missed_through",
              "devices.revoked_at_ms",
            ])
            .where("device_inboxes.device_id", "=", input.deviceId),
        ).executeTakeFirst();
        if (inbox === undefined || inbox.revoked_at_ms !== null) {
          return { kind: "unknown-device" };
        }
        const existing = await transaction
          .selectFrom("device_queue_items")
          .selectAll()
          .where("device_id", "=", input.deviceId)
          .where("item_id", "=", input.itemId)
          .executeTakeFirst();
        if (existing !== undefined) {
          return { kind: "duplicate", item: toQueueItem(existing) };
        }
        const row: DeviceQueueItemsTable = {
          device_id: input.deviceId,
          queue_position: inbox.queue_position_last + 1,
          item_id: input.itemId,
          item_kind: input.itemKind,
          body: toStoredBytes(input.body),
          created_at_ms: input.createdAtMs,
        };
        await transaction.insertInto("device_queue_items").values(row).execute();
        // A full queue drops its oldest items and says so in the marker.
        const cut = await transaction
          .selectFrom("device_queue_items")
          .select("queue_position")
          .where("device_id", "=", input.deviceId)
          .orderBy("queue_position", "desc")
          .limit(1)
          .offset(input.maxItems)
          .executeTakeFirst();
        let missedCount = inbox.queue_missed_count;
        let missedThrough = inbox.queue_missed_through;
        if (cut !== undefined) {
          const dropped = await transaction
            .deleteFrom("device_queue_items")
            .where("device_id", "=", input.deviceId)
            .where("queue_position", "<=", cut.queue_position)
            .executeTakeFirst();
          missedCount += Number(dropped.numDeletedRows);
          missedThrough = Math.max(missedThrough, cut.queue_position);
        }
        await transaction
          .updateTable("device_inboxes")
          .set({
            queue_position_last: row.queue_position,
            queue_missed_count: missedCount,
            queue_missed_through: missedThrough,
          })
          .where("device_id", "=", input.deviceId)
          .execute();
        return { kind: "queued", item: toQueueItem(row) };
      });
    },

    async readQueue(deviceId, limit) {
      assertLimit(limit);
      const inbox = await inboxRow(deviceId);
      if (inbox === undefined) {
        return null;
      }
      const rows = await db
        .selectFrom("device_queue_items")
        .selectAll()
        .where("device_id", "=", deviceId)
        .where("queue_position", ">", inbox.queue_position_acknowledged)
        .orderBy("queue_position")
        .limit(limit + 1)
        .execute();
      const missed =
        inbox.queue_missed_count > 0
          ? { count: inbox.queue_missed_count, throughPosition: inbox.queue_missed_through }
          : null;
      return { missed, ...toPage(rows, limit, toQueueItem) };
    },

    async acknowledgeQueue(deviceId, position) {
      assertInteger("acknowledged position", position, 0);
      return db.transaction().execute(async (transaction): Promise<AcknowledgeOutcome> => {
        const inbox = await lockingRows(
          context,
          transaction.selectFrom("device_inboxes").selectAll().where("device_id", "=", deviceId),
        ).executeTakeFirst();
        if (inbox === undefined) {
          return { kind: "unknown-device" };
        }
        if (position > inbox.queue_position_last) {
          return { kind: "beyond-end", end: inbox.queue_position_last };
        }
        if (position <= inbox.queue_position_acknowledged) {
          return { kind: "unchanged", position: inbox.queue_position_acknowledged };
        }
        await transaction
          .deleteFrom("device_queue_items")
          .where("device_id", "=", deviceId)
          .where("queue_position", "<=", position)
          .execute();
        const markerCovered = inbox.queue_missed_through <= position;
        await transaction
          .updateTable("device_inboxes")
          .set({
            queue_position_acknowledged: position,
            ...(markerCovered ? { queue_missed_count: 0, queue_missed_through: 0 } : {}),
          })
          .where("device_id", "=", deviceId)
          .execute();
        return { kind: "advanced", position };
      });
    },

    async expireQueueItems(olderThanMs, limit) {
      assertInteger("limit", limit, 1);
      const rowsMax = Math.min(limit, sweepRowsMax);
      return db.transaction().execute(async (transaction) => {
        const expired = await transaction
          .selectFrom("device_queue_items")
          .select(["device_id", "queue_position"])
          .where("created_at_ms", "<", olderThanMs)
          .orderBy("created_at_ms")
          .limit(rowsMax)
          .execute();
        const positionsByDevice = new Map<string, number[]>();
        for (const row of expired) {
          const positions = positionsByDevice.get(row.device_id) ?? [];
          positions.push(row.queue_position);
          positionsByDevice.set(row.device_id, positions);
        }
        // Device rows in id order, so two sweeps cannot deadlock. An item
        // acknowledged since the read above is simply not deleted again.
        let expiredCount = 0;
        for (const [deviceId, positions] of [...positionsByDevice].sort(byKey)) {
          const inbox = await lockingRows(
            context,
            transaction
              .selectFrom("device_inboxes")
              .select(["queue_missed_count", "queue_missed_through"])
              .where("device_id", "=", deviceId),
          ).executeTakeFirstOrThrow();
          const deleted = await transaction
            .deleteFrom("device_queue_items")
            .where("device_id", "=", deviceId)
            .where("queue_position", "in", positions)
            .returning("queue_position")
            .execute();
          if (deleted.length === 0) {
            continue;
          }
          expiredCount += deleted.length;
          await transaction
            .updateTable("device_inboxes")
            .set({
              queue_missed_count: inbox.queue_missed_count + deleted.length,
              queue_missed_through: Math.max(
                inbox.queue_missed_through,
                ...deleted.map((row) => row.queue_position),
              ),
            })
            .where("device_id", "=", deviceId)
            .execute();
        }
        return expiredCount;
      });
    },

    async queueDepth(deviceId) {
      const row = await db
        .selectFrom("device_queue_items")
        .select((select) => select.fn.countAll().as("count"))
        .where("device_id", "=", deviceId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
