// The first schema. Written with Kysely's schema builder so one definition
// serves both databases; the only dialect difference is the byte type (BLOB in
// SQLite, bytea in PostgreSQL). Integers are `bigint` everywhere: PostgreSQL
// needs 64 bits for millisecond times and positions, and SQLite gives the name
// integer affinity. Migrations are never edited once released: add a new one.

import { type Kysely, type Migration, sql } from "kysely";
import type { StorageDialect } from "../storage.ts";

export function initialMigration(dialect: StorageDialect): Migration {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("server_signing_keys")
        .addColumn("key_id", "text", (column) => column.primaryKey())
        .addColumn("public_key", bytes, (column) => column.notNull())
        .addColumn("secret_seed", bytes, (column) => column.notNull())
        .addColumn("valid_from_ms", "bigint", (column) => column.notNull())
        .addColumn("valid_until_ms", "bigint")
        .execute();

      await db.schema
        .createTable("accounts")
        .addColumn("local_name", "text", (column) => column.primaryKey())
        .addColumn("password_hash", "text", (column) => column.notNull())
        .addColumn("created_at_ms", "bigint", (column) => column.notNull())
        .addColumn("deactivated_at_ms", "bigint")
        .execute();

      await db.schema
        .createTable("invite_tokens")
        .addColumn("token_hash", bytes, (column) => column.primaryKey())
        .addColumn("uses_left", "bigint", (column) => column.notNull().check(sql`uses_left >= 0`))
        .addColumn("expires_at_ms", "bigint")
        .addColumn("created_at_ms", "bigint", (column) => column.notNull())
        .execute();

      await db.schema
        .createTable("devices")
        .addColumn("device_id", "text", (column) => column.primaryKey())
        .addColumn("local_name", "text", (column) =>
          column.notNull().references("accounts.local_name"),
        )
        .addColumn("identity_record", bytes, (column) => column.notNull())
        .addColumn("attestation", bytes, (column) => column.notNull())
        .addColumn("record_sequence", "bigint", (column) => column.notNull())
        .addColumn("created_at_ms", "bigint", (column) => column.notNull())
        .addColumn("revoked_at_ms", "bigint")
        .execute();
      await db.schema
        .createIndex("devices_by_account")
        .on("devices")
        .column("local_name")
        .execute();

      await db.schema
        .createTable("sessions")
        .addColumn("token_hash", bytes, (column) => column.primaryKey())
        .addColumn("device_id", "text", (column) =>
          column.notNull().references("devices.device_id").onDelete("cascade"),
        )
        .addColumn("created_at_ms", "bigint", (column) => column.notNull())
        .addColumn("last_seen_at_ms", "bigint", (column) => column.notNull())
        .addColumn("expires_at_ms", "bigint", (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex("sessions_by_device")
        .on("sessions")
        .column("device_id")
        .execute();
      await db.schema
        .createIndex("sessions_by_expiry")
        .on("sessions")
        .column("expires_at_ms")
        .execute();

      await createRoomTables(db, bytes);
      await createEventTables(db, bytes);
      await createInboxTables(db, bytes);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      // Reverse order of creation, so foreign keys never point at a dropped table.
      const tables = [
        "device_queue_items",
        "device_inboxes",
        "room_events",
        "event_stream_head",
        "room_memberships",
        "room_states",
        "room_control_log",
        "rooms",
        "sessions",
        "devices",
        "invite_tokens",
        "accounts",
        "server_signing_keys",
      ];
      for (const table of tables) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

async function createRoomTables(db: Kysely<unknown>, bytes: "bytea" | "blob"): Promise<void> {
  await db.schema
    .createTable("rooms")
    .addColumn("room_id", "text", (column) => column.primaryKey())
    .addColumn("kind", "text", (column) =>
      column.notNull().check(sql`kind in ('plain', 'encrypted')`),
    )
    .addColumn("content_type", "text", (column) => column.notNull())
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addColumn("last_event_sequence", "bigint", (column) => column.notNull().defaultTo(0))
    .execute();

  // Append-only: the primary key refuses a second entry at an index, which is
  // the backstop behind the repository's chain check.
  await db.schema
    .createTable("room_control_log")
    .addColumn("room_id", "text", (column) => column.notNull().references("rooms.room_id"))
    .addColumn("log_index", "bigint", (column) => column.notNull().check(sql`log_index >= 1`))
    .addColumn("entry", bytes, (column) => column.notNull())
    .addColumn("entry_hash", bytes, (column) => column.notNull())
    .addColumn("previous_hash", bytes)
    .addPrimaryKeyConstraint("room_control_log_primary_key", ["room_id", "log_index"])
    .execute();

  await db.schema
    .createTable("room_states")
    .addColumn("room_id", "text", (column) => column.primaryKey().references("rooms.room_id"))
    .addColumn("applied_index", "bigint", (column) => column.notNull())
    .addColumn("snapshot_index", "bigint")
    .addColumn("snapshot", bytes)
    .execute();

  await db.schema
    .createTable("room_memberships")
    .addColumn("room_id", "text", (column) => column.notNull().references("rooms.room_id"))
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("membership", "text", (column) =>
      column.notNull().check(sql`membership in ('invite', 'join', 'knock', 'leave', 'ban')`),
    )
    .addColumn("since_index", "bigint", (column) => column.notNull())
    .addPrimaryKeyConstraint("room_memberships_primary_key", ["room_id", "user_id"])
    .execute();
  // "My rooms" reads by user; "members of room" uses the primary key.
  await db.schema
    .createIndex("room_memberships_by_user")
    .on("room_memberships")
    .columns(["user_id", "membership"])
    .execute();
}

async function createEventTables(db: Kysely<unknown>, bytes: "bytea" | "blob"): Promise<void> {
  await db.schema
    .createTable("event_stream_head")
    .addColumn("singleton_id", "bigint", (column) =>
      column.primaryKey().check(sql`singleton_id = 1`),
    )
    .addColumn("last_position", "bigint", (column) => column.notNull())
    .execute();
  await sql`insert into event_stream_head (singleton_id, last_position) values (1, 0)`.execute(db);

  await db.schema
    .createTable("room_events")
    .addColumn("stream_position", "bigint", (column) => column.primaryKey())
    .addColumn("room_id", "text", (column) => column.notNull().references("rooms.room_id"))
    .addColumn("room_sequence", "bigint", (column) => column.notNull())
    .addColumn("sender_user_id", "text", (column) => column.notNull())
    .addColumn("sender_device_id", "text", (column) => column.notNull())
    .addColumn("client_event_id", "text", (column) => column.notNull())
    .addColumn("content_type", "text", (column) => column.notNull())
    .addColumn("body", bytes, (column) => column.notNull())
    .addColumn("signature", bytes)
    .addColumn("control_index", "bigint", (column) => column.notNull())
    .addColumn("accepted_at_ms", "bigint", (column) => column.notNull())
    // Paging a room's history walks this index in either direction.
    .addUniqueConstraint("room_events_room_sequence", ["room_id", "room_sequence"])
    // A client retry with the same id is found here and stored once.
    .addUniqueConstraint("room_events_client_id", [
      "room_id",
      "sender_device_id",
      "client_event_id",
    ])
    .execute();
  // Inbox reads: the events of a few rooms after a stream position.
  await db.schema
    .createIndex("room_events_by_room_stream")
    .on("room_events")
    .columns(["room_id", "stream_position"])
    .execute();
}

async function createInboxTables(db: Kysely<unknown>, bytes: "bytea" | "blob"): Promise<void> {
  await db.schema
    .createTable("device_inboxes")
    .addColumn("device_id", "text", (column) =>
      column.primaryKey().references("devices.device_id").onDelete("cascade"),
    )
    .addColumn("stream_position", "bigint", (column) => column.notNull())
    .addColumn("queue_position_acknowledged", "bigint", (column) => column.notNull())
    .addColumn("queue_position_last", "bigint", (column) => column.notNull())
    .addColumn("queue_missed_count", "bigint", (column) => column.notNull())
    .addColumn("queue_missed_through", "bigint", (column) => column.notNull())
    .execute();

  await db.schema
    .createTable("device_queue_items")
    .addColumn("device_id", "text", (column) =>
      column.notNull().references("device_inboxes.device_id").onDelete("cascade"),
    )
    .addColumn("queue_position", "bigint", (column) => column.notNull())
    .addColumn("item_id", "text", (column) => column.notNull())
    .addColumn("item_kind", "text", (column) => column.notNull())
    .addColumn("body", bytes, (column) => column.notNull())
    .addColumn("created_at_ms", "bigint", (column) => column.notNull())
    .addPrimaryKeyConstraint("device_queue_items_primary_key", ["device_id", "queue_position"])
    .addUniqueConstraint("device_queue_items_item_id", ["device_id", "item_id"])
    .execute();
  // Expiry sweeps find old items across all devices.
  await db.schema
    .createIndex("device_queue_items_by_age")
    .on("device_queue_items")
    .column("created_at_ms")
    .execute();
}
