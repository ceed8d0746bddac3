// The tables as Kysely sees them (snake_case, as stored). Repositories map rows
// to the records in records.ts; nothing outside storage/ sees these types.
// Integers are JavaScript numbers on both databases: SQLite returns them as
// such, and the PostgreSQL pool parses bigint columns into safe integers.

export interface ServerSigningKeysTable {
  key_id: string;
  public_key: Uint8Array;
  secret_seed: Uint8Array;
  valid_from_ms: number;
  valid_until_ms: number | null;
}

export interface AccountsTable {
  local_name: string;
  password_hash: string;
  created_at_ms: number;
  deactivated_at_ms: number | null;
}

export interface InviteTokensTable {
  token_hash: Uint8Array;
  uses_left: number;
  expires_at_ms: number | null;
  created_at_ms: number;
}

export interface DevicesTable {
  device_id: string;
  local_name: string;
  identity_record: Uint8Array;
  attestation: Uint8Array;
  record_sequence: number;
  created_at_ms: number;
  revoked_at_ms: number | null;
}

export interface SessionsTable {
  token_hash: Uint8Array;
  device_id: string;
  created_at_ms: number;
  last_seen_at_ms: number;
  expires_at_ms: number;
}

export interface RoomsTable {
  room_id: string;
  kind: string;
  content_type: string;
  created_at_ms: number;
  last_event_sequence: number;
}

export interface RoomControlLogTable {
  room_id: string;
  log_index: number;
  entry: Uint8Array;
  entry_hash: Uint8Array;
  previous_hash: Uint8Array | null;
}

export interface RoomStatesTable {
  room_id: string;
  applied_index: number;
  snapshot_index: number | null;
  snapshot: Uint8Array | null;
}

export interface RoomMembershipsTable {
  room_id: string;
  user_id: string;
  membership: string;
  since_index: number;
}

/** One row (singleton_id = 1): the newest stream position. Its row lock is what
 * serialises stream appends across processes (see repositories/events.ts). */
export interface EventStreamHeadTable {
  singleton_id: number;
  last_position: number;
}

export interface RoomEventsTable {
  stream_position: number;
  room_id: string;
  room_sequence: number;
  sender_user_id: string;
  sender_device_id: string;
  client_event_id: string;
  content_type: string;
  body: Uint8Array;
  signature: Uint8Array | null;
  control_index: number;
  accepted_at_ms: number;
  /** Migration 0006: 0 for a control event, 1 for a message (§12.4.3). */
  history_rank: number;
  /** The accepting sponsor's node id; '' for control events and events older than 0006. */
  origin: string;
  /** The origin's sequence; 0 where `origin` is ''. */
  origin_sequence: number;
}

export interface DeviceInboxesTable {
  device_id: string;
  stream_position: number;
  queue_position_acknowledged: number;
  queue_position_last: number;
  queue_missed_count: number;
  queue_missed_through: number;
}

export interface DeviceQueueItemsTable {
  device_id: string;
  queue_position: number;
  item_id: string;
  item_kind: string;
  body: Uint8Array;
  created_at_ms: number;
}

/** A homeserver blocked by this server's operator (migration 0004). */
export interface ServerBlocksTable {
  server_name: string;
  reason: string;
  blocked_at_ms: number;
}

/** One-time KeyPackages (migration 0005); deleted when claimed. */
export interface KeyPackagesTable {
  device_id: string;
  reference: Uint8Array;
  key_package: Uint8Array;
  not_after_ms: number;
  published_at_ms: number;
}

/** Each device's one last-resort KeyPackage; handed out when no one-time one is left. */
export interface LastResortKeyPackagesTable {
  device_id: string;
  reference: Uint8Array;
  key_package: Uint8Array;
  not_after_ms: number;
  published_at_ms: number;
}

export interface Database {
  server_signing_keys: ServerSigningKeysTable;
  accounts: AccountsTable;
  invite_tokens: InviteTokensTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  rooms: RoomsTable;
  room_control_log: RoomControlLogTable;
  room_states: RoomStatesTable;
  room_memberships: RoomMembershipsTable;
  event_stream_head: EventStreamHeadTable;
  room_events: RoomEventsTable;
  device_inboxes: DeviceInboxesTable;
  device_queue_items: DeviceQueueItemsTable;
  server_blocks: ServerBlocksTable;
  key_packages: KeyPackagesTable;
  last_resort_key_packages: LastResortKeyPackagesTable;
}
