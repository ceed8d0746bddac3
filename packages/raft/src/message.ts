/**
 * The messages Raft nodes exchange. Each message is a plain object with a
 * `type` tag; the transport encodes it (and adds the group id that routes it
 * to the right Raft group on the other side).
 *
 * Every message carries `from`, `to` and `term`. Forwarded proposals, read
 * requests and transfer requests carry term 0: they are not bound to a term,
 * so the receiver skips the term comparison for them (as etcd does).
 *
 * Heartbeats and heartbeat responses are deliberately tiny (ids, term, commit
 * and a number) and recognisable with `isHeartbeatMessage`, so a transport can
 * coalesce the heartbeats of all groups two servers share into one frame.
 */
import type { Entry, EntryPayload, LogIndex, NodeId, Snapshot, Term } from "./types.ts";

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** AppendEntries: entries after (prevIndex, prevTerm), and the leader's commit index. */
export interface AppendMessage extends Envelope {
  readonly type: "append";
  readonly prevIndex: LogIndex;
  readonly prevTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

/**
 * The answer to an append (or snapshot). On success `index` is the last index
 * known to match the leader's log. On rejection `index` is the rejected
 * `prevIndex`, and the hint is the follower's guess of the largest (index,
 * term) where the logs may still match, so the leader can skip a whole term of
 * mismatching entries per round trip.
 */
export interface AppendResponseMessage extends Envelope {
  readonly type: "appendResponse";
  readonly index: LogIndex;
  readonly reject: boolean;
  readonly rejectHintIndex: LogIndex;
  readonly rejectHintTerm: Term;
}

/**
 * A heartbeat. `commit` never exceeds what the follower is known to hold.
 * `readRound` is non-zero when the heartbeat also confirms leadership for
 * pending ReadIndex requests. `quiesce` asks the follower to go quiet.
 */
export interface HeartbeatMessage extends Envelope {
  readonly type: "heartbeat";
  readonly commit: LogIndex;
  readonly readRound: number;
  readonly quiesce: boolean;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: "heartbeatResponse";
  readonly readRound: number;
}

/**
 * RequestVote, or its PreVote rehearsal (which carries the term the sender
 * would campaign in, without having moved to it). `transfer` marks a campaign
 * started by a leadership transfer, which may break a leader lease.
 */
export interface VoteMessage extends Envelope {
  readonly type: "vote" | "preVote";
  readonly lastIndex: LogIndex;
  readonly lastTerm: Term;
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: "voteResponse" | "preVoteResponse";
  readonly reject: boolean;
}

/** InstallSnapshot: the whole snapshot in one message. */
export interface SnapshotMessage extends Envelope {
  readonly type: "snapshot";
  readonly snapshot: Snapshot;
}

/** Tells a caught-up follower to campaign at once (the last step of a leadership transfer). */
export interface TimeoutNowMessage extends Envelope {
  readonly type: "timeoutNow";
}

/** A leadership transfer request forwarded by a follower to its leader. */
export interface TransferLeaderMessage extends Envelope {
  readonly type: "transferLeader";
  readonly transferee: NodeId;
}

/** Proposals forwarded by a follower to its leader. */
export interface ProposeMessage extends Envelope {
  readonly type: "propose";
  readonly entries: readonly EntryPayload[];
}

/** A ReadIndex request forwarded by a follower to its leader. */
export interface ReadIndexMessage extends Envelope {
  readonly type: "readIndex";
  readonly context: Uint8Array;
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: "readIndexResponse";
  readonly index: LogIndex;
  readonly context: Uint8Array;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | TransferLeaderMessage
  | ProposeMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message["type"];

/** Heartbeats and their responses: small, frequent, and safe to batch across groups. */
export function isHeartbeatMessage(
  message: Message,
): message is HeartbeatMessage | HeartbeatResponseMessage {
  return message.type === "heartbeat" || message.type === "heartbeatResponse";
}

/** Responses, which a node only accepts from peers it tracks. */
export function isResponseMessage(message: Message): boolean {
  switch (message.type) {
    case "appendResponse":
    case "heartbeatResponse":
    case "voteResponse":
    case "preVoteResponse":
    case "readIndexResponse":
      return true;
    default:
      return false;
  }
}

/** Messages that are not bound to a term (sent with term 0). */
export function isTermlessMessage(message: Message): boolean {
  return (
    message.type === "propose" || message.type === "readIndex" || message.type === "transferLeader"
  );
}
