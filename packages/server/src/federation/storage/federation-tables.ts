// The federation tables as Kysely sees them (migration 0002-federation). They
// are added to the homeserver's database type with `withTables`, so nothing
// outside this folder sees them.

import type { Kysely } from "kysely";
import type { Database } from "../../storage/database-schema.ts";
import type { DatabaseHandle } from "../../storage/storage.ts";

export interface FederationRoomsTable {
  room_id: string;
  contacts: string;
  node_id: string | null;
  retired_incarnation: number;
}

export interface FederationRaftGroupsTable {
  room_id: string;
  node_id: string;
  hard_term: number;
  hard_vote: string | null;
  hard_commit: number;
  snapshot_index: number;
  snapshot_term: number;
  snapshot_conf_state: string;
  snapshot_data: Uint8Array;
  offset_index: number;
  offset_term: number;
}

export interface FederationRaftEntriesTable {
  room_id: string;
  node_id: string;
  log_index: number;
  term: number;
  entry_type: "normal" | "confChange";
  data: Uint8Array;
  change: string | null;
}

export interface FederationMessagesTable {
  room_id: string;
  origin: string;
  sequence: number;
  control_index: number;
  accepted_at_ms: number;
  sender: string;
  client_message_id: string;
  body: Uint8Array;
  verdict: "allowed" | "refused";
}

export interface FederationLeafSnapshotsTable {
  room_id: string;
  control_index: number;
  chain_hash: Uint8Array;
  state: Uint8Array;
  incarnations: string;
}

export interface FederationLeafRecordsTable {
  room_id: string;
  position: number;
  control_index: number;
  chain_hash: Uint8Array;
  record: Uint8Array;
}

export interface FederationCertificatesTable {
  room_id: string;
  control_index: number;
  chain_hash: Uint8Array;
  signatures: string;
}

// A type alias, not an interface: `withTables` needs an index signature.
export type FederationTables = {
  federation_rooms: FederationRoomsTable;
  federation_raft_groups: FederationRaftGroupsTable;
  federation_raft_entries: FederationRaftEntriesTable;
  federation_messages: FederationMessagesTable;
  federation_leaf_snapshots: FederationLeafSnapshotsTable;
  federation_leaf_records: FederationLeafRecordsTable;
  federation_certificates: FederationCertificatesTable;
};

export type FederationDatabase = Kysely<Database & FederationTables>;

export function federationDatabase(handle: DatabaseHandle): FederationDatabase {
  return federationDatabaseOf(handle.db);
}

/** The federation tables' view of a database or of an open transaction. */
export function federationDatabaseOf(db: Kysely<Database>): FederationDatabase {
  return db.withTables<FederationTables>();
}
