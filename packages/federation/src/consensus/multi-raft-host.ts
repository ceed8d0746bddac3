import { ParleyError, type RoomId, type ServerName } from "@parley/protocol";
import {
  type ConfChange,
  isHeartbeatMessage,
  type Message,
  type NodeId,
  type ProposeResult,
  type RandomSource,
  type Snapshot,
} from "@parley/raft";
import type { HeartbeatFrame, RaftEnvelope, RaftFrame } from "../frames/frame.ts";
import { serverOfNode } from "../identity/sponsor-node-id.ts";
import {
  groupsPerServerMax,
  raftAppendMessageBytesMax,
  raftFrameBytesTarget,
  raftMessagesPerFrameMax,
} from "../limits.ts";
import type { GroupStorageProvider } from "./group-storage.ts";
import { expandHeartbeats, HeartbeatBatch, incarnationOfNode } from "./heartbeat-batch.ts";
import { type GroupApplier, type GroupRaftSettings, RaftGroup } from "./raft-group.ts";

export interface MultiRaftOptions {
  readonly self: ServerName;
  readonly storage: GroupStorageProvider;
  readonly random: RandomSource;
  readonly raft?: GroupRaftSettings;
  /**
   * A message arrived for a group this server does not run (or runs as an
   * older incarnation): return the applier to start node `to` with empty
   * storage, or null to drop the message. The owner refuses incarnations it
   * has retired, so a node id is never brought back.
   */
  readonly groupWanted: (room: RoomId, to: NodeId) => GroupApplier | null;
}

/** Frames for one peer server produced by one processing round. */
export interface RaftOutput {
  readonly to: ServerName;
  readonly frame: RaftFrame | HeartbeatFrame;
}

export interface ProcessResult {
  readonly frames: readonly RaftOutput[];
  /** Some write of this round must be made durable before the frames are sent. */
  readonly mustSync: boolean;
}

/**
 * One server's Raft groups, one per room it sponsors (group id = room id).
 *
 * - **Ticking only what is awake.** `tick()` ticks only groups that are not
 *   quiesced; a group goes back to the awake set when a message, proposal or
 *   liveness change reaches it.
 * - **Liveness without storms.** The transport's link events come in through
 *   `setPeerAlive`; each group hearing of a peer server's change gets
 *   `peerLivenessChanged` for that server's node in it, which wakes only the
 *   groups the change matters to (a follower that lost its leader, a leader
 *   that lost its quorum), never every idle group. A server's peers count as
 *   dead until their link comes up.
 * - **One round, one sync, one frame per peer.** `process()` runs the Ready
 *   loop of every group with work, writing all of them to storage; the caller
 *   makes those writes durable once (when `mustSync`) and only then sends the
 *   returned frames: per peer server, one heartbeat frame carrying every
 *   group's heartbeats and responses, and raft frames with the other messages.
 */
export class MultiRaftHost {
  readonly #self: ServerName;
  readonly #storage: GroupStorageProvider;
  readonly #random: RandomSource;
  readonly #settings: GroupRaftSettings;
  readonly #groupWanted: MultiRaftOptions["groupWanted"];
  readonly #groups = new Map<RoomId, RaftGroup>();
  readonly #awake = new Set<RoomId>();
  readonly #dirty = new Set<RoomId>();
  /** Peer server → rooms whose configuration names a node of it. */
  readonly #roomsOfPeer = new Map<ServerName, Set<RoomId>>();
  readonly #peersOfRoom = new Map<RoomId, Set<ServerName>>();
  readonly #alive = new Set<ServerName>();
  /** Messages from a peer naming a node of another server (a confused or lying peer). */
  misaddressed = 0;

  constructor(options: MultiRaftOptions) {
    this.#self = options.self;
    this.#storage = options.storage;
    this.#random = options.random;
    this.#settings = {
      appendMessageBytesMax: raftAppendMessageBytesMax,
      quiesce: true,
      ...options.raft,
    };
    this.#groupWanted = options.groupWanted;
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  get awakeCount(): number {
    return this.#awake.size;
  }

  group(room: RoomId): RaftGroup | undefined {
    return this.#groups.get(room);
  }

  rooms(): IterableIterator<RoomId> {
    return this.#groups.keys();
  }

