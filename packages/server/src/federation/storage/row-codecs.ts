// Between the federation's values and the rows of migrations 0002-federation
// and 0008-control-certificates.
// The rows were written by this code, so decoding checks shapes only as far
// as needed to fail loudly on a corrupt database rather than hand a core
// something malformed.

import type { ControlRecordAt, ControlSnapshot, StoredMessage } from "@parley/federation";
import type { ControlCertificate } from "@parley/protocol";
import {
  decodeBase64url,
  encodeBase64url,
  parseRoomId,
  parseServerName,
  parseUserId,
  type RoomId,
} from "@parley/protocol";
import {
  type ConfChange,
  type ConfChangeSingle,
  type ConfState,
  type Entry,
  type HardState,
  type NodeId,
  nodeId,
  type Snapshot,
} from "@parley/raft";
import { fromStoredBytes, toStoredBytes } from "../../storage/bytes.ts";
import { StorageError } from "../../storage/errors.ts";
import type {
  FederationCertificatesTable,
  FederationLeafRecordsTable,
  FederationLeafSnapshotsTable,
  FederationMessagesTable,
  FederationRaftEntriesTable,
  FederationRaftGroupsTable,
} from "./federation-tables.ts";
import type { RaftGroupState } from "./raft-group-storage.ts";

function corrupt(what: string): StorageError {
  return new StorageError("database-failed", `a stored ${what} is malformed`);
}

export function parseStoredJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StorageError("database-failed", `a stored ${what} is not JSON`, { cause: error });
  }
}

/** Parses an identifier read back from the database; a failure means the database is corrupt. */
export function storedIdentifier<T>(parse: (text: string) => T, text: string, what: string): T {
  try {
    return parse(text);
  } catch (error) {
    throw new StorageError("database-failed", `a stored ${what} is malformed`, { cause: error });
  }
}

export function storedRoomId(text: string): RoomId {
  return storedIdentifier(parseRoomId, text, "room id");
}

function nodeIds(value: unknown, what: string): NodeId[] {
  if (!Array.isArray(value)) throw corrupt(what);
  return value.map((item) => {
    if (typeof item !== "string") throw corrupt(what);
    return nodeId(item);
  });
}

export function encodeConfState(confState: ConfState): string {
  return JSON.stringify({
    voters: confState.voters,
    votersOutgoing: confState.votersOutgoing,
    learners: confState.learners,
    learnersNext: confState.learnersNext,
    autoLeave: confState.autoLeave,
  });
}

export function decodeConfState(text: string): ConfState {
  const value = parseStoredJson(text, "configuration");
  if (typeof value !== "object" || value === null) throw corrupt("configuration");
  const fields = value as Record<string, unknown>;
  if (typeof fields["autoLeave"] !== "boolean") throw corrupt("configuration");
  return {
    voters: nodeIds(fields["voters"], "configuration"),
    votersOutgoing: nodeIds(fields["votersOutgoing"], "configuration"),
    learners: nodeIds(fields["learners"], "configuration"),
    learnersNext: nodeIds(fields["learnersNext"], "configuration"),
    autoLeave: fields["autoLeave"],
  };
}

const transitions = new Set(["auto", "jointImplicit", "jointExplicit"]);
const changeTypes = new Set(["addVoter", "addLearner", "removeNode"]);

function decodeChange(text: string, context: Uint8Array): ConfChange {
  const value = parseStoredJson(text, "configuration change");
  if (typeof value !== "object" || value === null) throw corrupt("configuration change");
  const fields = value as Record<string, unknown>;
  const transition = fields["transition"];
  const changes = fields["changes"];
  if (typeof transition !== "string" || !transitions.has(transition) || !Array.isArray(changes)) {
    throw corrupt("configuration change");
  }
  const singles: ConfChangeSingle[] = changes.map((change: unknown) => {
    const single = change as Record<string, unknown>;
    const type = single["type"];
    const id = single["nodeId"];
    if (typeof type !== "string" || !changeTypes.has(type) || typeof id !== "string") {
      throw corrupt("configuration change");
    }
    return { type: type as ConfChangeSingle["type"], nodeId: nodeId(id) };
  });
  return { transition: transition as ConfChange["transition"], changes: singles, context };
}

type EntryColumns = Omit<FederationRaftEntriesTable, "room_id" | "node_id">;

export function encodeEntry(entry: Entry): EntryColumns {
  if (entry.type === "normal") {
    return {
      log_index: entry.index,
      term: entry.term,
      entry_type: "normal",
      data: toStoredBytes(entry.data),
      change: null,
    };
  }
  const { transition, changes, context } = entry.change;
  return {
    log_index: entry.index,
    term: entry.term,
    entry_type: "confChange",
    data: toStoredBytes(context),
    change: JSON.stringify({ transition, changes }),
  };
}

export function decodeEntry(row: EntryColumns): Entry {
  const data = fromStoredBytes(row.data);
  if (row.entry_type === "normal") {
    return { type: "normal", index: row.log_index, term: row.term, data };
  }
  if (row.change === null) throw corrupt("configuration change");
  return {
    type: "confChange",
    index: row.log_index,
    term: row.term,
    change: decodeChange(row.change, data),
  };
}

type GroupColumns = Omit<FederationRaftGroupsTable, "room_id" | "node_id">;

