// The room service: every change of room state goes through here, one room
// at a time. On one server the control log in storage plays the part a Raft
// log will play once rooms federate: an action is checked against the
// applied state (refused early, as a sponsor refuses before proposing),
// appended to the chained log, applied through RoomStateMachine in log order,
// and its effects are recorded — the membership index, a control event in the
// room's stream, per-device notices for those it affects, and the live
// stream's view of who reads which room.

import { createHmac } from "node:crypto";
import { ParleyError, type RoomId, roomIdFromBytes, type UserId } from "@parley/protocol";
import {
  authorizeMessage,
  type ControlEntry,
  encodeControlEntry,
  encodeRoomSnapshot,
  type JoinRule,
  parseRoomAction,
  type RoomAction,
  type RoomState,
} from "@parley/room";
import { controlAppendAttemptsMax, roomSnapshotIntervalEntries } from "../limits.ts";
import type { AppendOutcome, NewEvent } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";
import { controlChainHash } from "./control-chain.ts";
import { controlEvent, controlEventContentType } from "./control-events.ts";
import { KeyedLock } from "./keyed-lock.ts";
import {
  type MembershipChange,
  membershipChanges,
  membershipsOf,
  toStoredMembership,
  touchedUsers,
} from "./membership-changes.ts";
import type { DeviceNotices } from "./notices.ts";
import { roomRefusal } from "./room-refusals.ts";
import { type LoadedRoom, RoomStates, type UnrecordedEntry } from "./room-states.ts";

/** Appends events to the stream in order with messages (the group committer). */
export interface EventAppender {
  append(event: NewEvent): Promise<AppendOutcome>;
}

/** Told who starts or stops reading a room, so live streams follow at once. */
export interface ReaderListener {
  readerChanged(roomId: RoomId, user: UserId, reads: boolean): void;
}

export interface RoomServiceDependencies {
  readonly storage: Storage;
  readonly nowMs: () => number;
  /** Secret key for room ids derived from (device, client id): unguessable, yet stable for retries. */
  readonly roomIdKey: Uint8Array;
  readonly events: EventAppender;
  readonly notices: DeviceNotices;
  readonly readers: ReaderListener;
}

export interface Actor {
  readonly userId: UserId;
  readonly deviceId: string;
}

export interface CreateRoomInput {
  readonly clientId: string;
  readonly name: string;
  readonly topic: string;
  readonly contentType: string;
  readonly joinRule: JoinRule;
}

/** Sponsors: the creating server alone until federation adds more (room limits allow 31). */
const defaultSponsorPolicy = { mode: "invited-by-admin", sponsorsMax: 7 } as const;

export class RoomService {
  readonly #dependencies: RoomServiceDependencies;
  readonly #states: RoomStates;
  readonly #locks = new KeyedLock();

  constructor(dependencies: RoomServiceDependencies) {
    this.#dependencies = dependencies;
    this.#states = new RoomStates(dependencies.storage);
  }