  /**
   * Starts (or restarts) node `id` of `room` over what its storage holds.
   * `bootstrap` is for a brand new room: a snapshot naming the initial voters.
   */
  startGroup(room: RoomId, id: NodeId, applier: GroupApplier, bootstrap?: Snapshot): RaftGroup {
    if (this.#groups.has(room)) {
      throw new ParleyError("invalid_argument", `a group of ${room} already runs here`);
    }
    if (this.#groups.size >= groupsPerServerMax) {
      throw new ParleyError("capacity_exceeded", "this server runs as many groups as it may");
    }
    const storage = this.#storage.open(room, id);
    if (bootstrap !== undefined) storage.applySnapshot(bootstrap);
    const group = new RaftGroup(room, id, storage, applier, {
      ...this.#settings,
      random: this.#random,
    });
    this.#groups.set(room, group);
    this.#touch(room);
    this.configurationChanged(room);
    return group;
  }

  /** Stops and forgets a group (the server left the room's sponsor set); its storage is deleted. */
  removeGroup(room: RoomId): void {
    const group = this.#groups.get(room);
    if (group === undefined) return;
    this.#groups.delete(room);
    this.#awake.delete(room);
    this.#dirty.delete(room);
    for (const server of this.#peersOfRoom.get(room) ?? []) {
      this.#roomsOfPeer.get(server)?.delete(room);
    }
    this.#peersOfRoom.delete(room);
    this.#storage.destroy(room, group.id);
  }

  /**
   * Call after a group's configuration changed (its applier was told): the
   * peer index follows, and new peers learn whether they are alive.
   */
  configurationChanged(room: RoomId): void {
    const group = this.#groups.get(room);
    if (group === undefined) return;
    const before = this.#peersOfRoom.get(room) ?? new Set<ServerName>();
    const after = group.peerServers();
    for (const server of before) {
      if (!after.has(server)) this.#roomsOfPeer.get(server)?.delete(room);
    }
    for (const server of after) {
      let rooms = this.#roomsOfPeer.get(server);
      if (rooms === undefined) {
        rooms = new Set();
        this.#roomsOfPeer.set(server, rooms);
      }
      rooms.add(room);
      if (!before.has(server) && !this.#alive.has(server)) this.#reportLiveness(group, server);
    }
    this.#peersOfRoom.set(room, after);
  }

  tick(): void {
    for (const room of this.#awake) {
      this.#groups.get(room)?.rawNode.tick();
      this.#dirty.add(room);
    }
  }

  propose(room: RoomId, data: Uint8Array): ProposeResult | null {
    const group = this.#groups.get(room);
    if (group === undefined) return null;
    this.#touch(room);
    return group.rawNode.propose(data);
  }

  proposeConfChange(room: RoomId, change: ConfChange): ProposeResult | null {
    const group = this.#groups.get(room);
    if (group === undefined) return null;
    this.#touch(room);
    return group.rawNode.proposeConfChange(change);
  }

  transferLeadership(room: RoomId, to: NodeId): void {
    const group = this.#groups.get(room);
    if (group === undefined) return;
    this.#touch(room);
    group.rawNode.transferLeadership(to);
  }

  campaign(room: RoomId): void {
    const group = this.#groups.get(room);
    if (group === undefined) return;
    this.#touch(room);
    group.rawNode.campaign();
  }

  /** The transport's view of a peer server: its link came up (true) or went down (false). */
  setPeerAlive(server: ServerName, alive: boolean): void {
    if (alive === this.#alive.has(server)) return;
    if (alive) this.#alive.add(server);
    else this.#alive.delete(server);
    for (const room of this.#roomsOfPeer.get(server) ?? []) {
      const group = this.#groups.get(room);
      if (group !== undefined) this.#reportLiveness(group, server);
    }
  }

  /** Steps a raft frame's messages into their groups. */
  receiveRaft(peer: ServerName, frame: RaftFrame): void {
    for (const { room, message } of frame.messages) this.#step(peer, room, message);
  }

  /** Expands a heartbeat frame and steps each heartbeat into its group. */
  receiveHeartbeats(peer: ServerName, frame: HeartbeatFrame): void {
    for (const { room, message } of expandHeartbeats(frame, peer, this.#self)) {
      this.#step(peer, room, message);
    }
  }

  /** Runs every group with work through its Ready loop; see the class comment for the caller's duty. */
  process(): ProcessResult {
    const outgoing: Array<{ readonly room: RoomId; readonly message: Message }> = [];
    let mustSync = false;
    const messages: Message[] = [];
    for (const room of this.#dirty) {
      const group = this.#groups.get(room);
      if (group === undefined) continue;
      messages.length = 0;
      mustSync = group.handleReadies(messages) || mustSync;
      for (const message of messages) outgoing.push({ room, message });
      if (group.rawNode.isQuiesced()) this.#awake.delete(room);
      else this.#awake.add(room);
    }
    this.#dirty.clear();
    return { frames: coalesce(outgoing), mustSync };
  }

  /** Whether a group has work `process` has not done yet. */
  get hasWork(): boolean {
    return this.#dirty.size > 0;
  }

  #step(peer: ServerName, room: RoomId, message: Message): void {
    if (serverOfNode(message.from) !== peer || serverOfNode(message.to) !== this.#self) {
      this.misaddressed += 1;
      return;
    }
    let group = this.#groups.get(room);
    if (group !== undefined && group.id !== message.to) {
      if (incarnationOfNode(message.to) <= incarnationOfNode(group.id)) return;
      // This server was removed and added again: the old node is done.
      const applier = this.#groupWanted(room, message.to);
      if (applier === null) return;
      this.removeGroup(room);
      group = this.startGroup(room, message.to, applier);
    }
    if (group === undefined) {
      const applier = this.#groupWanted(room, message.to);
      if (applier === null) return;
      group = this.startGroup(room, message.to, applier);
    }
    this.#touch(room);
    group.rawNode.step(message);
  }

  #touch(room: RoomId): void {
    this.#awake.add(room);
    this.#dirty.add(room);
  }

  #reportLiveness(group: RaftGroup, server: ServerName): void {
    const alive = this.#alive.has(server);
    for (const id of [...group.confState.voters, ...group.confState.learners]) {
      if (id !== group.id && serverOfNode(id) === server) {
        group.rawNode.peerLivenessChanged(id, alive);
      }
    }
    // Only a group that woke needs ticking again; others stay asleep.
    this.#dirty.add(group.room);
    if (!group.rawNode.isQuiesced()) this.#awake.add(group.room);
  }
}

