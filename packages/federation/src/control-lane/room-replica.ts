import {
  type CborMap,
  decodeCanonical,
  encodeCanonical,
  ParleyError,
  type RoomId,
  type ServerName,
  type UserId,
} from "@parley/protocol";
import {
  type ApplyOutcome,
  authorizeMessage,
  decodeRoomSnapshot,
  encodeRoomSnapshot,
  type MessageVerdict as RoomMessageVerdict,
  type RoomState,
  RoomStateMachine,
} from "@parley/room";
import type { ControlRecordAt, ControlSnapshot } from "../frames/frame.ts";
import { controlSnapshotValue } from "../frames/frame-codec.ts";
import { controlSnapshotSchema } from "../frames/frame-schemas.ts";
import {
  controlRecordBytesRetainedPerRoomMax,
  controlRecordsRetainedPerRoomMax,
  snapshotBytesMax,
} from "../limits.ts";
import type { ControlView } from "../message-lane/message-lane.ts";
import type { RecheckOutcome } from "../message-lane/stamped-message.ts";
import { AuthorizationHistory } from "./authorization-history.ts";
import {
  type ControlRecord,
  decodeControlRecord,
  genesisChainHash,
  nextChainHash,
} from "./control-record.ts";

export interface AppliedRecord {
  readonly index: number;
  readonly record: ControlRecord;
  readonly outcome: ApplyOutcome;
  readonly at: ControlRecordAt;
}

/**
 * One server's copy of a room's control state: the room state machine fed
 * with control records in order (by Raft on a sponsor, by the control feed on
 * a leaf), the chain hash, the recent records (to feed leaves), each
 * sponsor's incarnation, and the authorization history for re-checking
 * messages. The same class on sponsors and leaves, so both reach the same
 * state at the same index, byte for byte.
 */
export class RoomReplica implements ControlView {
  readonly room: RoomId;
  #machine: RoomStateMachine;
  #history: AuthorizationHistory;
  #chainHash: Uint8Array;
  readonly #incarnations = new Map<ServerName, number>();
  /** The most recent records, oldest first, consecutive up to the applied index. */
  #recent: ControlRecordAt[] = [];
  /** Bytes of the records in `#recent`, bounded as well as their count (MLS records are large). */
  #recentBytes = 0;
  /** The chain hash just before `#recent[0]` (at the snapshot or the last record dropped). */
  #beforeRecent: { readonly index: number; readonly chainHash: Uint8Array };

