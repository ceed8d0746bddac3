/**
 * Raft messages as CBOR values. The Raft core's messages are plain tagged
 * objects; here every field is written out explicitly per type (never the
 * object as it happens to be), so what goes on the wire is exactly the
 * specified shape, and decoding validates it back into the core's types.
 */
import type { CborMap, CborValue } from "@parley/protocol";
import type {
  ConfChange,
  ConfState,
  Entry,
  EntryPayload,
  Message,
  NodeId,
  Snapshot,
} from "@parley/raft";
import { z } from "zod";
import { isValidNodeId } from "./name-checks.ts";

function confChangeValue(change: ConfChange): CborMap {
  const value: CborMap = {
    transition: change.transition,
    changes: change.changes.map((single) => ({ type: single.type, nodeId: single.nodeId })),
    context: change.context,
  };
  // The condition is written only when present (an absent key, never null).
  const expected = change.expectedConfState;
  return expected === undefined ? value : { ...value, expectedConfState: confStateValue(expected) };
}

function payloadValue(payload: EntryPayload): CborMap {
  return payload.type === "normal"
    ? { type: "normal", data: payload.data }
    : { type: "confChange", change: confChangeValue(payload.change) };
}

function entryValue(entry: Entry): CborMap {
  return { ...payloadValue(entry), term: entry.term, index: entry.index };
}

function confStateValue(state: ConfState): CborMap {
  return {
    voters: [...state.voters],
    votersOutgoing: [...state.votersOutgoing],
    learners: [...state.learners],
    learnersNext: [...state.learnersNext],
    autoLeave: state.autoLeave,
  };
}

function snapshotValue(snapshot: Snapshot): CborMap {
  const { index, term, confState } = snapshot.metadata;
  return { metadata: { index, term, confState: confStateValue(confState) }, data: snapshot.data };
}

/** The CBOR value of one Raft message. */
export function raftMessageValue(message: Message): CborMap {
  const head = { type: message.type, from: message.from, to: message.to, term: message.term };
  switch (message.type) {
    case "append":
      return {
        ...head,
        prevIndex: message.prevIndex,
        prevTerm: message.prevTerm,
        entries: message.entries.map(entryValue),
        commit: message.commit,
      };
    case "appendResponse":
      return {
        ...head,
        index: message.index,
        reject: message.reject,
        rejectHintIndex: message.rejectHintIndex,
        rejectHintTerm: message.rejectHintTerm,
      };
    case "heartbeat":
      return {
        ...head,
        commit: message.commit,
        readRound: message.readRound,
        quiesce: message.quiesce,
      };
    case "heartbeatResponse":
      return { ...head, readRound: message.readRound };
    case "vote":
    case "preVote":
      return {
        ...head,
        lastIndex: message.lastIndex,
        lastTerm: message.lastTerm,
        transfer: message.transfer,
      };
    case "voteResponse":
    case "preVoteResponse":
      return { ...head, reject: message.reject };
    case "snapshot":
      return { ...head, snapshot: snapshotValue(message.snapshot) };
    case "timeoutNow":
      return head;
    case "transferLeader":
      return { ...head, transferee: message.transferee };
    case "propose":
      return { ...head, entries: message.entries.map(payloadValue) };
    case "readIndex":
      return { ...head, context: message.context };
    case "readIndexResponse":
      return { ...head, index: message.index, context: message.context };
  }
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, {
  message: "must be a byte string",
});
const count = z.int().nonnegative();
const node = z.custom<NodeId>(isValidNodeId, { message: "not a sponsor node id" });
const nodes = z.array(node);

const confStateSchema = z.strictObject({
  voters: nodes,
  votersOutgoing: nodes,
  learners: nodes,
  learnersNext: nodes,
  autoLeave: z.boolean(),
});
const confChangeSchema = z.strictObject({
  transition: z.enum(["auto", "jointImplicit", "jointExplicit"]),
  changes: z.array(
    z.strictObject({ type: z.enum(["addVoter", "addLearner", "removeNode"]), nodeId: node }),
  ),
  context: bytes,
  expectedConfState: confStateSchema.optional(),
});
const normalPayload = z.strictObject({ type: z.literal("normal"), data: bytes });
const confChangePayload = z.strictObject({
  type: z.literal("confChange"),
  change: confChangeSchema,
});
const payloadSchema = z.discriminatedUnion("type", [normalPayload, confChangePayload]);
const position = { term: count, index: count };
const entrySchema = z.discriminatedUnion("type", [
  normalPayload.extend(position),
  confChangePayload.extend(position),
]);
const snapshotSchema = z.strictObject({
  metadata: z.strictObject({ index: count, term: count, confState: confStateSchema }),
  data: bytes,
});

const head = { from: node, to: node, term: count };
const messageSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("append"),
    ...head,
    prevIndex: count,
    prevTerm: count,
    entries: z.array(entrySchema),
    commit: count,
  }),
  z.strictObject({
    type: z.literal("appendResponse"),
    ...head,
    index: count,
    reject: z.boolean(),
    rejectHintIndex: count,
    rejectHintTerm: count,
  }),
  z.strictObject({
    type: z.literal("heartbeat"),
    ...head,
    commit: count,
    readRound: count,
    quiesce: z.boolean(),
  }),
  z.strictObject({ type: z.literal("heartbeatResponse"), ...head, readRound: count }),
  z.strictObject({
    type: z.enum(["vote", "preVote"]),
    ...head,
    lastIndex: count,
    lastTerm: count,
    transfer: z.boolean(),
  }),
  z.strictObject({
    type: z.enum(["voteResponse", "preVoteResponse"]),
    ...head,
    reject: z.boolean(),
  }),
  z.strictObject({ type: z.literal("snapshot"), ...head, snapshot: snapshotSchema }),
  z.strictObject({ type: z.literal("timeoutNow"), ...head }),
  z.strictObject({ type: z.literal("transferLeader"), ...head, transferee: node }),
  z.strictObject({ type: z.literal("propose"), ...head, entries: z.array(payloadSchema) }),
  z.strictObject({ type: z.literal("readIndex"), ...head, context: bytes }),
  z.strictObject({
    type: z.literal("readIndexResponse"),
    ...head,
    index: count,
    context: bytes,
  }),
]);

/**
 * The zod schema of one Raft message as decoded from CBOR. Its output is the
 * core's `Message` type: the shapes are identical field for field.
 */
export const raftMessageSchema: z.ZodType<Message, CborValue> = messageSchema as z.ZodType<
  Message,
  CborValue
>;
