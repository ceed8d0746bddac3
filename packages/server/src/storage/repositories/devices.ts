// Devices (each holding its device identity record and the server's
// attestation) and the bearer-token sessions that act for them. Only token
// hashes are stored. Revocation and session deletion share one transaction, so
// no session outlives its device.

import { identifierLengthMax, pageSizeMax } from "../../limits.ts";
import { fromStoredBytes, toStoredBytes } from "../bytes.ts";
import type { DevicesTable } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { Device } from "../records.ts";
import type {
  CreateDeviceOutcome,
  DeviceRepository,
  UpdateDeviceRecordOutcome,
} from "../storage.ts";
import {
  assertBytesMax,
  assertIdentifier,
  assertInteger,
  lockingRows,
  type RepositoryContext,
} from "./context.ts";

/** A device identity record lists the user's other devices' keys; 64 KiB holds hundreds. */
const identityRecordBytesMax = 64 * 1024;

function toDevice(row: DevicesTable): Device {
  return {
    deviceId: row.device_id,
    localName: row.local_name,
    identityRecord: fromStoredBytes(row.identity_record),
    attestation: fromStoredBytes(row.attestation),
    recordSequence: row.record_sequence,
    createdAtMs: row.created_at_ms,
    revokedAtMs: row.revoked_at_ms,
  };
}

