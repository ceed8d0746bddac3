// The room service: every change of room state goes through the federation
// core (FederationHost, driven by FederationDriver). A room is created as a
// Raft group of which this server is the first sponsor (a group of one
// commits at once); an action is proposed to the room's group — checked by
// the sponsor that proposes it, committed, applied in log order by every
// server of the room — and the client is answered once the committed entry
// is durable here and projected into the client-facing tables
// (federation/projection). Reads of room state come from the core's applied
// state.
//
// A user's server that does not take part in a room yet follows it as a leaf
// when the user joins through `via` servers; its users' actions travel to a
// sponsor.

import { createHmac } from "node:crypto";
import {
  ParleyError,
  parseServerName,
  type RoomId,
  roomIdFromBytes,
  type ServerName,
  type UserId,
} from "@parley/protocol";
import {
  authorizeMessage,
  type ControlEntry,
  type JoinRule,
  parseRoomAction,
  type RoomState,
} from "@parley/room";
import type { FederationRuntime } from "../federation/federation-runtime.ts";
import { followReadyTimeoutMs, joinViaServersMax } from "../federation/limits.ts";
import { refuseBlockedParticipant } from "../federation/server-blocks.ts";
import type { AppendOutcome, NewEvent } from "../storage/records.ts";
import type { Storage, TransactionWrite } from "../storage/storage.ts";
import { controlEventContentType } from "./control-events.ts";
import { KeyedLock } from "./keyed-lock.ts";
import { roomRefusal } from "./room-refusals.ts";
import { outcomeError } from "./submission-outcomes.ts";
import { rebuildVolatileRoom } from "./volatile-rebuild.ts";

/** Appends events to the stream in order with messages (the group committer). */
export interface EventAppender {
  append(event: NewEvent): Promise<AppendOutcome>;
  /** Stores the events with `alongside` written in the same transaction (GroupCommitter). */
  appendAll(events: readonly NewEvent[], alongside: TransactionWrite): Promise<AppendOutcome[]>;
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
  readonly federation: FederationRuntime;
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
  /** An encrypted room: the creator's new group at epoch 0, checked by `checkGroup` first. */
  readonly encrypted?: {
    readonly groupInfo: Uint8Array;
    readonly ratchetTree: Uint8Array;
    readonly checkGroup: (roomId: RoomId) => Promise<void>;
  };
}

/** The creating server sponsors; an admin's invitee brings their server in (room limits allow 31). */
const defaultSponsorPolicy = { mode: "invited-by-admin", sponsorsMax: 7 } as const;

/** How often a join through other servers looks whether the room's state has arrived. */
const followPollMs = 50;

export class RoomService {
  readonly #dependencies: RoomServiceDependencies;
  readonly #locks = new KeyedLock();

