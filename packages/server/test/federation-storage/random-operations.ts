// Random sequences of FederationStorage writes, as data, for the property
// tests. An operation names small numbers; `applyOperation` turns them into
// arguments valid for the storage's current state (read through the same
// interface on both storages, so both get the same arguments), and reports
// the outcome — a return value or a named Raft storage error — for comparison.

import type { FederationStorage } from "@parley/federation";
import { contractMessage } from "@parley/federation/storage-contract";
import { parseServerName, type RoomId, roomIdFromBytes } from "@parley/protocol";
import {
  EMPTY_CONF_STATE,
  type Entry,
  isStorageError,
  type NodeId,
  nodeId,
  type WritableStorage,
} from "@parley/raft";
import fc from "fast-check";

export const roomsPerRun = 2;
export const nodes: readonly NodeId[] = [nodeId("a.example#1"), nodeId("b.example#2")];

export function runRooms(run: number): RoomId[] {
  return Array.from({ length: roomsPerRun }, (_, index) =>
    roomIdFromBytes(new Uint8Array([run >> 8, run & 255, index, ...new Array(13).fill(7)])),
  );
}

export type Operation =
  | { kind: "save-room"; room: number; contacts: number; node: number | null; retired: number }
  | { kind: "leaf-record"; room: number }
  | { kind: "leaf-snapshot"; room: number }
  | { kind: "put"; room: number; origin: number; sequence: number; refused: boolean; size: number }
  | { kind: "append"; room: number; node: number; back: number; count: number; newTerm: boolean }
  | { kind: "hard-state"; room: number; node: number; vote: boolean; commit: number }
  | { kind: "apply-snapshot"; room: number; node: number; ahead: number }
  | { kind: "create-snapshot"; room: number; node: number; back: number }
  | { kind: "compact"; room: number; node: number; back: number }
  | { kind: "destroy"; room: number; node: number }
  | { kind: "flush" };

const room = fc.nat(roomsPerRun - 1);
const node = fc.nat(nodes.length - 1);

export const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant("save-room" as const),
    room,
    contacts: fc.nat(2),
    node: fc.option(node, { nil: null }),
    retired: fc.nat(5),
  }),
  fc.record({ kind: fc.constant("leaf-record" as const), room }),
  fc.record({ kind: fc.constant("leaf-snapshot" as const), room }),
  fc.record({
    kind: fc.constant("put" as const),
    room,
    origin: node,
    sequence: fc.integer({ min: 1, max: 12 }),
    refused: fc.boolean(),
    size: fc.nat(300),
  }),
  fc.record({
    kind: fc.constant("append" as const),
    room,
    node,
    back: fc.nat(3),
    count: fc.integer({ min: 1, max: 4 }),
    newTerm: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("hard-state" as const),
    room,
    node,
    vote: fc.boolean(),
    commit: fc.nat(3),
  }),
  fc.record({ kind: fc.constant("apply-snapshot" as const), room, node, ahead: fc.nat(3) }),
  fc.record({ kind: fc.constant("create-snapshot" as const), room, node, back: fc.nat(3) }),
  fc.record({ kind: fc.constant("compact" as const), room, node, back: fc.nat(3) }),
  fc.record({ kind: fc.constant("destroy" as const), room, node }),
  fc.constant({ kind: "flush" as const }),
);

