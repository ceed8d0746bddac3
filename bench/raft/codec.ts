/**
 * A compact binary encoding of Raft messages and of the durable log's
 * records, for the loopback benchmark.
 *
 * Layout: every number (term, index, commit, lengths, counts) is an unsigned
 * LEB128 varint; strings and byte strings are a varint length followed by the
 * bytes (strings in UTF-8); booleans and tags are one byte. A message is its
 * type tag, then `from`, `to`, `term`, then the fields of its type in the
 * order of message.ts. An entry is term, index, payload tag, then the data
 * bytes (normal) or the configuration change. On the wire each message travels
 * in a frame: a 4-byte big-endian length, then the encoded message.
 *
 * Hand-written rather than CBOR because the benchmark measures the core, and
 * a generic encoder would cost more than the core on small messages.
 */
import type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  Entry,
  EntryPayload,
  HardState,
  Message,
  MessageType,
  NodeId,
  Snapshot,
} from "@parley/raft";
import { nodeId } from "@parley/raft";
import { Reader, Writer } from "./binary.ts";

export { Reader, Writer };

const messageTypes: readonly MessageType[] = [
  "append",
  "appendResponse",
  "heartbeat",
  "heartbeatResponse",
  "vote",
  "preVote",
  "voteResponse",
  "preVoteResponse",
  "snapshot",
  "timeoutNow",
  "transferLeader",
  "propose",
  "readIndex",
  "readIndexResponse",
];
const messageTags = new Map(messageTypes.map((type, tag) => [type, tag]));
const transitions: readonly ConfChangeTransition[] = ["auto", "jointImplicit", "jointExplicit"];
const changeTypes: readonly ConfChangeType[] = ["addVoter", "addLearner", "removeNode"];

function pick<T>(table: readonly T[], tag: number, what: string): T {
  const value = table[tag];
  if (value === undefined) throw new Error(`unknown ${what} tag ${tag}`);
  return value;
}

function writeIds(writer: Writer, ids: readonly NodeId[]): void {
  writer.varint(ids.length);
  for (const id of ids) writer.string(id);
}

function readIds(reader: Reader): NodeId[] {
  const count = reader.varint();
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(reader.nodeId());
  return ids;
}

function writeConfChange(writer: Writer, change: ConfChange): void {
  writer.byte(transitions.indexOf(change.transition));
  writer.varint(change.changes.length);
  for (const single of change.changes) {
    writer.byte(changeTypes.indexOf(single.type));
    writer.string(single.nodeId);
  }
  writer.bytes(change.context);
}

function readConfChange(reader: Reader): ConfChange {
  const transition = pick(transitions, reader.byte(), "transition");
  const count = reader.varint();
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < count; i++) {
    changes.push({ type: pick(changeTypes, reader.byte(), "change"), nodeId: reader.nodeId() });
  }
  return { transition, changes, context: reader.bytes() };
}

function writePayload(writer: Writer, payload: EntryPayload): void {
  if (payload.type === "normal") {
    writer.byte(0);
    writer.bytes(payload.data);
  } else {
    writer.byte(1);
    writeConfChange(writer, payload.change);
  }
}

function readPayload(reader: Reader): EntryPayload {
  return reader.byte() === 0
    ? { type: "normal", data: reader.bytes() }
    : { type: "confChange", change: readConfChange(reader) };
}

export function writeEntries(writer: Writer, entries: readonly Entry[]): void {
  writer.varint(entries.length);
  for (const entry of entries) {
    writer.varint(entry.term);
    writer.varint(entry.index);
    writePayload(writer, entry);
  }
}

export function readEntries(reader: Reader): Entry[] {
  const count = reader.varint();
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const term = reader.varint();
    const index = reader.varint();
    entries.push({ ...readPayload(reader), term, index });
  }
  return entries;
}

function writeConfState(writer: Writer, state: ConfState): void {
  writeIds(writer, state.voters);
  writeIds(writer, state.votersOutgoing);
  writeIds(writer, state.learners);
  writeIds(writer, state.learnersNext);
  writer.byte(state.autoLeave ? 1 : 0);
}

function readConfState(reader: Reader): ConfState {
  return {
    voters: readIds(reader),
    votersOutgoing: readIds(reader),
    learners: readIds(reader),
    learnersNext: readIds(reader),
    autoLeave: reader.boolean(),
  };
}

export function writeSnapshot(writer: Writer, snapshot: Snapshot): void {
  writer.varint(snapshot.metadata.index);
  writer.varint(snapshot.metadata.term);
  writeConfState(writer, snapshot.metadata.confState);
  writer.bytes(snapshot.data);
}