/** Groups outgoing messages per peer server: one heartbeat frame, and raft frames within bounds. */
function coalesce(
  outgoing: ReadonlyArray<{ readonly room: RoomId; readonly message: Message }>,
): RaftOutput[] {
  const heartbeats = new Map<ServerName, HeartbeatBatch>();
  const others = new Map<ServerName, RaftEnvelope[]>();
  for (const { room, message } of outgoing) {
    const to = serverOfNode(message.to);
    if (isHeartbeatMessage(message)) {
      let batch = heartbeats.get(to);
      if (batch === undefined) {
        batch = new HeartbeatBatch();
        heartbeats.set(to, batch);
      }
      batch.add(room, message);
    } else {
      let list = others.get(to);
      if (list === undefined) {
        list = [];
        others.set(to, list);
      }
      list.push({ room, message });
    }
  }
  const frames: RaftOutput[] = [];
  for (const [to, batch] of heartbeats) {
    for (const frame of batch.frames()) frames.push({ to, frame });
  }
  for (const [to, list] of others) {
    for (const messages of splitBySize(list))
      frames.push({ to, frame: { type: "raft", messages } });
  }
  return frames;
}

function splitBySize(list: readonly RaftEnvelope[]): RaftEnvelope[][] {
  const frames: RaftEnvelope[][] = [];
  let current: RaftEnvelope[] = [];
  let bytes = 0;
  for (const envelope of list) {
    const size = approximateBytes(envelope.message);
    if (
      current.length > 0 &&
      (bytes + size > raftFrameBytesTarget || current.length >= raftMessagesPerFrameMax)
    ) {
      frames.push(current);
      current = [];
      bytes = 0;
    }
    current.push(envelope);
    bytes += size;
  }
  if (current.length > 0) frames.push(current);
  return frames;
}

/** A cheap upper-bound guess of a message's encoded size, for batching only. */
function approximateBytes(message: Message): number {
  let bytes = 128;
  if (message.type === "append") {
    for (const entry of message.entries) {
      bytes += 32 + (entry.type === "normal" ? entry.data.length : 256);
    }
  } else if (message.type === "snapshot") {
    bytes += message.snapshot.data.length + 1024;
  } else if (message.type === "propose") {
    for (const entry of message.entries) {
      bytes += 32 + (entry.type === "normal" ? entry.data.length : 256);
    }
  }
  return bytes;
}
