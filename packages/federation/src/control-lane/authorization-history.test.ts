import { makeUserId, roomIdFromBytes, type ServerName, type UserId } from "@parley/protocol";
import {
  authorizeMessage,
  type ControlEntry,
  decodeRoomSnapshot,
  encodeRoomSnapshot,
  type RoomAction,
  type RoomState,
} from "@parley/room";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeControlRecord } from "./control-record.ts";
import { RoomReplica } from "./room-replica.ts";

const servers = ["a.test", "b.test", "c.test"] as ServerName[];
const users = servers.flatMap((server) => ["u1", "u2"].map((local) => makeUserId(local, server)));
const creator = users[0] as UserId;
const creatorServer = servers[0] as ServerName;
const room = roomIdFromBytes(new Uint8Array(16).fill(5));

const actionArbitrary: fc.Arbitrary<{ actor: number; action: RoomAction | "sponsor" }> = fc.record({
  actor: fc.integer({ min: 0, max: users.length - 1 }),
  action: fc.oneof(
    fc.constant<RoomAction>({ type: "join" }),
    fc.constant<RoomAction>({ type: "leave" }),
    fc.constantFrom(...users).map((target): RoomAction => ({ type: "invite", target })),
    fc.constantFrom(...users).map((target): RoomAction => ({ type: "ban", target, reason: "" })),
    fc.constantFrom(...users).map((target): RoomAction => ({ type: "unban", target })),
    fc.constantFrom(...users).map((target): RoomAction => ({ type: "kick", target, reason: "" })),
    fc
      .tuple(
        fc.constantFrom(...users),
        fc.constantFrom("member", "moderator") as fc.Arbitrary<"member" | "moderator">,
      )
      .map(([target, role]): RoomAction => ({ type: "set-role", target, role })),
    fc.constantFrom("member", "moderator", "admin").map(
      (post): RoomAction => ({
        type: "set-permissions",
        permissions: {
          invite: "member",
          kick: "moderator",
          ban: "moderator",
          setName: "moderator",
          setTopic: "moderator",
          setJoinRule: "admin",
          setRoles: "admin",
          setPermissions: "admin",
          setServerAcl: "admin",
          setSponsorPolicy: "admin",
          post: post as "member",
          redactOthers: "moderator",
        },
      }),
    ),
    fc
      .constantFrom([], ["c.test"])
      .map((deny): RoomAction => ({ type: "set-server-acl", serverAcl: { allow: ["*"], deny } })),
    fc.constant<"sponsor">("sponsor"),
  ),
});

function entryFor(
  step: { actor: number; action: RoomAction | "sponsor" },
  index: number,
): ControlEntry {
  if (step.action === "sponsor") {
    const server = servers[step.actor % servers.length] as ServerName;
    const action: RoomAction =
      index % 2 === 0 ? { type: "add-sponsor", server } : { type: "remove-sponsor", server };
    return {
      actor: { type: "server", server: "a.test" as ServerName },
      action,
      proposedAtMs: index,
    };
  }
  return {
    actor: { type: "user", user: users[step.actor] as UserId },
    action: step.action,
    proposedAtMs: index,
  };
}

describe("authorization history", () => {
  it("answers like the full state at every past index (checked against snapshots)", () => {
    fc.assert(
      fc.property(
        fc.array(actionArbitrary, { maxLength: 40 }),
        fc.constantFrom(undefined, 3, 10),
        (steps, changesMax) => {
          const replica = RoomReplica.empty(room, changesMax);
          const create: ControlEntry = {
            actor: { type: "user", user: creator },
            action: {
              type: "create",
              roomId: room,
              kind: "plain",
              contentType: "text/plain",
              name: "history",
              topic: "",
              joinRule: "open",
              sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
            },
            proposedAtMs: 0,
          };
          const states: RoomState[] = [];
          const apply = (entry: ControlEntry) => {
            replica.apply(
              encodeControlRecord({ entry, proposer: "a.test" as ServerName, proposalId: 0 }),
            );
            const state = replica.state;
            if (state !== undefined)
              states[state.appliedIndex] = decodeRoomSnapshot(encodeRoomSnapshot(state));
          };
          apply(create);
          for (const [position, step] of steps.entries()) apply(entryFor(step, position));
          const horizon = replica.authorizationHorizon;
          if (changesMax === undefined) expect(horizon).toBe(0);
          for (let index = 1; index <= replica.appliedIndex; index += 1) {
            const state = states[index] as RoomState;
            if (index < horizon) {
              expect(replica.recheck(index, creatorServer, creator).verdict).toBe("forgotten");
              continue;
            }
            for (const origin of servers) {
              for (const sender of users) {
                const decision = authorizeMessage(state, sender);
                const expected = !state.sponsors.includes(origin)
                  ? { verdict: "refused", code: "not_sponsor" }
                  : decision.allowed
                    ? { verdict: "allowed" }
                    : { verdict: "refused", code: decision.code };
                expect(replica.recheck(index, origin, sender)).toEqual(expected);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("answers forgotten before the index it started from", () => {
    const replica = RoomReplica.empty(room);
    replica.apply(
      encodeControlRecord({
        entry: {
          actor: { type: "user", user: creator },
          action: {
            type: "create",
            roomId: room,
            kind: "plain",
            contentType: "text/plain",
            name: "history",
            topic: "",
            joinRule: "open",
            sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
          },
          proposedAtMs: 0,
        },
        proposer: "a.test" as ServerName,
        proposalId: 0,
      }),
    );
    const restored = RoomReplica.fromSnapshot(room, replica.snapshot());
    expect(restored.recheck(1, "a.test" as ServerName, creator).verdict).toBe("allowed");
    expect(restored.recheck(0, "a.test" as ServerName, creator).verdict).toBe("forgotten");
  });
});
