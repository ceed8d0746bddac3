// KeyPackages published by devices and claimed by whoever adds them to an MLS
// group (docs/protocol.md §13.4). The one property that matters: a one-time
// package is handed out at most once. A claim deletes the package it returns
// in the same transaction; on PostgreSQL it skips rows another claim has
// locked (FOR UPDATE SKIP LOCKED), so two concurrent claims take two different
// packages instead of one waiting and then finding its row gone; on SQLite
// every transaction holds the single write lock (BEGIN IMMEDIATE).

import {
  keyPackageBytesMax,
  keyPackageClaimDevicesMax,
  keyPackagesPerDeviceMax,
  sweepRowsMax,
} from "../../limits.ts";
import { fromStoredBytes, toStoredBytes } from "../bytes.ts";
import type { KeyPackagesTable } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type {
  ClaimedKeyPackage,
  KeyPackageRepository,
  NewKeyPackage,
  PublishKeyPackagesOutcome,
} from "../storage.ts";
import {
  assertBytesMax,
  assertIdentifier,
  assertInteger,
  lockingRows,
  type RepositoryContext,
} from "./context.ts";

/** A KeyPackageRef is a hash output: 32 bytes for suite 1, 64 for the largest suites. */
const referenceBytesMax = 64;

function assertNewKeyPackage(keyPackage: NewKeyPackage): void {
  if (keyPackage.reference.byteLength === 0) {
    throw new StorageError("invalid-input", "a KeyPackage reference must not be empty");
  }
  assertBytesMax("KeyPackage reference", keyPackage.reference, referenceBytesMax);
  assertBytesMax("KeyPackage", keyPackage.keyPackage, keyPackageBytesMax);
  assertInteger("KeyPackage end of lifetime", keyPackage.notAfterMs, 0);
}

function assertPublishInput(input: Parameters<KeyPackageRepository["publish"]>[0]): void {
  assertIdentifier("device id", input.deviceId);
  assertInteger("publish time", input.publishedAtMs, 0);
  assertInteger("one-time KeyPackages per device", input.oneTimeMax, 0);
  if (input.oneTimeMax > keyPackagesPerDeviceMax) {
    throw new StorageError("invalid-input", `at most ${keyPackagesPerDeviceMax} per device`);
  }
  if (input.oneTime.length > keyPackagesPerDeviceMax) {
    throw new StorageError("invalid-input", "more one-time KeyPackages than a device may hold");
  }
  for (const keyPackage of input.oneTime) assertNewKeyPackage(keyPackage);
  if (input.lastResort !== null) assertNewKeyPackage(input.lastResort);
}

function referenceKey(reference: Uint8Array): string {
  return Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength).toString("hex");
}

