/**
 * Human-readable one-line descriptions of Raft values, used by the
 * transcript tests and handy in simulator traces. The format loosely follows
 * etcd's DescribeMessage so transcripts read alike.
 */
import type { Message } from "./message.ts";
import type { Ready } from "./raw-node.ts";
import type { ConfChange, ConfState, Entry, HardState, Snapshot, SoftState } from "./types.ts";

/** Renders entry bytes; the default shows them as a quoted UTF-8 string. */
export type DataFormatter = (data: Uint8Array) => string;

const decoder = new TextDecoder();
export const defaultDataFormatter: DataFormatter = (data) => JSON.stringify(decoder.decode(data));

export function describeConfChange(change: ConfChange): string {
  const short = { addVoter: "v", addLearner: "l", removeNode: "r" } as const;
  const singles = change.changes.map((c) => `${short[c.type]}${c.nodeId}`).join(" ");
  const transition = change.transition === "auto" ? "" : ` (${change.transition})`;
  return singles === "" ? `leaveJoint${transition}` : `${singles}${transition}`;
}

export function describeEntry(entry: Entry, format: DataFormatter = defaultDataFormatter): string {
  const body =
    entry.type === "normal" ? format(entry.data) : `ConfChange ${describeConfChange(entry.change)}`;
  return `${entry.term}/${entry.index} ${body}`;
}

export function describeEntries(entries: readonly Entry[], format?: DataFormatter): string {
  return entries.map((entry) => `${describeEntry(entry, format)}\n`).join("");
}

export function describeHardState(state: HardState): string {
  const vote = state.vote === null ? "" : ` Vote:${state.vote}`;
  return `Term:${state.term}${vote} Commit:${state.commit}`;
}

export function describeSoftState(state: SoftState): string {
  return `Lead:${state.lead ?? "none"} Role:${state.role}${state.quiesced ? " Quiesced" : ""}`;
}

export function describeConfState(state: ConfState): string {
  const list = (ids: readonly string[]) => `[${ids.join(" ")}]`;
  let text = `Voters:${list(state.voters)}`;
  if (state.votersOutgoing.length > 0) text += ` VotersOutgoing:${list(state.votersOutgoing)}`;
  if (state.learners.length > 0) text += ` Learners:${list(state.learners)}`;
  if (state.learnersNext.length > 0) text += ` LearnersNext:${list(state.learnersNext)}`;
  if (state.autoLeave) text += " AutoLeave";
  return text;
}

export function describeSnapshot(snapshot: Snapshot): string {
  const { index, term, confState } = snapshot.metadata;
  return `Index:${index} Term:${term} ${describeConfState(confState)}`;
}

export function describeMessage(message: Message, format?: DataFormatter): string {
  const head = `${message.from}->${message.to} ${message.type} Term:${message.term}`;
  switch (message.type) {
    case "append": {
      const entries = message.entries.map((e) => describeEntry(e, format)).join(", ");
      const tail = entries === "" ? "" : ` Entries:[${entries}]`;
      return `${head} Log:${message.prevTerm}/${message.prevIndex} Commit:${message.commit}${tail}`;
    }
    case "appendResponse":
      return message.reject
        ? `${head} Rejected:${message.index} Hint:${message.rejectHintTerm}/${message.rejectHintIndex}`
        : `${head} Index:${message.index}`;
    case "heartbeat": {
      const read = message.readRound === 0 ? "" : ` ReadRound:${message.readRound}`;
      return `${head} Commit:${message.commit}${read}${message.quiesce ? " Quiesce" : ""}`;
    }
    case "heartbeatResponse":
      return message.readRound === 0 ? head : `${head} ReadRound:${message.readRound}`;
    case "vote":
    case "preVote":
      return `${head} Log:${message.lastTerm}/${message.lastIndex}${message.transfer ? " Transfer" : ""}`;
    case "voteResponse":
    case "preVoteResponse":
      return message.reject ? `${head} Rejected` : head;
    case "snapshot":
      return `${head} Snapshot:[${describeSnapshot(message.snapshot)}]`;
    case "timeoutNow":
      return head;
    case "transferLeader":
      return `${head} Transferee:${message.transferee}`;
    case "propose":
      return `${head} Entries:${message.entries.length}`;
    case "readIndex":
      return `${head} Context:${(format ?? defaultDataFormatter)(message.context)}`;
    case "readIndexResponse":
      return `${head} Index:${message.index} Context:${(format ?? defaultDataFormatter)(message.context)}`;
  }
}

export function describeReady(ready: Ready, format?: DataFormatter): string {
  const lines: string[] = [];
  if (ready.softState !== null) lines.push(describeSoftState(ready.softState));
  if (ready.hardState !== null) lines.push(`HardState ${describeHardState(ready.hardState)}`);
  for (const read of ready.readStates) {
    lines.push(
      `ReadState Index:${read.index} Context:${(format ?? defaultDataFormatter)(read.context)}`,
    );
  }
  if (ready.entries.length > 0) {
    lines.push("Entries:");
    for (const entry of ready.entries) lines.push(describeEntry(entry, format));
  }
  if (ready.snapshot !== null) lines.push(`Snapshot ${describeSnapshot(ready.snapshot)}`);
  if (ready.committedEntries.length > 0) {
    lines.push("CommittedEntries:");
    for (const entry of ready.committedEntries) lines.push(describeEntry(entry, format));
  }
  if (ready.earlyMessages.length > 0) {
    lines.push("EarlyMessages:");
    for (const message of ready.earlyMessages) lines.push(describeMessage(message, format));
  }
  if (ready.messages.length > 0) {
    lines.push("Messages:");
    for (const message of ready.messages) lines.push(describeMessage(message, format));
  }
  if (lines.length === 0) return "<empty Ready>";
  return `Ready MustSync=${ready.mustSync}:\n${lines.join("\n")}`;
}
