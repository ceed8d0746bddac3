import type { RoomId, ServerName } from "@parley/protocol";
import {
  type ConfState,
  EMPTY_CONF_STATE,
  type LogIndex,
  type Message,
  type NodeId,
  type NormalEntry,
  type RaftConfig,
  type RaftRole,
  type RandomSource,
  RawNode,
  type Snapshot,
  type WritableStorage,
} from "@parley/raft";
import { serverOfNode } from "../identity/sponsor-node-id.ts";
import { raftLogEntriesRetained, readyPassesPerGroupMax } from "../limits.ts";
import { SnapshottingStorage } from "./group-storage.ts";

/**
 * What a group's owner does with what the group commits. Called from inside
 * `MultiRaftHost.process`, after the Ready's writes and before `advance()`.
 * An applier must not call back into the host synchronously (queue the
 * follow-up work and do it after `process` returns).
 */
export interface GroupApplier {
  /** A committed entry that carries data (the leader's empty entries are skipped). */
  applyEntry(entry: NormalEntry): void;
  /** The state is replaced by a snapshot (sent by the leader, or found in storage on restart). */
  restoreSnapshot(snapshot: Snapshot): void;
  /** The application's state at the applied index, as snapshot data. */
  snapshotData(): Uint8Array;
  /** The configuration changed (a change applied, or a snapshot restored). */
  configurationChanged(confState: ConfState): void;
}

/** The Raft settings a host gives every group (ids, storage and randomness are per group). */
export type GroupRaftSettings = Omit<RaftConfig, "id" | "storage" | "random" | "applied">;

/** One room's Raft node at this server, with its Ready loop. */
export class RaftGroup {
  readonly room: RoomId;
  readonly id: NodeId;
  readonly rawNode: RawNode;
  readonly #storage: WritableStorage;
  readonly #applier: GroupApplier;
  #confState: ConfState = EMPTY_CONF_STATE;
  #applied: LogIndex = 0;
  #role: RaftRole = "follower";
  #lead: NodeId | null = null;

  constructor(
    room: RoomId,
    id: NodeId,
    storage: WritableStorage,
    applier: GroupApplier,
    config: GroupRaftSettings & { readonly random: RandomSource },
  ) {
    this.room = room;
    this.id = id;
    this.#storage = storage;
    this.#applier = applier;
    const stored = storage.snapshot();
    if (stored.metadata.index > 0) {
      // A restart (or a bootstrap): the state machine starts from the stored
      // snapshot, and the core hands out the committed entries after it again.
      applier.restoreSnapshot(stored);
      this.#confState = stored.metadata.confState;
      this.#applied = stored.metadata.index;
    }
    const source = {
      applied: () => ({ index: this.#applied, confState: this.#confState }),
      data: () => this.#applier.snapshotData(),
    };
    this.rawNode = new RawNode({
      ...config,
      id,
      storage: new SnapshottingStorage(storage, source),
      applied: this.#applied,
    });
  }

  get confState(): ConfState {
    return this.#confState;
  }

  get role(): RaftRole {
    return this.#role;
  }

  get lead(): NodeId | null {
    return this.#lead;
  }

  get appliedIndex(): LogIndex {
    return this.#applied;
  }

  /** Whether this node is a voter or learner of its current configuration. */
  get isMember(): boolean {
    return memberIds(this.#confState).includes(this.id);
  }

  /** The servers of the other members of the configuration. */
  peerServers(): Set<ServerName> {
    const servers = new Set<ServerName>();
    for (const id of memberIds(this.#confState)) {
      if (id !== this.id) servers.add(serverOfNode(id));
    }
    return servers;
  }

  /**
   * Runs the Ready loop until the node has no more work: persist, collect the
   * messages (sent by the caller only after the writes are durable), apply,
   * advance. Returns whether any write must be synced.
   */
  handleReadies(outgoing: Message[]): boolean {
    let mustSync = false;
    for (let pass = 0; pass < readyPassesPerGroupMax && this.rawNode.hasReady(); pass += 1) {
      mustSync = this.#handleReady(outgoing) || mustSync;
    }
    if (this.rawNode.hasReady()) {
      throw new Error(`group ${this.room} still has work after ${readyPassesPerGroupMax} passes`);
    }
    return mustSync;
  }

  #handleReady(outgoing: Message[]): boolean {
    const ready = this.rawNode.ready();
    if (ready.snapshot !== null) this.#storage.applySnapshot(ready.snapshot);
    this.#storage.append(ready.entries);
    if (ready.hardState !== null) this.#storage.setHardState(ready.hardState);
    // Everything goes out after the round's sync, early messages included
    // (sending them sooner is allowed, not required).
    for (const message of ready.earlyMessages) outgoing.push(message);
    for (const message of ready.messages) outgoing.push(message);
    if (ready.snapshot !== null) {
      this.#applier.restoreSnapshot(ready.snapshot);
      this.#confState = ready.snapshot.metadata.confState;
      this.#applied = ready.snapshot.metadata.index;
      this.#applier.configurationChanged(this.#confState);
    }
    for (const entry of ready.committedEntries) {
      if (entry.type === "confChange") {
        this.#confState = this.rawNode.applyConfChange(entry.change);
        this.#applied = entry.index;
        this.#applier.configurationChanged(this.#confState);
      } else {
        this.#applied = entry.index;
        if (entry.data.length > 0) this.#applier.applyEntry(entry);
      }
    }
    if (ready.softState !== null) {
      this.#role = ready.softState.role;
      this.#lead = ready.softState.lead;
    }
    this.rawNode.advance();
    // The message is on its way once the caller sends the round's frames; if
    // it is lost the follower rejects the next append and gets another one.
    for (const message of [...ready.earlyMessages, ...ready.messages]) {
      if (message.type === "snapshot") this.rawNode.reportSnapshot(message.to, "finish");
    }
    this.#compact();
    return ready.mustSync;
  }

  /** Keeps the log at most twice `raftLogEntriesRetained` entries behind the applied index. */
  #compact(): void {
    const behind = this.#applied - this.#storage.firstIndex() + 1;
    if (behind <= 2 * raftLogEntriesRetained) return;
    if (this.#storage.snapshot().metadata.index < this.#applied) {
      this.#storage.createSnapshot(this.#applied, this.#confState, this.#applier.snapshotData());
    }
    this.#storage.compact(this.#applied - raftLogEntriesRetained);
  }
}

export function memberIds(confState: ConfState): NodeId[] {
  return [
    ...new Set([
      ...confState.voters,
      ...confState.votersOutgoing,
      ...confState.learners,
      ...confState.learnersNext,
    ]),
  ];
}