export function createKeyPackageRepository(context: RepositoryContext): KeyPackageRepository {
  const { db } = context;

  return {
    async publish(input) {
      assertPublishInput(input);
      return db.transaction().execute(async (transaction): Promise<PublishKeyPackagesOutcome> => {
        // Locking the device row serialises publishes of one device, so the
        // count below cannot be raced past oneTimeMax.
        const device = await lockingRows(
          context,
          transaction
            .selectFrom("devices")
            .select("revoked_at_ms")
            .where("device_id", "=", input.deviceId),
        ).executeTakeFirst();
        if (device === undefined || device.revoked_at_ms !== null) {
          return { kind: "unknown-device" };
        }
        await transaction
          .deleteFrom("key_packages")
          .where("device_id", "=", input.deviceId)
          .where("not_after_ms", "<", input.publishedAtMs)
          .execute();
        const stored = await transaction
          .selectFrom("key_packages")
          .select("reference")
          .where("device_id", "=", input.deviceId)
          .execute();
        const known = new Set(stored.map((row) => referenceKey(row.reference)));
        const fresh = new Map<string, NewKeyPackage>();
        for (const keyPackage of input.oneTime) {
          const key = referenceKey(keyPackage.reference);
          if (!known.has(key)) fresh.set(key, keyPackage);
        }
        if (stored.length + fresh.size > input.oneTimeMax) {
          return { kind: "too-many", oneTimeCount: stored.length };
        }
        const rows: KeyPackagesTable[] = [...fresh.values()].map((keyPackage) => ({
          device_id: input.deviceId,
          reference: toStoredBytes(keyPackage.reference),
          key_package: toStoredBytes(keyPackage.keyPackage),
          not_after_ms: keyPackage.notAfterMs,
          published_at_ms: input.publishedAtMs,
        }));
        if (rows.length > 0) await transaction.insertInto("key_packages").values(rows).execute();
        if (input.lastResort !== null) {
          const row = {
            device_id: input.deviceId,
            reference: toStoredBytes(input.lastResort.reference),
            key_package: toStoredBytes(input.lastResort.keyPackage),
            not_after_ms: input.lastResort.notAfterMs,
            published_at_ms: input.publishedAtMs,
          };
          await transaction
            .insertInto("last_resort_key_packages")
            .values(row)
            .onConflict((conflict) =>
              conflict.column("device_id").doUpdateSet({
                reference: row.reference,
                key_package: row.key_package,
                not_after_ms: row.not_after_ms,
                published_at_ms: row.published_at_ms,
              }),
            )
            .execute();
        }
        const lastResort = await transaction
          .selectFrom("last_resort_key_packages")
          .select("device_id")
          .where("device_id", "=", input.deviceId)
          .where("not_after_ms", ">=", input.publishedAtMs)
          .executeTakeFirst();
        return {
          kind: "published",
          oneTimeAdded: rows.length,
          oneTimeCount: stored.length + rows.length,
          lastResort: lastResort !== undefined,
        };
      });
    },

    async count(deviceId, atMs) {
      assertIdentifier("device id", deviceId);
      assertInteger("time", atMs, 0);
      const oneTime = await db
        .selectFrom("key_packages")
        .select((expression) => expression.fn.countAll<number | string>().as("count"))
        .where("device_id", "=", deviceId)
        .where("not_after_ms", ">=", atMs)
        .executeTakeFirst();
      const lastResort = await db
        .selectFrom("last_resort_key_packages")
        .select("device_id")
        .where("device_id", "=", deviceId)
        .where("not_after_ms", ">=", atMs)
        .executeTakeFirst();
      return { oneTime: Number(oneTime?.count ?? 0), lastResort: lastResort !== undefined };
    },

    async claim(deviceIds, atMs) {
      if (deviceIds.length > keyPackageClaimDevicesMax) {
        throw new StorageError("invalid-input", `at most ${keyPackageClaimDevicesMax} devices`);
      }
      for (const deviceId of deviceIds) assertIdentifier("device id", deviceId);
      assertInteger("time", atMs, 0);
      const distinct = [...new Set(deviceIds)];
      if (distinct.length === 0) return [];
      return db.transaction().execute(async (transaction) => {
        const live = await transaction
          .selectFrom("devices")
          .select("device_id")
          .where("device_id", "in", distinct)
          .where("revoked_at_ms", "is", null)
          .execute();
        const liveIds = new Set(live.map((row) => row.device_id));
        const claimed: ClaimedKeyPackage[] = [];
        for (const deviceId of distinct) {
          if (!liveIds.has(deviceId)) continue;
          let oldest = transaction
            .selectFrom("key_packages")
            .select(["reference", "key_package", "not_after_ms"])
            .where("device_id", "=", deviceId)
            .where("not_after_ms", ">=", atMs)
            .orderBy("published_at_ms")
            .orderBy("reference")
            .limit(1);
          if (context.dialect === "postgres") oldest = oldest.forUpdate().skipLocked();
          const oneTime = await oldest.executeTakeFirst();
          if (oneTime !== undefined) {
            const deleted = await transaction
              .deleteFrom("key_packages")
              .where("device_id", "=", deviceId)
              .where("reference", "=", oneTime.reference)
              .executeTakeFirst();
            // The row was locked (PostgreSQL) or the database was (SQLite): it is ours to delete.
            if (Number(deleted.numDeletedRows) !== 1) {
              throw new StorageError("database-failed", "a claimed KeyPackage vanished");
            }
            claimed.push({
              deviceId,
              keyPackage: fromStoredBytes(oneTime.key_package),
              lastResort: false,
              notAfterMs: oneTime.not_after_ms,
            });
            continue;
          }
          const lastResort = await transaction
            .selectFrom("last_resort_key_packages")
            .select(["key_package", "not_after_ms"])
            .where("device_id", "=", deviceId)
            .where("not_after_ms", ">=", atMs)
            .executeTakeFirst();
          if (lastResort !== undefined) {
            claimed.push({
              deviceId,
              keyPackage: fromStoredBytes(lastResort.key_package),
              lastResort: true,
              notAfterMs: lastResort.not_after_ms,
            });
          }
        }
        return claimed;
      });
    },

    async deleteExpired(atMs, limit) {
      assertInteger("time", atMs, 0);
      assertInteger("limit", limit, 1);
      const rowsMax = Math.min(limit, sweepRowsMax);
      return db.transaction().execute(async (transaction) => {
        const oneTime = await transaction
          .selectFrom("key_packages")
          .select(["device_id", "reference"])
          .where("not_after_ms", "<", atMs)
          .orderBy("not_after_ms")
          .limit(rowsMax)
          .execute();
        let removed = 0;
        for (const row of oneTime) {
          const deleted = await transaction
            .deleteFrom("key_packages")
            .where("device_id", "=", row.device_id)
            .where("reference", "=", row.reference)
            .executeTakeFirst();
          removed += Number(deleted.numDeletedRows);
        }
        if (oneTime.length >= rowsMax) return removed;
        const lastResort = await transaction
          .selectFrom("last_resort_key_packages")
          .select("device_id")
          .where("not_after_ms", "<", atMs)
          .orderBy("not_after_ms")
          .limit(rowsMax - oneTime.length)
          .execute();
        if (lastResort.length === 0) return removed;
        const deleted = await transaction
          .deleteFrom("last_resort_key_packages")
          .where(
            "device_id",
            "in",
            lastResort.map((row) => row.device_id),
          )
          .where("not_after_ms", "<", atMs)
          .executeTakeFirst();
        return removed + Number(deleted.numDeletedRows);
      });
    },
  };
}
