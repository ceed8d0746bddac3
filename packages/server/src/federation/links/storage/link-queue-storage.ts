// The links' storage contract and its Kysely implementation (SQLite and
// PostgreSQL through the same code). What it promises: `append` is one
// transaction (every frame of the batch and the peers' last sequences, or
// nothing); sequences only grow; the received mark only grows.

import { type Kysely, sql } from "kysely";
import type { RepositoryContext } from "../../../storage/repositories/context.ts";
import type { LinkTables } from "./link-tables.ts";

export interface QueuedFrameRow {
  readonly sequence: number;
  readonly payload: Uint8Array;
}

export interface PeerLinkState {
  /** Last sequence assigned to a durable frame for the peer (0: none yet). */
  readonly lastSequence: number;
  /** Every durable frame of the peer up to this sequence reached our handler. */
  readonly receivedSequence: number;
  /** Sequence and byte size of each queued frame, ascending. */
  readonly queued: ReadonlyArray<{ readonly sequence: number; readonly bytes: number }>;
}

export interface LinkQueueStorage {
  /** Peers with a queued frame, for redialling them after a restart. */
  peersWithQueuedFrames(): Promise<readonly string[]>;
  /** The stored state of one peer (zeros and no frames for an unknown peer). */
  loadPeer(peer: string): Promise<PeerLinkState>;
  /** Stores frames and the peers' new last sequences in one transaction. */
  append(
    frames: ReadonlyArray<{
      readonly peer: string;
      readonly sequence: number;
      readonly payload: Uint8Array;
    }>,
    lastSequences: ReadonlyMap<string, number>,
  ): Promise<void>;
  /** Queued frames of `peer` with sequence >= `fromSequence`, ascending, at most `limit`. */
  read(peer: string, fromSequence: number, limit: number): Promise<readonly QueuedFrameRow[]>;
  /** Deletes the peer's frames up to and including `sequence` (acknowledged). */
  deleteThrough(peer: string, sequence: number): Promise<void>;
  /** Raises the peer's received mark to `sequence` (never lowers it). */
  recordReceived(peer: string, sequence: number): Promise<void>;
}

function toStored(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function createLinkQueueStorage(context: RepositoryContext): LinkQueueStorage {
  const db: Kysely<LinkTables> =
    context.db.withTables<LinkTables>() as unknown as Kysely<LinkTables>;
  return {
    async peersWithQueuedFrames() {
      const rows = await db
        .selectFrom("federation_link_outbound")
        .select("peer")
        .distinct()
        .orderBy("peer")
        .execute();
      return rows.map((row) => row.peer);
    },

    async loadPeer(peer) {
      const row = await db
        .selectFrom("federation_link_peers")
        .selectAll()
        .where("peer", "=", peer)
        .executeTakeFirst();
      const queued = await db
        .selectFrom("federation_link_outbound")
        .select(["sequence", sql<number>`length(payload)`.as("bytes")])
        .where("peer", "=", peer)
        .orderBy("sequence")
        .execute();
      return {
        lastSequence: row?.last_sequence ?? 0,
        receivedSequence: row?.received_sequence ?? 0,
        queued: queued.map((frame) => ({ sequence: frame.sequence, bytes: Number(frame.bytes) })),
      };
    },

    async append(frames, lastSequences) {
      if (frames.length === 0) return;
      await db.transaction().execute(async (transaction) => {
        await transaction
          .insertInto("federation_link_outbound")
          .values(
            frames.map((frame) => ({
              peer: frame.peer,
              sequence: frame.sequence,
              payload: toStored(frame.payload),
            })),
          )
          .execute();
        for (const [peer, lastSequence] of lastSequences) {
          await transaction
            .insertInto("federation_link_peers")
            .values({ peer, last_sequence: lastSequence, received_sequence: 0 })
            .onConflict((conflict) =>
              conflict.column("peer").doUpdateSet({ last_sequence: lastSequence }),
            )
            .execute();
        }
      });
    },

    async read(peer, fromSequence, limit) {
      const rows = await db
        .selectFrom("federation_link_outbound")
        .select(["sequence", "payload"])
        .where("peer", "=", peer)
        .where("sequence", ">=", fromSequence)
        .orderBy("sequence")
        .limit(limit)
        .execute();
      return rows.map((row) => ({ sequence: row.sequence, payload: new Uint8Array(row.payload) }));
    },

    async deleteThrough(peer, sequence) {
      await db
        .deleteFrom("federation_link_outbound")
        .where("peer", "=", peer)
        .where("sequence", "<=", sequence)
        .execute();
    },

    async recordReceived(peer, sequence) {
      await db
        .insertInto("federation_link_peers")
        .values({ peer, last_sequence: 0, received_sequence: sequence })
        .onConflict((conflict) =>
          conflict.column("peer").doUpdateSet({
            received_sequence: sql<number>`case when federation_link_peers.received_sequence < ${sequence} then ${sequence} else federation_link_peers.received_sequence end`,
          }),
        )
        .execute();
    },
  };
}