export function readSnapshot(reader: Reader): Snapshot {
  const index = reader.varint();
  const term = reader.varint();
  return { metadata: { index, term, confState: readConfState(reader) }, data: reader.bytes() };
}

export function writeHardState(writer: Writer, state: HardState): void {
  writer.varint(state.term);
  writer.string(state.vote ?? "");
  writer.varint(state.commit);
}

export function readHardState(reader: Reader): HardState {
  const term = reader.varint();
  const vote = reader.string();
  return { term, vote: vote === "" ? null : nodeId(vote), commit: reader.varint() };
}

export function writeMessage(writer: Writer, message: Message): void {
  writer.byte(messageTags.get(message.type) ?? 255);
  writer.string(message.from);
  writer.string(message.to);
  writer.varint(message.term);
  switch (message.type) {
    case "append":
      writer.varint(message.prevIndex);
      writer.varint(message.prevTerm);
      writer.varint(message.commit);
      writeEntries(writer, message.entries);
      return;
    case "appendResponse":
      writer.varint(message.index);
      writer.byte(message.reject ? 1 : 0);
      writer.varint(message.rejectHintIndex);
      writer.varint(message.rejectHintTerm);
      return;
    case "heartbeat":
      writer.varint(message.commit);
      writer.varint(message.readRound);
      writer.byte(message.quiesce ? 1 : 0);
      return;
    case "heartbeatResponse":
      writer.varint(message.readRound);
      return;
    case "vote":
    case "preVote":
      writer.varint(message.lastIndex);
      writer.varint(message.lastTerm);
      writer.byte(message.transfer ? 1 : 0);
      return;
    case "voteResponse":
    case "preVoteResponse":
      writer.byte(message.reject ? 1 : 0);
      return;
    case "snapshot":
      writeSnapshot(writer, message.snapshot);
      return;
    case "timeoutNow":
      return;
    case "transferLeader":
      writer.string(message.transferee);
      return;
    case "propose":
      writer.varint(message.entries.length);
      for (const payload of message.entries) writePayload(writer, payload);
      return;
    case "readIndex":
      writer.bytes(message.context);
      return;
    case "readIndexResponse":
      writer.varint(message.index);
      writer.bytes(message.context);
      return;
  }
}

export function readMessage(reader: Reader): Message {
  const type = pick(messageTypes, reader.byte(), "message");
  const from = reader.nodeId();
  const to = reader.nodeId();
  const term = reader.varint();
  switch (type) {
    case "append": {
      const prevIndex = reader.varint();
      const prevTerm = reader.varint();
      const commit = reader.varint();
      const entries = readEntries(reader);
      return { type, from, to, term, prevIndex, prevTerm, commit, entries };
    }
    case "appendResponse": {
      const index = reader.varint();
      const reject = reader.boolean();
      const rejectHintIndex = reader.varint();
      const rejectHintTerm = reader.varint();
      return { type, from, to, term, index, reject, rejectHintIndex, rejectHintTerm };
    }
    case "heartbeat": {
      const commit = reader.varint();
      const readRound = reader.varint();
      return { type, from, to, term, commit, readRound, quiesce: reader.boolean() };
    }
    case "heartbeatResponse":
      return { type, from, to, term, readRound: reader.varint() };
    case "vote":
    case "preVote": {
      const lastIndex = reader.varint();
      const lastTerm = reader.varint();
      return { type, from, to, term, lastIndex, lastTerm, transfer: reader.boolean() };
    }
    case "voteResponse":
    case "preVoteResponse":
      return { type, from, to, term, reject: reader.boolean() };
    case "snapshot":
      return { type, from, to, term, snapshot: readSnapshot(reader) };
    case "timeoutNow":
      return { type, from, to, term };
    case "transferLeader":
      return { type, from, to, term, transferee: reader.nodeId() };
    case "propose": {
      const count = reader.varint();
      const entries: EntryPayload[] = [];
      for (let i = 0; i < count; i++) entries.push(readPayload(reader));
      return { type, from, to, term, entries };
    }
    case "readIndex":
      return { type, from, to, term, context: reader.bytes() };
    case "readIndexResponse": {
      const index = reader.varint();
      return { type, from, to, term, index, context: reader.bytes() };
    }
  }
}

/** Encodes messages as consecutive length-prefixed frames, ready for one socket write. */
export function encodeFrames(messages: readonly Message[]): Buffer {
  const writer = new Writer(512);
  for (const message of messages) {
    const at = writer.beginFrame();
    writeMessage(writer, message);
    writer.endFrame(at);
  }
  return writer.finish();
}
