// Delivery receipts (docs/protocol.md §12.13) ask where one origin's messages
// sit in this server's stream: an index on (room, origin, origin sequence)
// answers that without reading the room's whole history. Migrations are never
// edited once released.

import type { Kysely, Migration } from "kysely";

export function originPositionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex("room_events_by_origin")
        .on("room_events")
        .columns(["room_id", "origin", "origin_sequence"])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex("room_events_by_origin").execute();
    },
  };
}