  /** The room id a creation with this client id gets; a retry gets the same one. */
  roomIdFor(deviceId: string, clientId: string): RoomId {
    const digest = createHmac("sha256", this.#dependencies.roomIdKey)
      .update(`${deviceId}\0${clientId}`)
      .digest();
    return roomIdFromBytes(new Uint8Array(digest.subarray(0, 16)));
  }

  async create(
    actor: Actor,
    input: CreateRoomInput,
  ): Promise<{ roomId: RoomId; logIndex: number; duplicate: boolean }> {
    if (input.contentType === controlEventContentType) {
      throw new ParleyError("bad_structure", "that content type is reserved for control events");
    }
    const roomId = this.roomIdFor(actor.deviceId, input.clientId);
    const action = parseRoomAction({
      type: "create",
      roomId,
      kind: "plain",
      contentType: input.contentType,
      name: input.name,
      topic: input.topic,
      joinRule: input.joinRule,
      sponsorPolicy: defaultSponsorPolicy,
    });
    return this.#locks.run(roomId, async () => {
      const existing = await this.#room(roomId);
      if (existing !== null && existing.machine.state !== undefined) {
        if (existing.machine.state.creator !== actor.userId) {
          throw new ParleyError("conflict", "a room with this id exists");
        }
        return { roomId, logIndex: 1, duplicate: true };
      }
      await this.#dependencies.storage.rooms.create({
        roomId,
        kind: "plain",
        contentType: input.contentType,
        createdAtMs: this.#dependencies.nowMs(),
      });
      const logIndex = await this.#commit(roomId, actor, action);
      return { roomId, logIndex, duplicate: false };
    });
  }

  /** Checks, appends and applies one action; answers the log index it applied at. */
  async act(actor: Actor, roomId: RoomId, actionValue: unknown): Promise<{ logIndex: number }> {
    const action = parseRoomAction(actionValue);
    if (action.type === "create") {
      throw new ParleyError("bad_structure", "rooms are created with POST /rooms");
    }
    return this.#locks.run(roomId, async () => {
      const room = await this.#room(roomId);
      if (room === null || room.machine.state === undefined) {
        throw new ParleyError("not_found", "no such room");
      }
      return { logIndex: await this.#commit(roomId, actor, action) };
    });
  }

  /** The applied state, for a user who may see it (joined, invited or knocking). */
  async stateFor(roomId: RoomId, user: UserId): Promise<RoomState> {
    const state = await this.#stateOf(roomId);
    const membership = state.members.get(user)?.membership;
    if (membership !== "joined" && membership !== "invited" && membership !== "knocking") {
      throw roomRefusal("not_member", "only members and invitees see a room's state");
    }
    return state;
  }

  /** The applied state, for a user who may read the room (joined members). */
  async readableState(roomId: RoomId, user: UserId): Promise<RoomState> {
    const state = await this.#stateOf(roomId);
    if (state.members.get(user)?.membership === "banned") {
      throw roomRefusal("banned", "you are banned from this room");
    }
    if (state.members.get(user)?.membership !== "joined") {
      throw roomRefusal("not_member", "only joined members read a room");
    }
    return state;
  }

  /** May `user` post now? Answers the room's content type and the index to stamp. */
  async authorizeMessage(
    roomId: RoomId,
    user: UserId,
  ): Promise<{ contentType: string; controlIndex: number }> {
    const state = await this.#stateOf(roomId);
    const verdict = authorizeMessage(state, user);
    if (!verdict.allowed) throw roomRefusal(verdict.code, verdict.reason);
    return { contentType: state.contentType, controlIndex: state.appliedIndex };
  }

  async #stateOf(roomId: RoomId): Promise<RoomState> {
    const cached = this.#states.cached(roomId);
    const room = cached ?? (await this.#locks.run(roomId, () => this.#room(roomId)));
    const state = room?.machine.state;
    if (state === undefined) throw new ParleyError("not_found", "no such room");
    return state;
  }

  /** The loaded room (cache first); records effects a crash left unrecorded. Under the room's lock. */
  async #room(roomId: RoomId): Promise<LoadedRoom | null> {
    const cached = this.#states.cached(roomId);
    if (cached !== undefined) return cached;
    const loaded = await this.#states.load(roomId);
    if (loaded === null) return null;
    for (const unrecorded of loaded.unrecorded) {
      await this.#recordEffects(loaded.room, unrecorded);
    }
    this.#states.remember(loaded.room);
    return loaded.room;
  }

  async #commit(roomId: RoomId, actor: Actor, action: RoomAction): Promise<number> {
    // Bounded: another process appending first costs a reload and a retry.
    for (let attempt = 1; ; attempt += 1) {
      const room = await this.#room(roomId);
      if (room === null) throw new ParleyError("not_found", "no such room");
      const entry: ControlEntry = {
        actor: { type: "user", user: actor.userId },
        action,
        proposedAtMs: this.#dependencies.nowMs(),
      };
      const decision = room.machine.check(entry);
      if (decision.verdict === "reject") throw roomRefusal(decision.code, decision.reason);
      const index = room.machine.appliedIndex + 1;
      const entryBytes = encodeControlEntry(entry);
      const entryHash = controlChainHash(roomId, index, room.lastHash, entryBytes);
      const appended = await this.#dependencies.storage.rooms.appendControlEntry({
        roomId,
        logIndex: index,
        entry: entryBytes,
        entryHash,
        previousHash: room.lastHash,
      });
      if (appended.kind !== "appended") {
        this.#states.forget(roomId);
        if (attempt >= controlAppendAttemptsMax) {
          throw new ParleyError("unavailable", "the room's log is busy; retry");
        }
        continue;
      }
      const before = membershipsOf(room.machine.state, touchedUsers(actor.userId, action));
      const outcome = room.machine.apply(entry, index);
      room.lastHash = entryHash;
      // A check that passed cannot fail on apply under the room's lock.
      if (outcome.verdict !== "accepted") throw new Error("an accepted check was refused on apply");
      await this.#recordEffects(room, { entry, entryBytes, index, before });
      return index;
    }
  }

  /** Everything that follows an applied entry; every write is idempotent. */
  async #recordEffects(room: LoadedRoom, applied: UnrecordedEntry): Promise<void> {
    const state = room.machine.state;
    if (state === undefined || applied.entry.actor.type !== "user") return;
    const actor = applied.entry.actor.user;
    const changes = membershipChanges(applied.before, state);
    // Streams first: a joiner's sockets then receive the join event itself,
    // and a banned user's sockets stop before anything else is sent.
    for (const change of changes) {
      const reads = change.after === "joined";
      if (reads !== (change.before === "joined")) {
        this.#dependencies.readers.readerChanged(room.roomId, change.user, reads);
      }
    }
    await this.#dependencies.events.append(
      controlEvent({
        roomId: room.roomId,
        actor,
        index: applied.index,
        entryBytes: applied.entryBytes,
        acceptedAtMs: this.#dependencies.nowMs(),
      }),
    );
    await this.#sendNotices(room.roomId, state, actor, applied, changes);
    const snapshot =
      applied.index === 1 || applied.index % roomSnapshotIntervalEntries === 0
        ? encodeRoomSnapshot(state)
        : undefined;
    await this.#dependencies.storage.rooms.recordApplied({
      roomId: room.roomId,
      appliedIndex: applied.index,
      membershipChanges: changes.map((change) => ({
        userId: change.user,
        membership: toStoredMembership(change.after),
      })),
      ...(snapshot === undefined ? {} : { snapshot }),
    });
  }

  /** Users who will not see the control event in the room's stream hear of it in their queue. */
  async #sendNotices(
    roomId: RoomId,
    state: RoomState,
    actor: UserId,
    applied: UnrecordedEntry,
    changes: readonly MembershipChange[],
  ): Promise<void> {
    const id = `room:${roomId}:${applied.index}`;
    for (const change of changes) {
      if (change.after === "joined") continue;
      const reason = "reason" in applied.entry.action ? applied.entry.action.reason : undefined;
      const body = {
        type: change.after === "invited" ? "invite" : "membership",
        roomId,
        membership: change.after,
        by: actor,
        logIndex: applied.index,
        name: state.name,
        ...(reason === undefined ? {} : { reason }),
      };
      const kind = change.after === "invited" ? "invite" : "membership";
      await this.#dependencies.notices.send([change.user], { id, kind, body });
    }
  }
}