  constructor(dependencies: RoomServiceDependencies) {
    this.#dependencies = dependencies;
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
      kind: input.encrypted === undefined ? "plain" : "encrypted",
      contentType: input.contentType,
      name: input.name,
      topic: input.topic,
      joinRule: input.joinRule,
      sponsorPolicy: defaultSponsorPolicy,
    });
    return this.#locks.run(roomId, async () => {
      const existing = await this.appliedState(roomId);
      if (existing !== undefined) {
        if (existing.creator !== actor.userId) {
          throw new ParleyError("conflict", "a room with this id exists");
        }
        return { roomId, logIndex: 1, duplicate: true };
      }
      const encrypted = input.encrypted;
      const base = {
        actor: { type: "user", user: actor.userId },
        action,
        proposedAtMs: this.#dependencies.nowMs(),
      } as const;
      let entry: ControlEntry = base;
      if (encrypted !== undefined) {
        await encrypted.checkGroup(roomId);
        const { groupInfo, ratchetTree } = encrypted;
        const group = { epoch: 0, commit: null, welcome: null, added: [] } as const;
        entry = { ...base, mls: { ...group, groupInfo, ratchetTree } };
      }
      await this.#dependencies.federation.driver.createRoom(entry);
      return { roomId, logIndex: 1, duplicate: false };
    });
  }

  /**
   * Proposes one action; answers the control index it applied at. A user
   * whose server does not take part in the room names servers that do
   * (`via`): this server then follows the room as a leaf first.
   */
  async act(
    actor: Actor,
    roomId: RoomId,
    actionValue: unknown,
    via: readonly string[] = [],
  ): Promise<{ logIndex: number }> {
    const action = parseRoomAction(actionValue);
    if (action.type === "create") {
      throw new ParleyError("bad_structure", "rooms are created with POST /rooms");
    }
    if ((await this.appliedState(roomId)) === undefined) {
      await this.follow(roomId, via);
    }
    const entry: ControlEntry = {
      actor: { type: "user", user: actor.userId },
      action,
      proposedAtMs: this.#dependencies.nowMs(),
    };
    const federation = this.#dependencies.federation;
    refuseBlockedParticipant(entry, (server) => federation.isBlocked(server));
    const outcome = await federation.driver.proposeControl(roomId, entry);
    if (outcome.kind !== "committed") throw outcomeError(outcome);
    if (outcome.outcome.verdict === "rejected") {
      throw roomRefusal(outcome.outcome.code, outcome.outcome.reason);
    }
    return { logIndex: outcome.index };
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

  /** May `user` post now, as far as this server knows? Answers the room's state. */
  async authorizeMessage(roomId: RoomId, user: UserId): Promise<RoomState> {
    const state = await this.#stateOf(roomId);
    const verdict = authorizeMessage(state, user);
    if (!verdict.allowed) throw roomRefusal(verdict.code, verdict.reason);
    return state;
  }

  async #stateOf(roomId: RoomId): Promise<RoomState> {
    const state = await this.appliedState(roomId);
    if (state === undefined) throw new ParleyError("not_found", "no such room");
    return state;
  }

  /** The core's applied state of the room, if this server takes part in it. */
  async appliedState(roomId: RoomId): Promise<RoomState | undefined> {
    const runtime = this.#dependencies.federation;
    const state = runtime.driver.view((host) => host.session(roomId)?.replica.state);
    if (state !== undefined || runtime.durable) return state;
    // Until the core's storage is durable, a restart forgets rooms the
    // projection still has: created here, they are rebuilt from it.
    await this.#locks.run(`rebuild:${roomId}`, () =>
      rebuildVolatileRoom(this.#dependencies.storage, runtime.driver, roomId),
    );
    return runtime.driver.view((host) => host.session(roomId)?.replica.state);
  }

  /** Follows a room as a leaf through `via` and waits (bounded) until its state is here. */
  async follow(roomId: RoomId, via: readonly string[]): Promise<void> {
    const driver = this.#dependencies.federation.driver;
    const named = parseVia(via).filter((server) => server !== driver.self);
    const federation = this.#dependencies.federation;
    const contacts = named.filter((server) => !federation.isBlocked(server));
    if (contacts.length === 0 && named.length > 0) {
      throw new ParleyError("forbidden", "every server named in via is blocked by this server");
    }
    if (contacts.length === 0) throw new ParleyError("not_found", "no such room");
    await driver.followRoom(roomId, contacts);
    // Bounded by the time limit: each pass waits followPollMs.
    const deadline = this.#dependencies.nowMs() + followReadyTimeoutMs;
    while (this.#dependencies.nowMs() < deadline) {
      const ready = driver.view((host) => {
        const session = host.session(roomId);
        if (session?.replica.state === undefined) return false;
        return session.isSponsor || session.attachment.acknowledged;
      });
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, followPollMs));
    }
    throw new ParleyError(
      "unavailable",
      "none of the named servers let this server follow the room in time; retry",
    );
  }
}

function parseVia(via: readonly string[]): ServerName[] {
  if (via.length > joinViaServersMax) {
    throw new ParleyError("bad_structure", `name at most ${joinViaServersMax} servers in via`);
  }
  return via.map((server) => parseServerName(server));
}