export function createDeviceRepository(context: RepositoryContext): DeviceRepository {
  const { db } = context;
  return {
    async create(input) {
      assertIdentifier("device id", input.deviceId);
      assertBytesMax("identity record", input.identityRecord, identityRecordBytesMax);
      assertBytesMax("attestation", input.attestation, identityRecordBytesMax);
      assertInteger("record sequence", input.recordSequence, 0);
      return db.transaction().execute(async (transaction): Promise<CreateDeviceOutcome> => {
        const account = await lockingRows(
          context,
          transaction
            .selectFrom("accounts")
            .select("deactivated_at_ms")
            .where("local_name", "=", input.localName),
        ).executeTakeFirst();
        if (account === undefined) {
          return { kind: "unknown-account" };
        }
        if (account.deactivated_at_ms !== null) {
          return { kind: "account-deactivated" };
        }
        const row: DevicesTable = {
          device_id: input.deviceId,
          local_name: input.localName,
          identity_record: toStoredBytes(input.identityRecord),
          attestation: toStoredBytes(input.attestation),
          record_sequence: input.recordSequence,
          created_at_ms: input.createdAtMs,
          revoked_at_ms: null,
        };
        const inserted = await transaction
          .insertInto("devices")
          .values(row)
          .onConflict((conflict) => conflict.column("device_id").doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) {
          return { kind: "device-exists" };
        }
        // A new device starts at the stream head: it learns history by paging
        // rooms, not by replaying the whole server's feed.
        const head = await transaction
          .selectFrom("event_stream_head")
          .select("last_position")
          .where("singleton_id", "=", 1)
          .executeTakeFirstOrThrow();
        await transaction
          .insertInto("device_inboxes")
          .values({
            device_id: input.deviceId,
            stream_position: head.last_position,
            queue_position_acknowledged: 0,
            queue_position_last: 0,
            queue_missed_count: 0,
            queue_missed_through: 0,
          })
          .execute();
        return { kind: "created", device: toDevice(row) };
      });
    },

    async get(deviceId) {
      const row = await db
        .selectFrom("devices")
        .selectAll()
        .where("device_id", "=", deviceId)
        .executeTakeFirst();
      return row === undefined ? null : toDevice(row);
    },

    async listForAccount(localName) {
      const rows = await db
        .selectFrom("devices")
        .selectAll()
        .where("local_name", "=", localName)
        .orderBy("created_at_ms")
        .orderBy("device_id")
        .execute();
      return rows.map(toDevice);
    },

    async streamCursorsOf(localNames) {
      if (localNames.length > pageSizeMax) {
        throw new StorageError("invalid-input", `at most ${pageSizeMax} accounts per call`);
      }
      if (localNames.length === 0) return [];
      return db
        .selectFrom("devices")
        .innerJoin("device_inboxes", "device_inboxes.device_id", "devices.device_id")
        .select([
          "devices.device_id as deviceId",
          "devices.local_name as localName",
          "device_inboxes.stream_position as streamPosition",
        ])
        .where("devices.local_name", "in", localNames)
        .where("devices.revoked_at_ms", "is", null)
        .execute();
    },

    async updateRecord(input) {
      assertBytesMax("identity record", input.identityRecord, identityRecordBytesMax);
      assertBytesMax("attestation", input.attestation, identityRecordBytesMax);
      assertInteger("record sequence", input.recordSequence, 0);
      return db.transaction().execute(async (transaction): Promise<UpdateDeviceRecordOutcome> => {
        const stored = await lockingRows(
          context,
          transaction
            .selectFrom("devices")
            .select(["record_sequence", "revoked_at_ms"])
            .where("device_id", "=", input.deviceId),
        ).executeTakeFirst();
        if (stored === undefined) {
          return { kind: "unknown-device" };
        }
        if (stored.revoked_at_ms !== null) {
          return { kind: "revoked" };
        }
        if (stored.record_sequence >= input.recordSequence) {
          return { kind: "stale", storedSequence: stored.record_sequence };
        }
        await transaction
          .updateTable("devices")
          .set({
            identity_record: toStoredBytes(input.identityRecord),
            attestation: toStoredBytes(input.attestation),
            record_sequence: input.recordSequence,
          })
          .where("device_id", "=", input.deviceId)
          .execute();
        return { kind: "updated" };
      });
    },

    async revoke(deviceId, atMs) {
      return db.transaction().execute(async (transaction) => {
        const result = await transaction
          .updateTable("devices")
          .set({ revoked_at_ms: atMs })
          .where("device_id", "=", deviceId)
          .where("revoked_at_ms", "is", null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) {
          return false;
        }
        await transaction.deleteFrom("sessions").where("device_id", "=", deviceId).execute();
        // Queued welcomes and invites were for this device's keys alone.
        await transaction
          .deleteFrom("device_queue_items")
          .where("device_id", "=", deviceId)
          .execute();
        return true;
      });
    },

    async createSession(input) {
      assertBytesMax("token hash", input.tokenHash, identifierLengthMax);
      return db.transaction().execute(async (transaction) => {
        // Locking the device row makes a concurrent revoke wait, or be waited
        // for: a session is never created for a device revoked meanwhile.
        const device = await lockingRows(
          context,
          transaction
            .selectFrom("devices")
            .select("revoked_at_ms")
            .where("device_id", "=", input.deviceId),
        ).executeTakeFirst();
        if (device === undefined || device.revoked_at_ms !== null) {
          return false;
        }
        const inserted = await transaction
          .insertInto("sessions")
          .values({
            token_hash: toStoredBytes(input.tokenHash),
            device_id: input.deviceId,
            created_at_ms: input.createdAtMs,
            last_seen_at_ms: input.createdAtMs,
            expires_at_ms: input.expiresAtMs,
          })
          .onConflict((conflict) => conflict.column("token_hash").doNothing())
          .executeTakeFirst();
        return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
      });
    },

    async findSession(tokenHash, atMs) {
      const row = await db
        .selectFrom("sessions")
        .innerJoin("devices", "devices.device_id", "sessions.device_id")
        .select([
          "sessions.token_hash",
          "sessions.device_id",
          "devices.local_name",
          "sessions.created_at_ms",
          "sessions.last_seen_at_ms",
          "sessions.expires_at_ms",
        ])
        .where("sessions.token_hash", "=", toStoredBytes(tokenHash))
        .where("sessions.expires_at_ms", ">", atMs)
        .where("devices.revoked_at_ms", "is", null)
        .executeTakeFirst();
      if (row === undefined) {
        return null;
      }
      return {
        tokenHash: fromStoredBytes(row.token_hash),
        deviceId: row.device_id,
        localName: row.local_name,
        createdAtMs: row.created_at_ms,
        lastSeenAtMs: row.last_seen_at_ms,
        expiresAtMs: row.expires_at_ms,
      };
    },

    async touchSession(tokenHash, atMs) {
      await db
        .updateTable("sessions")
        .set({ last_seen_at_ms: atMs })
        .where("token_hash", "=", toStoredBytes(tokenHash))
        .where("last_seen_at_ms", "<", atMs)
        .execute();
    },

    async deleteSession(tokenHash) {
      const result = await db
        .deleteFrom("sessions")
        .where("token_hash", "=", toStoredBytes(tokenHash))
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async deleteExpiredSessions(atMs, limit) {
      assertInteger("limit", limit, 1);
      const expired = db
        .selectFrom("sessions")
        .select("token_hash")
        .where("expires_at_ms", "<=", atMs)
        .limit(limit);
      const result = await db
        .deleteFrom("sessions")
        .where("token_hash", "in", expired)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
