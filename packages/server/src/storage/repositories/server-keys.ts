// The homeserver's own Ed25519 key pairs. Kept (retired, not deleted) after
// rotation so signatures made with an old key can still be checked.

import { fromStoredBytes, toStoredBytes } from "../bytes.ts";
import type { ServerSigningKeysTable } from "../database-schema.ts";
import type { ServerSigningKey } from "../records.ts";
import type { ServerKeyRepository } from "../storage.ts";
import { assertIdentifier, assertInteger, type RepositoryContext } from "./context.ts";

function toKey(row: ServerSigningKeysTable): ServerSigningKey {
  return {
    keyId: row.key_id,
    publicKey: fromStoredBytes(row.public_key),
    secretSeed: fromStoredBytes(row.secret_seed),
    validFromMs: row.valid_from_ms,
    validUntilMs: row.valid_until_ms,
  };
}

export function createServerKeyRepository(context: RepositoryContext): ServerKeyRepository {
  const { db } = context;
  return {
    async insert(key) {
      assertIdentifier("key id", key.keyId);
      assertInteger("valid from", key.validFromMs, 0);
      const result = await db
        .insertInto("server_signing_keys")
        .values({
          key_id: key.keyId,
          public_key: toStoredBytes(key.publicKey),
          secret_seed: toStoredBytes(key.secretSeed),
          valid_from_ms: key.validFromMs,
          valid_until_ms: key.validUntilMs,
        })
        .onConflict((conflict) => conflict.column("key_id").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async current(atMs) {
      const row = await db
        .selectFrom("server_signing_keys")
        .selectAll()
        .where("valid_from_ms", "<=", atMs)
        .where((where) =>
          where.or([where("valid_until_ms", "is", null), where("valid_until_ms", ">", atMs)]),
        )
        .orderBy("valid_from_ms", "desc")
        .orderBy("key_id", "desc")
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? null : toKey(row);
    },

    async list() {
      const rows = await db
        .selectFrom("server_signing_keys")
        .selectAll()
        .orderBy("valid_from_ms", "desc")
        .orderBy("key_id", "desc")
        .execute();
      return rows.map(toKey);
    },

    async retire(keyId, validUntilMs) {
      const result = await db
        .updateTable("server_signing_keys")
        .set({ valid_until_ms: validUntilMs })
        .where("key_id", "=", keyId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