  private constructor(
    room: RoomId,
    state: RoomState | undefined,
    chainHash: Uint8Array,
    authorizationChangesMax?: number,
  ) {
    this.room = room;
    this.#machine = new RoomStateMachine(state);
    this.#history = new AuthorizationHistory(
      state?.appliedIndex ?? 0,
      this.#machine.state,
      authorizationChangesMax,
    );
    this.#chainHash = chainHash;
    this.#beforeRecent = { index: state?.appliedIndex ?? 0, chainHash };
  }

  /**
   * A replica before the room's first record. `authorizationChangesMax`
   * bounds the authorization history (tests shrink it to reach its horizon).
   */
  static empty(room: RoomId, authorizationChangesMax?: number): RoomReplica {
    return new RoomReplica(room, undefined, genesisChainHash(room), authorizationChangesMax);
  }

  get authorizationHorizon(): number {
    return this.#history.horizon;
  }

  /** A replica from a snapshot (throws `bad_structure` if it belongs to another room). */
  static fromSnapshot(room: RoomId, snapshot: ControlSnapshot): RoomReplica {
    const state = decodeRoomSnapshot(snapshot.state);
    if (state.roomId !== room || state.appliedIndex !== snapshot.index) {
      throw new ParleyError("bad_structure", "the snapshot is of another room or index");
    }
    const replica = new RoomReplica(room, state, snapshot.chainHash);
    for (const [server, incarnation] of snapshot.incarnations) {
      replica.#incarnations.set(server, incarnation);
    }
    return replica;
  }

  get appliedIndex(): number {
    return this.#machine.appliedIndex;
  }

  get state(): RoomState | undefined {
    return this.#machine.state;
  }

  get chainHash(): Uint8Array {
    return this.#chainHash;
  }

  get sponsors(): readonly ServerName[] {
    return this.#machine.state?.sponsors ?? [];
  }

  /** A sponsor's incarnation: the control index that made it a sponsor. */
  incarnationOf(server: ServerName): number | undefined {
    return this.#incarnations.get(server);
  }

  /** Every current sponsor with its incarnation, sorted by server. */
  incarnations(): Array<readonly [ServerName, number]> {
    return [...this.#incarnations.entries()].sort(([left], [right]) => (left < right ? -1 : 1));
  }

  /** What applying `record` next would decide, without applying it (a sponsor checks before proposing). */
  check(record: ControlRecord) {
    return this.#machine.check(record.entry);
  }

  /** Applies the next record (its bytes as committed). The caller feeds records in order. */
  apply(recordBytes: Uint8Array): AppliedRecord {
    const record = decodeControlRecord(recordBytes);
    const index = this.appliedIndex + 1;
    const decision = this.#machine.check(record.entry);
    if (decision.verdict === "accept") {
      this.#history.recordChanges(index, decision.changes, this.#machine.state);
    }
    const outcome = this.#machine.apply(record.entry, index);
    if ((outcome.verdict === "accepted") !== (decision.verdict === "accept")) {
      throw new Error("the state machine decided differently from its own check");
    }
    this.#history.applied(this.#machine.state);
    this.#chainHash = nextChainHash(this.#chainHash, recordBytes);
    if (outcome.verdict === "accepted") this.#trackIncarnation(record, index);
    const at: ControlRecordAt = { index, chainHash: this.#chainHash, record: recordBytes };
    this.#recent.push(at);
    this.#recentBytes += recordBytes.length;
    let dropped = 0;
    while (
      this.#recent.length - dropped > controlRecordsRetainedPerRoomMax ||
      (this.#recentBytes > controlRecordBytesRetainedPerRoomMax &&
        this.#recent.length - dropped > 1)
    ) {
      const oldest = this.#recent[dropped];
      if (oldest === undefined) break;
      this.#recentBytes -= oldest.record.length;
      this.#beforeRecent = oldest;
      dropped += 1;
    }
    if (dropped > 0) this.#recent = this.#recent.slice(dropped);
    return { index, record, outcome, at };
  }

  /** `chain(index)` while this replica still knows it (the retained records and the one before), else undefined. */
  chainHashAt(index: number): Uint8Array | undefined {
    if (index === this.appliedIndex) return this.#chainHash;
    if (index === this.#beforeRecent.index) return this.#beforeRecent.chainHash;
    const first = this.#recent[0];
    if (first === undefined || index < first.index || index > this.appliedIndex) return undefined;
    return this.#recent[index - first.index]?.chainHash;
  }

  /** The records after `index`, or null when they are no longer retained (send a snapshot). */
  recordsAfter(index: number, countMax: number): ControlRecordAt[] | null {
    if (index >= this.appliedIndex) return [];
    const first = this.#recent[0];
    if (first === undefined || first.index > index + 1) return null;
    const start = index + 1 - first.index;
    return this.#recent.slice(start, start + countMax);
  }

  snapshot(): ControlSnapshot {
    const state = this.#machine.state;
    if (state === undefined) throw new Error("no snapshot before the room exists");
    return {
      index: this.appliedIndex,
      chainHash: this.#chainHash,
      state: encodeRoomSnapshot(state),
      incarnations: this.incarnations(),
    };
  }

  // ControlView, for the message lane.

  authorizeNow(sender: UserId): RoomMessageVerdict | null {
    const state = this.#machine.state;
    return state === undefined ? null : authorizeMessage(state, sender);
  }

  recheck(index: number, origin: ServerName, sender: UserId): RecheckOutcome {
    return this.#history.recheck(index, origin, sender);
  }

  #trackIncarnation(record: ControlRecord, index: number): void {
    const action = record.entry.action;
    if (action.type === "create" && record.entry.actor.type === "user") {
      for (const sponsor of this.sponsors) this.#incarnations.set(sponsor, index);
    } else if (action.type === "add-sponsor") {
      this.#incarnations.set(action.server, index);
    } else if (action.type === "remove-sponsor") {
      this.#incarnations.delete(action.server);
    }
  }
}

/** Control snapshots as canonical CBOR: the data of a room's Raft snapshots. */
export function encodeControlSnapshot(snapshot: ControlSnapshot): Uint8Array {
  return encodeCanonical(controlSnapshotValue(snapshot) as CborMap);
}

export function decodeControlSnapshot(bytes: Uint8Array): ControlSnapshot {
  const value = decodeCanonical(bytes, {
    totalBytesMax: snapshotBytesMax + 64 * 1024,
    depthMax: 4,
    containerItemsMax: 4096,
    stringBytesMax: snapshotBytesMax,
  });
  const parsed = controlSnapshotSchema.safeParse(value);
  if (!parsed.success) throw new ParleyError("bad_structure", "invalid control snapshot");
  return parsed.data;
}
