import { makeUserId, type RoomId, type ServerName, type UserId } from "@parley/protocol";
import type { ControlEntry, RoomAction } from "@parley/room";
import type { Random, SimulatedScheduler } from "@parley/simulation";
import type { SimulatedServer } from "./simulated-server.ts";

export interface SimulatedUser {
  readonly user: UserId;
  readonly server: SimulatedServer;
  /** Anchors never leave and are never removed, so every server keeps a reason to follow the room. */
  readonly anchor: boolean;
}

/**
 * The random workload: users posting messages and changing the room through
 * their own servers. Every request gets a fresh request id; every message a
 * fresh client id. Many control actions are refused by the room's rules
 * (inviting someone already joined, a member trying to ban): that is part of
 * the workload, since refusals must be identical everywhere too.
 */
export class Workload {
  readonly users: SimulatedUser[] = [];
  #requestId = 0;
  #clientId = 0;

  constructor(
    private readonly random: Random,
    private readonly scheduler: SimulatedScheduler,
    servers: readonly SimulatedServer[],
    usersPerServer: number,
  ) {
    for (const server of servers) {
      for (let number = 1; number <= usersPerServer; number += 1) {
        this.users.push({
          user: makeUserId(`u${number}`, server.name),
          server,
          anchor: number === 1,
        });
      }
    }
  }

  nextRequestId(): number {
    this.#requestId += 1;
    return this.#requestId;
  }

  entry(actor: UserId, action: RoomAction): ControlEntry {
    return { actor: { type: "user", user: actor }, action, proposedAtMs: this.scheduler.nowMs() };
  }

  serverEntry(actor: ServerName, action: RoomAction): ControlEntry {
    return {
      actor: { type: "server", server: actor },
      action,
      proposedAtMs: this.scheduler.nowMs(),
    };
  }

  propose(room: RoomId, user: SimulatedUser, action: RoomAction): number {
    const requestId = this.nextRequestId();
    const entry = this.entry(user.user, action);
    user.server.run((host) => host.proposeControl(room, entry, requestId));
    return requestId;
  }

  /** Sends a message from `user`, telling `noteRequest` its request id first (its answer may come at once). */
  sendMessage(
    room: RoomId,
    user: SimulatedUser,
    noteRequest: (requestId: number) => void = () => {},
  ): void {
    this.#clientId += 1;
    const requestId = this.nextRequestId();
    noteRequest(requestId);
    const clientMessageId = `m${this.#clientId}`;
    const body = new TextEncoder().encode(`${user.user} says ${this.#clientId}`);
    user.server.run((host) => host.sendMessage(room, user.user, clientMessageId, body, requestId));
  }

  /**
   * A sponsor-set change, proposed by a random server in its own name: most
   * are refused (only a sponsor may change the set, never below one), the
   * others remove a sponsor (which then follows the room as a leaf) or bring
   * a server in (as a new Raft node, never a reused one).
   */
  changeSponsors(room: RoomId): void {
    const servers = [...new Set(this.users.map((user) => user.server))];
    const proposer = this.random.pick(servers);
    const target = this.random.pick(servers);
    const action: RoomAction = this.random.chance(0.5)
      ? { type: "remove-sponsor", server: target.name }
      : { type: "add-sponsor", server: target.name };
    const entry = this.serverEntry(proposer.name, action);
    const requestId = this.nextRequestId();
    proposer.run((host) => host.proposeControl(room, entry, requestId));
  }

  /** One random action of the chaos phase. */
  act(room: RoomId, controlShare: number, sponsorChangeShare: number): void {
    const user = this.random.pick(this.users);
    if (!this.random.chance(controlShare)) {
      this.sendMessage(room, user);
      return;
    }
    if (this.random.chance(sponsorChangeShare)) {
      this.changeSponsors(room);
      return;
    }
    const creator = this.users[0];
    const churning = this.users.filter((candidate) => !candidate.anchor);
    const target = churning.length === 0 ? undefined : this.random.pick(churning);
    const actor = this.random.chance(0.5) && creator !== undefined ? creator : user;
    const choice = this.random.integerBelow(8);
    if (choice === 0 || target === undefined) {
      this.propose(room, actor, { type: "set-topic", topic: `topic ${this.#requestId}` });
    } else if (choice === 1) {
      this.propose(room, actor, { type: "invite", target: target.user });
    } else if (choice === 2) {
      this.propose(room, target, { type: "join" });
    } else if (choice === 3) {
      this.propose(room, target, { type: "leave" });
    } else if (choice === 4) {
      this.propose(room, actor, { type: "ban", target: target.user, reason: "simulated" });
    } else if (choice === 5) {
      this.propose(room, actor, { type: "unban", target: target.user });
    } else if (choice === 6) {
      this.propose(room, actor, { type: "kick", target: target.user, reason: "simulated" });
    } else {
      const role = this.random.chance(0.5) ? "moderator" : "member";
      this.propose(room, actor, { type: "set-role", target: target.user, role });
    }
  }
}
