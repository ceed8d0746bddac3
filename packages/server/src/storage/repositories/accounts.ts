// Local accounts and registration invite tokens. Creating an account and
// spending an invite happen in one transaction, so a taken name never costs a
// use and two registrations can never share the last use: the use is spent by
// one conditional UPDATE (uses_left > 0), which PostgreSQL serialises on the
// token's row and SQLite on its write lock.

import { fromStoredBytes, toStoredBytes } from "../bytes.ts";
import type { AccountsTable, InviteTokensTable } from "../database-schema.ts";
import type { Account, InviteToken } from "../records.ts";
import type { AccountRepository, CreateAccountOutcome } from "../storage.ts";
import { assertIdentifier, assertInteger, type RepositoryContext } from "./context.ts";

function toAccount(row: AccountsTable): Account {
  return {
    localName: row.local_name,
    passwordHash: row.password_hash,
    createdAtMs: row.created_at_ms,
    deactivatedAtMs: row.deactivated_at_ms,
  };
}

function toInviteToken(row: InviteTokensTable): InviteToken {
  return {
    tokenHash: fromStoredBytes(row.token_hash),
    usesLeft: row.uses_left,
    expiresAtMs: row.expires_at_ms,
    createdAtMs: row.created_at_ms,
  };
}

/** Thrown inside the transaction to roll back a spent invite when the name is taken. */
class NameTakenRollback extends Error {}

export function createAccountRepository(context: RepositoryContext): AccountRepository {
  const { db } = context;
  return {
    async create(input) {
      assertIdentifier("local name", input.localName);
      assertInteger("created at", input.createdAtMs, 0);
      try {
        return await db
          .transaction()
          .execute(async (transaction): Promise<CreateAccountOutcome> => {
            if (input.inviteTokenHash !== undefined) {
              const spent = await transaction
                .updateTable("invite_tokens")
                .set((set) => ({ uses_left: set("uses_left", "-", 1) }))
                .where("token_hash", "=", toStoredBytes(input.inviteTokenHash))
                .where("uses_left", ">", 0)
                .where((where) =>
                  where.or([
                    where("expires_at_ms", "is", null),
                    where("expires_at_ms", ">", input.createdAtMs),
                  ]),
                )
                .executeTakeFirst();
              if (Number(spent.numUpdatedRows) !== 1) {
                return { kind: "invite-unavailable" };
              }
            }
            const row: AccountsTable = {
              local_name: input.localName,
              password_hash: input.passwordHash,
              created_at_ms: input.createdAtMs,
              deactivated_at_ms: null,
            };
            const inserted = await transaction
              .insertInto("accounts")
              .values(row)
              .onConflict((conflict) => conflict.column("local_name").doNothing())
              .executeTakeFirst();
            if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) {
              throw new NameTakenRollback();
            }
            return { kind: "created", account: toAccount(row) };
          });
      } catch (error) {
        if (error instanceof NameTakenRollback) {
          return { kind: "name-taken" };
        }
        throw error;
      }
    },

    async get(localName) {
      const row = await db
        .selectFrom("accounts")
        .selectAll()
        .where("local_name", "=", localName)
        .executeTakeFirst();
      return row === undefined ? null : toAccount(row);
    },

    async setPasswordHash(localName, passwordHash) {
      const result = await db
        .updateTable("accounts")
        .set({ password_hash: passwordHash })
        .where("local_name", "=", localName)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async deactivate(localName, atMs) {
      return db.transaction().execute(async (transaction) => {
        const result = await transaction
          .updateTable("accounts")
          .set({ deactivated_at_ms: atMs })
          .where("local_name", "=", localName)
          .where("deactivated_at_ms", "is", null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) {
          return false;
        }
        const devices = transaction
          .selectFrom("devices")
          .select("device_id")
          .where("local_name", "=", localName);
        await transaction.deleteFrom("sessions").where("device_id", "in", devices).execute();
        await transaction
          .deleteFrom("device_queue_items")
          .where("device_id", "in", devices)
          .execute();
        await transaction
          .updateTable("devices")
          .set({ revoked_at_ms: atMs })
          .where("local_name", "=", localName)
          .where("revoked_at_ms", "is", null)
          .execute();
        return true;
      });
    },

    async createInviteToken(token) {
      assertInteger("uses left", token.usesLeft, 0);
      const result = await db
        .insertInto("invite_tokens")
        .values({
          token_hash: toStoredBytes(token.tokenHash),
          uses_left: token.usesLeft,
          expires_at_ms: token.expiresAtMs,
          created_at_ms: token.createdAtMs,
        })
        .onConflict((conflict) => conflict.column("token_hash").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async getInviteToken(tokenHash) {
      const row = await db
        .selectFrom("invite_tokens")
        .selectAll()
        .where("token_hash", "=", toStoredBytes(tokenHash))
        .executeTakeFirst();
      return row === undefined ? null : toInviteToken(row);
    },
  };
}
