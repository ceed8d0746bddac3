// The operator's view of the homeserver: invite tokens, accounts and rooms to
// list, and the per-homeserver block list. Counts (live devices, joined
// members) are correlated subqueries on indexed columns, read with the page,
// so a list never holds a transaction open.

import { identifierLengthMax, serverBlockReasonBytesMax } from "../../limits.ts";
import { fromStoredBytes, toStoredBytes } from "../bytes.ts";
import type { InviteTokensTable, ServerBlocksTable } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { InviteToken, RoomKind, ServerBlock } from "../records.ts";
import type { AdministrationRepository } from "../storage.ts";
import {
  assertIdentifier,
  assertInteger,
  assertLimit,
  type RepositoryContext,
  toPage,
} from "./context.ts";

function toInviteToken(row: InviteTokensTable): InviteToken {
  return {
    tokenHash: fromStoredBytes(row.token_hash),
    usesLeft: row.uses_left,
    expiresAtMs: row.expires_at_ms,
    createdAtMs: row.created_at_ms,
  };
}

function toServerBlock(row: ServerBlocksTable): ServerBlock {
  return { serverName: row.server_name, reason: row.reason, blockedAtMs: row.blocked_at_ms };
}

function toRoomKind(kind: string): RoomKind {
  if (kind !== "plain" && kind !== "encrypted") {
    throw new StorageError("database-failed", "a stored room kind is unknown");
  }
  return kind;
}

export function createAdministrationRepository(
  context: RepositoryContext,
): AdministrationRepository {
  const { db } = context;
  return {
    async listInviteTokens(input) {
      assertLimit(input.limit);
      let query = db.selectFrom("invite_tokens").selectAll();
      if (input.afterTokenHash !== undefined) {
        query = query.where("token_hash", ">", toStoredBytes(input.afterTokenHash));
      }
      const rows = await query
        .orderBy("token_hash")
        .limit(input.limit + 1)
        .execute();
      return toPage(rows, input.limit, toInviteToken);
    },

    async deleteInviteToken(tokenHash) {
      const result = await db
        .deleteFrom("invite_tokens")
        .where("token_hash", "=", toStoredBytes(tokenHash))
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async listAccounts(input) {
      assertLimit(input.limit);
      let query = db.selectFrom("accounts").select((select) => [
        "accounts.local_name",
        "accounts.created_at_ms",
        "accounts.deactivated_at_ms",
        select
          .selectFrom("devices")
          .select((count) => count.fn.countAll<number>().as("count"))
          .whereRef("devices.local_name", "=", "accounts.local_name")
          .where("devices.revoked_at_ms", "is", null)
          .as("live_devices"),
      ]);
      if (input.afterLocalName !== undefined) {
        query = query.where("accounts.local_name", ">", input.afterLocalName);
      }
      const rows = await query
        .orderBy("accounts.local_name")
        .limit(input.limit + 1)
        .execute();
      return toPage(rows, input.limit, (row) => ({
        localName: row.local_name,
        createdAtMs: row.created_at_ms,
        deactivatedAtMs: row.deactivated_at_ms,
        liveDevices: Number(row.live_devices ?? 0),
      }));
    },

    async listRooms(input) {
      assertLimit(input.limit);
      let query = db.selectFrom("rooms").select((select) => [
        "rooms.room_id",
        "rooms.kind",
        "rooms.content_type",
        "rooms.created_at_ms",
        "rooms.last_event_sequence",
        select
          .selectFrom("room_memberships")
          .select((count) => count.fn.countAll<number>().as("count"))
          .whereRef("room_memberships.room_id", "=", "rooms.room_id")
          .where("room_memberships.membership", "=", "join")
          .as("joined_members"),
      ]);
      if (input.afterRoomId !== undefined) {
        query = query.where("rooms.room_id", ">", input.afterRoomId);
      }
      const rows = await query
        .orderBy("rooms.room_id")
        .limit(input.limit + 1)
        .execute();
      return toPage(rows, input.limit, (row) => ({
        roomId: row.room_id,
        kind: toRoomKind(row.kind),
        contentType: row.content_type,
        createdAtMs: row.created_at_ms,
        lastEventSequence: row.last_event_sequence,
        joinedMembers: Number(row.joined_members ?? 0),
      }));
    },

    async blockServer(block) {
      assertIdentifier("server name", block.serverName);
      assertInteger("blocked at", block.blockedAtMs, 0);
      if (Buffer.byteLength(block.reason) > serverBlockReasonBytesMax) {
        throw new StorageError(
          "invalid-input",
          `a block reason exceeds ${serverBlockReasonBytesMax} bytes`,
        );
      }
      // Two rounds at most: the only way to miss both the insert and the
      // read is an unblock between them, and that is not repeated forever.
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        const inserted = await db
          .insertInto("server_blocks")
          .values({
            server_name: block.serverName,
            reason: block.reason,
            blocked_at_ms: block.blockedAtMs,
          })
          .onConflict((conflict) => conflict.column("server_name").doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { kind: "blocked", block };
        const stored = await db
          .selectFrom("server_blocks")
          .selectAll()
          .where("server_name", "=", block.serverName)
          .executeTakeFirst();
        if (stored !== undefined) return { kind: "already-blocked", block: toServerBlock(stored) };
      }
      throw new StorageError("database-failed", "a server block kept changing while being written");
    },

    async unblockServer(serverName) {
      const result = await db
        .deleteFrom("server_blocks")
        .where("server_name", "=", serverName)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async listServerBlocks(input) {
      assertLimit(input.limit);
      let query = db.selectFrom("server_blocks").selectAll();
      if (input.afterServerName !== undefined) {
        if (input.afterServerName.length > identifierLengthMax) return { items: [], more: false };
        query = query.where("server_name", ">", input.afterServerName);
      }
      const rows = await query
        .orderBy("server_name")
        .limit(input.limit + 1)
        .execute();
      return toPage(rows, input.limit, toServerBlock);
    },
  };
}
