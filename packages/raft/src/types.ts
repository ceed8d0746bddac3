/**
 * The data the Raft core exchanges with its caller: node ids, log entries,
 * configuration changes, snapshots and the persistent ("hard") state.
 *
 * Every value here is treated as immutable once handed over, in either
 * direction. `Uint8Array` payloads cannot be frozen cheaply, so the rule is a
 * contract: neither the core nor the caller mutates bytes it has passed on.
 */
import { assert, fail } from "./assert.ts";

declare const nodeIdBrand: unique symbol;

/**
 * An opaque node id. Callers guarantee an id is never reused for a different
 * incarnation of a node (Parley uses "server name + incarnation"): Raft's
 * safety argument identifies votes and log acknowledgements by id, so a reused
 * id could vote twice in one term.
 */
export type NodeId = string & { readonly [nodeIdBrand]: true };

/** Bound on a node id's length, so ids stay cheap to copy into every message. */
export const NODE_ID_LENGTH_MAX = 255;

export function nodeId(value: string): NodeId {
  assert(value.length > 0, "a node id must not be empty");
  if (value.length > NODE_ID_LENGTH_MAX) fail(`node id longer than ${NODE_ID_LENGTH_MAX}`);
  return value as NodeId;
}

/**
 * A Raft term (the paper's "currentTerm"). Terms and log indexes are plain safe
 * integers; the aliases document which is which. Never call a term an
 * "epoch": in Parley that word belongs to MLS.
 */
export type Term = number;
/** A position in the replicated log; the first entry has index 1. */
export type LogIndex = number;

/** What a proposal carries: application bytes, or a configuration change. */
export type EntryPayload =
  | { readonly type: "normal"; readonly data: Uint8Array }
  | { readonly type: "confChange"; readonly change: ConfChange };

/** An entry of the replicated log: a payload at a (term, index) position. */
export type Entry = EntryPayload & { readonly term: Term; readonly index: LogIndex };

export type NormalEntry = Extract<Entry, { type: "normal" }>;
export type ConfChangeEntry = Extract<Entry, { type: "confChange" }>;

export type ConfChangeType = "addVoter" | "addLearner" | "removeNode";

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * How a configuration change is carried out (etcd's ConfChangeV2 semantics):
 *  - "auto": a change touching at most one voter is applied directly; anything
 *    larger goes through a joint configuration that the leader leaves on its
 *    own once the joint configuration is committed and applied.
 *  - "jointImplicit": always joint, left automatically.
 *  - "jointExplicit": always joint; the application proposes an empty change
 *    (`leaveJointChange`) to leave it.
 */
export type ConfChangeTransition = "auto" | "jointImplicit" | "jointExplicit";

/** A configuration change. No changes at all means "leave the joint configuration". */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  /** Opaque application bytes carried along (for example who asked for the change). */
  readonly context: Uint8Array;
  /**
   * A condition (compare-and-set): the leader accepts the change only if the
   * active configuration equals this one, so a change decided against a
   * configuration that has since changed (a late retry, a stale view) is
   * refused with "confStateMismatch" instead of being applied to another.
   */
  readonly expectedConfState?: ConfState;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** The change that leaves a joint configuration. */
export function leaveJointChange(): ConfChange {
  return { transition: "auto", changes: [], context: EMPTY_BYTES };
}

export function isLeaveJoint(change: ConfChange): boolean {
  return change.changes.length === 0;
}

/**
 * Whether a change enters a joint configuration, and if so whether the leader
 * leaves it automatically.
 */
export function jointTransition(change: ConfChange): { readonly autoLeave: boolean } | null {
  if (isLeaveJoint(change)) return null;
  if (change.transition === "auto" && change.changes.length <= 1) return null;
  return { autoLeave: change.transition !== "jointExplicit" };
}

/**
 * A configuration as stored in snapshots and returned when a change is applied.
 * All id lists are sorted. While joint, `votersOutgoing` is the old voter set
 * and `learnersNext` holds voters being demoted to learners on leaving.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

/** Whether two configurations have the same members in the same roles (order does not matter). */
export function confStatesEqual(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly NodeId[], y: readonly NodeId[]) =>
    x.length === y.length && [...x].sort().join("\u0000") === [...y].sort().join("\u0000");
  return (
    a.autoLeave === b.autoLeave &&
    same(a.voters, b.voters) &&
    same(a.votersOutgoing, b.votersOutgoing) &&
    same(a.learners, b.learners) &&
    same(a.learnersNext, b.learnersNext)
  );
}

export const EMPTY_CONF_STATE: ConfState = Object.freeze({
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
});

export interface SnapshotMetadata {
  /** The last log index the snapshot covers. */
  readonly index: LogIndex;
  /** The term of the entry at `index`. */
  readonly term: Term;
  /** The configuration in effect at `index`. */
  readonly confState: ConfState;
}

/** A state-machine snapshot: opaque application bytes plus where they stand in the log. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  metadata: Object.freeze({ index: 0, term: 0, confState: EMPTY_CONF_STATE }),
  data: EMPTY_BYTES,
});

/**
 * The state that must survive a restart (Raft paper, Figure 2, "persistent
 * state"), plus the commit index so that a restarted node need not re-learn it.
 */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId | null;
  readonly commit: LogIndex;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

export function hardStatesEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export type RaftRole = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state worth telling the caller about; it needs no persisting. */
export interface SoftState {
  readonly lead: NodeId | null;
  readonly role: RaftRole;
  /** True while the group is quiesced: ticks are no-ops and the caller may stop ticking. */
  readonly quiesced: boolean;
}

export function softStatesEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role && a.quiesced === b.quiesced;
}

/**
 * The answer to a `readIndex(context)` request: once the application has
 * applied up to `index`, it may serve the read identified by `context`
 * linearizably.
 */
export interface ReadState {
  readonly index: LogIndex;
  readonly context: Uint8Array;
}

/**
 * The injected source of randomness (used only for the randomized election
 * timeout). A simulator passes a seeded generator; production passes a real one.
 */
export interface RandomSource {
  /** A uniformly distributed integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

/** Fixed per-entry overhead we count towards byte limits (term, index, type). */
export const ENTRY_OVERHEAD_BYTES = 16;

/**
 * The bytes an entry's payload contributes to the uncommitted-size limit. An
 * empty payload counts as zero, so the leader's empty entry and the automatic
 * leave-joint change can never be refused by that limit.
 */
export function entryPayloadBytes(entry: EntryPayload): number {
  if (entry.type === "normal") return entry.data.byteLength;
  let bytes = entry.change.context.byteLength;
  for (const single of entry.change.changes) bytes += single.nodeId.length + 1;
  return bytes;
}

/** The approximate encoded size of an entry, used for message and batch limits. */
export function entryBytes(entry: EntryPayload): number {
  return entryPayloadBytes(entry) + ENTRY_OVERHEAD_BYTES;
}

/**
 * Returns the longest prefix of `entries` whose total size stays within
 * `bytesMax`, but always at least one entry (a single large entry must still
 * be able to travel).
 */
export function limitEntriesBytes<T extends EntryPayload>(
  entries: readonly T[],
  bytesMax: number,
): readonly T[] {
  if (entries.length === 0) return entries;
  const first = entries[0];
  assert(first !== undefined, "non-empty array has a first element");
  let total = entryBytes(first);
  let count = 1;
  while (count < entries.length) {
    const next = entries[count];
    assert(next !== undefined, "index within bounds");
    total += entryBytes(next);
    if (total > bytesMax) break;
    count++;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}
