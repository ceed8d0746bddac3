import { parseServerName, parseUserId, roomIdFromBytes, type UserId } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { ControlEntry, RoomAction } from "./actions.ts";
import { decodeControlEntry, encodeControlEntry } from "./entry-codec.ts";
import { RoomStateMachine } from "./machine.ts";
import { roles } from "./roles.ts";
import { decodeRoomSnapshot, encodeRoomSnapshot } from "./snapshot.ts";
import { joinRules, type RoomState, sponsorModes } from "./state.ts";

const users = [
  "ann@a.example",
  "abe@a.example",
  "bea@b.example",
  "cal@c.example",
  "cid@c.example",
].map(parseUserId);
const servers = ["a.example", "b.example", "c.example"].map(parseServerName);
const creator = users[0] as UserId;

const userArbitrary = fc.constantFrom(...users);
const actionArbitrary: fc.Arbitrary<RoomAction> = fc.oneof(
  userArbitrary.map((target) => ({ type: "invite", target }) as const),
  fc.constant({ type: "join" } as const),
  fc.constant({ type: "knock", reason: "" } as const),
  fc.constant({ type: "leave" } as const),
  userArbitrary.map((target) => ({ type: "kick", target, reason: "" }) as const),
  userArbitrary.map((target) => ({ type: "ban", target, reason: "" }) as const),
  userArbitrary.map((target) => ({ type: "unban", target }) as const),
  fc
    .record({ target: userArbitrary, role: fc.constantFrom(...roles) })
    .map(({ target, role }) => ({ type: "set-role", target, role }) as const),
  fc.constantFrom(...joinRules).map((joinRule) => ({ type: "set-join-rule", joinRule }) as const),
  fc
    .subarray(["a.*", "b.example", "c.example"])
    .map((deny) => ({ type: "set-server-acl", serverAcl: { allow: ["*"], deny } }) as const),
  fc
    .record({ mode: fc.constantFrom(...sponsorModes), sponsorsMax: fc.integer({ min: 1, max: 4 }) })
    .map((sponsorPolicy) => ({ type: "set-sponsor-policy", sponsorPolicy }) as const),
  fc.constantFrom(...servers).map((server) => ({ type: "add-sponsor", server }) as const),
  fc.constantFrom(...servers).map((server) => ({ type: "remove-sponsor", server }) as const),
);
const entryArbitrary: fc.Arbitrary<ControlEntry> = fc
  .record({
    user: userArbitrary,
    server: fc.constantFrom(...servers),
    asServer: fc.boolean(),
    action: actionArbitrary,
  })
  .map(({ user, server, asServer, action }) => ({
    actor: asServer ? { type: "server", server } : { type: "user", user },
    action,
    proposedAtMs: 5,
  }));

const createEntry: ControlEntry = {
  actor: { type: "user", user: creator },
  action: {
    type: "create",
    roomId: roomIdFromBytes(new Uint8Array(16).fill(1)),
    kind: "plain",
    contentType: "text/plain",
    name: "property",
    topic: "",
    joinRule: "open",
    sponsorPolicy: { mode: "invited-by-admin", sponsorsMax: 3 },
  },
  proposedAtMs: 1,
};

function hasJoinedAdmin(state: RoomState): boolean {
  return [...state.members.values()].some((r) => r.membership === "joined" && r.role === "admin");
}

function hasJoined(state: RoomState): boolean {
  return [...state.members.values()].some((r) => r.membership === "joined");
}

describe("the room state machine under random logs", () => {
  test("is deterministic, survives snapshots, and keeps its invariants", () => {
    fc.assert(
      fc.property(fc.array(entryArbitrary, { maxLength: 60 }), fc.nat(60), (entries, cut) => {
        const log = [createEntry, ...entries].map((entry) =>
          decodeControlEntry(encodeControlEntry(entry)),
        );
        const first = new RoomStateMachine();
        const second = new RoomStateMachine();
        let restored: RoomStateMachine | undefined;
        log.forEach((entry, position) => {
          const index = position + 1;
          const before = first.state === undefined ? undefined : encodeRoomSnapshot(first.state);
          const adminBefore = first.state !== undefined && hasJoinedAdmin(first.state);
          const outcome = first.apply(entry, index);
          second.apply(entry, index);
          restored?.apply(entry, index);
          const state = first.state;
          if (state === undefined) throw new Error("create must apply");
          const bytes = encodeRoomSnapshot(state);
          // Same log, same bytes: on a twin, and on a machine restored from a snapshot mid-log.
          expect(encodeRoomSnapshot(second.state as RoomState)).toEqual(bytes);
          if (restored !== undefined)
            expect(encodeRoomSnapshot(restored.state as RoomState)).toEqual(bytes);
          if (position === cut) restored = new RoomStateMachine(decodeRoomSnapshot(bytes));
          // A refused entry changes nothing but the applied index.
          if (outcome.verdict === "rejected" && before !== undefined) {
            expect(decodeRoomSnapshot(before).members).toEqual(state.members);
          }
          expect([...state.sponsors].sort()).toEqual(state.sponsors);
          expect(new Set(state.sponsors).size).toBe(state.sponsors.length);
          expect(state.sponsors.length).toBeGreaterThanOrEqual(1);
          // A room with members never loses its last admin by any entry.
          if (adminBefore && hasJoined(state)) expect(hasJoinedAdmin(state)).toBe(true);
          for (const record of state.members.values()) {
            if (record.membership !== "joined" && record.membership !== "invited") {
              expect(record.role).toBe("member");
            }
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