function pick<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item ${index}`);
  return item;
}

function outcomeOf(action: () => unknown): string {
  try {
    return `ok ${String(action())}`;
  } catch (error) {
    for (const code of ["compacted", "unavailable", "snapshotOutOfDate"] as const) {
      if (isStorageError(error, code)) return `error ${code}`;
    }
    throw error;
  }
}

function appendEntries(group: WritableStorage, back: number, count: number, newTerm: boolean) {
  const last = group.lastIndex();
  const first = Math.max(group.firstIndex(), last + 1 - back);
  const term = group.term(first - 1) + (newTerm ? 1 : 0);
  const entries: Entry[] = [];
  for (let index = first; index < first + count; index += 1) {
    entries.push(
      index % 5 === 0
        ? {
            type: "confChange",
            index,
            term,
            change: {
              transition: "auto",
              changes: [{ type: "addLearner", nodeId: pick(nodes, index % nodes.length) }],
              context: new Uint8Array([index % 256]),
            },
          }
        : { type: "normal", index, term, data: new Uint8Array([index % 256, term % 256]) },
    );
  }
  group.append(entries);
}

function applyGroupOperation(group: WritableStorage, operation: Operation, self: NodeId): string {
  switch (operation.kind) {
    case "append":
      return outcomeOf(() =>
        appendEntries(group, operation.back, operation.count, operation.newTerm),
      );
    case "hard-state": {
      const term = Math.max(group.initialState().hardState.term, group.term(group.lastIndex()));
      const commit = Math.max(0, group.lastIndex() - operation.commit);
      return outcomeOf(() =>
        group.setHardState({ term, vote: operation.vote ? self : null, commit }),
      );
    }
    case "apply-snapshot": {
      const index =
        Math.max(group.snapshot().metadata.index, group.lastIndex()) + 1 + operation.ahead;
      const confState = { ...EMPTY_CONF_STATE, voters: [self] };
      const data = new Uint8Array([index % 256]);
      return outcomeOf(() =>
        group.applySnapshot({ metadata: { index, term: 3, confState }, data }),
      );
    }
    case "create-snapshot": {
      const index = Math.max(group.firstIndex() - 1, group.lastIndex() - operation.back);
      if (index < 1) return "skipped";
      const confState = { ...EMPTY_CONF_STATE, learners: [self] };
      return outcomeOf(
        () => group.createSnapshot(index, confState, new Uint8Array([index])).metadata.index,
      );
    }
    case "compact":
      return outcomeOf(() => group.compact(group.snapshot().metadata.index - operation.back));
    default:
      throw new Error(`not a group operation: ${operation.kind}`);
  }
}

/** Applies one operation (not "flush", which the caller handles) and reports its outcome. */
export function applyOperation(
  storage: FederationStorage,
  rooms: readonly RoomId[],
  operation: Exclude<Operation, { kind: "flush" }>,
): string {
  const target = pick(rooms, operation.room);
  switch (operation.kind) {
    case "save-room": {
      const contacts = ["c.example", "a.example"].slice(0, operation.contacts).map(parseServerName);
      const record = {
        contacts,
        node: operation.node === null ? null : pick(nodes, operation.node),
        retiredIncarnation: operation.retired,
      };
      return outcomeOf(() => storage.saveRoom(target, record));
    }
    case "leaf-record": {
      const log = storage.leafLog(target);
      const index = (log.snapshot?.index ?? 0) + log.records.length + 1;
      const record = {
        index,
        chainHash: new Uint8Array(32).fill(index),
        record: new Uint8Array([index]),
      };
      return outcomeOf(() => storage.appendLeafRecord(target, record));
    }
    case "leaf-snapshot": {
      const log = storage.leafLog(target);
      const index = (log.snapshot?.index ?? 0) + log.records.length;
      const snapshot = {
        index,
        chainHash: new Uint8Array(32).fill(index + 1),
        state: new Uint8Array([index, 1]),
        incarnations: [[parseServerName("a.example"), index + 1] as const],
      };
      return outcomeOf(() => storage.saveLeafSnapshot(target, snapshot));
    }
    case "put": {
      const body = new Uint8Array(operation.size).fill(operation.sequence);
      const verdict = operation.refused ? "refused" : "allowed";
      const origin = pick(nodes, operation.origin);
      const stored = contractMessage(target, origin, operation.sequence, verdict, body);
      return outcomeOf(() => storage.messages(target).put(stored));
    }
    case "destroy":
      return outcomeOf(() => storage.groups.destroy(target, pick(nodes, operation.node)));
    default: {
      const self = pick(nodes, operation.node);
      return applyGroupOperation(storage.groups.open(target, self), operation, self);
    }
  }
}