export function encodeGroupRow(state: Omit<RaftGroupState, "entries">): GroupColumns {
  const { hardState, snapshot } = state;
  return {
    hard_term: hardState.term,
    hard_vote: hardState.vote,
    hard_commit: hardState.commit,
    snapshot_index: snapshot.metadata.index,
    snapshot_term: snapshot.metadata.term,
    snapshot_conf_state: encodeConfState(snapshot.metadata.confState),
    snapshot_data: toStoredBytes(snapshot.data),
    offset_index: state.offsetIndex,
    offset_term: state.offsetTerm,
  };
}

export function decodeGroupRow(row: GroupColumns, entries: readonly Entry[]): RaftGroupState {
  const hardState: HardState = {
    term: row.hard_term,
    vote: row.hard_vote === null ? null : nodeId(row.hard_vote),
    commit: row.hard_commit,
  };
  const snapshot: Snapshot = {
    metadata: {
      index: row.snapshot_index,
      term: row.snapshot_term,
      confState: decodeConfState(row.snapshot_conf_state),
    },
    data: fromStoredBytes(row.snapshot_data),
  };
  return {
    hardState,
    snapshot,
    offsetIndex: row.offset_index,
    offsetTerm: row.offset_term,
    entries,
  };
}

export function encodeMessage(room: RoomId, stored: StoredMessage): FederationMessagesTable {
  const { message } = stored;
  return {
    room_id: room,
    origin: message.origin,
    sequence: message.sequence,
    control_index: message.controlIndex,
    accepted_at_ms: message.acceptedAtMs,
    sender: message.sender,
    client_message_id: message.clientMessageId,
    body: toStoredBytes(message.body),
    verdict: stored.verdict,
  };
}

/**
 * Parsed identifiers by their text, for reading many rows that repeat the
 * same few rooms, senders and origins. Bounded: it starts over when full.
 */
export class IdentifierCache {
  readonly #parsed = new Map<string, unknown>();
  static readonly entriesMax = 4096;

  get<T>(kind: string, text: string, parse: (text: string) => T): T {
    const key = `${kind} ${text}`;
    if (this.#parsed.has(key)) return this.#parsed.get(key) as T;
    const value = parse(text);
    if (this.#parsed.size >= IdentifierCache.entriesMax) this.#parsed.clear();
    this.#parsed.set(key, value);
    return value;
  }
}

export function decodeMessage(
  row: FederationMessagesTable,
  cache: IdentifierCache = new IdentifierCache(),
): StoredMessage {
  if (row.verdict !== "allowed" && row.verdict !== "refused") throw corrupt("message verdict");
  return {
    message: {
      room: cache.get("room", row.room_id, storedRoomId),
      origin: cache.get("node", row.origin, nodeId),
      sequence: row.sequence,
      controlIndex: row.control_index,
      acceptedAtMs: row.accepted_at_ms,
      sender: cache.get("user", row.sender, (text) =>
        storedIdentifier(parseUserId, text, "user id"),
      ),
      clientMessageId: row.client_message_id,
      body: fromStoredBytes(row.body),
    },
    verdict: row.verdict,
  };
}

export function encodeLeafSnapshot(
  room: RoomId,
  snapshot: ControlSnapshot,
): FederationLeafSnapshotsTable {
  return {
    room_id: room,
    control_index: snapshot.index,
    chain_hash: toStoredBytes(snapshot.chainHash),
    state: toStoredBytes(snapshot.state),
    incarnations: JSON.stringify(snapshot.incarnations),
  };
}

export function decodeLeafSnapshot(row: FederationLeafSnapshotsTable): ControlSnapshot {
  const incarnations = parseStoredJson(row.incarnations, "incarnation list");
  if (!Array.isArray(incarnations)) throw corrupt("incarnation list");
  return {
    index: row.control_index,
    chainHash: fromStoredBytes(row.chain_hash),
    state: fromStoredBytes(row.state),
    incarnations: incarnations.map((pair: unknown) => {
      if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "number") {
        throw corrupt("incarnation list");
      }
      return [storedIdentifier(parseServerName, pair[0], "server name"), pair[1]] as const;
    }),
  };
}

export function encodeLeafRecord(
  room: RoomId,
  position: number,
  record: ControlRecordAt,
): FederationLeafRecordsTable {
  return {
    room_id: room,
    position,
    control_index: record.index,
    chain_hash: toStoredBytes(record.chainHash),
    record: toStoredBytes(record.record),
  };
}

export function decodeLeafRecord(row: FederationLeafRecordsTable): ControlRecordAt {
  return {
    index: row.control_index,
    chainHash: fromStoredBytes(row.chain_hash),
    record: fromStoredBytes(row.record),
  };
}

export function encodeCertificate(
  room: RoomId,
  certificate: ControlCertificate,
): FederationCertificatesTable {
  return {
    room_id: room,
    control_index: certificate.index,
    chain_hash: toStoredBytes(certificate.chainHash),
    signatures: JSON.stringify(
      certificate.signatures.map(([server, signature]) => [server, encodeBase64url(signature)]),
    ),
  };
}

export function decodeCertificate(row: FederationCertificatesTable): ControlCertificate {
  const signatures = parseStoredJson(row.signatures, "certificate signature list");
  if (!Array.isArray(signatures)) throw corrupt("certificate signature list");
  return {
    index: row.control_index,
    chainHash: fromStoredBytes(row.chain_hash),
    signatures: signatures.map((pair: unknown) => {
      if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
        throw corrupt("certificate signature list");
      }
      return [
        storedIdentifier(parseServerName, pair[0], "server name"),
        decodeBase64url(pair[1]),
      ] as const;
    }),
  };
}
