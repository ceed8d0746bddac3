import {
  deviceIdFromPublicKey,
  keyPairFromSeed,
  nobleSignatureProvider,
  parseUserId,
  roomIdFromBytes,
  type UserId,
} from "@parley/protocol";
import { describe, expect, test } from "vitest";
import type { ControlEntry, MlsDevice, MlsPart, RoomAction } from "./actions.ts";
import { type CommitEffect, commitClaimViolation } from "./commit-claims.ts";
import { decodeControlEntry, encodeControlEntry } from "./entry-codec.ts";
import { RoomStateMachine } from "./machine.ts";
import { decodeRoomSnapshot, encodeRoomSnapshot } from "./snapshot.ts";
import { membershipOf, type RoomState } from "./state.ts";

const alice = parseUserId("alice@a.example");
const bob = parseUserId("bob@b.example");
const carol = parseUserId("carol@c.example");
const device = (fill: number) =>
  deviceIdFromPublicKey(
    keyPairFromSeed(nobleSignatureProvider, new Uint8Array(32).fill(fill + 1)).publicKey,
  );
const aliceDevice: MlsDevice = { user: alice, device: device(0) };
const bobDevice: MlsDevice = { user: bob, device: device(1) };
const carolDevice: MlsDevice = { user: carol, device: device(2) };

function group(epoch: number): MlsPart {
  return {
    epoch,
    commit: null,
    groupInfo: new Uint8Array([epoch, 1]),
    ratchetTree: new Uint8Array([epoch, 2]),
    welcome: null,
    added: [],
  };
}

function commit(epoch: number, added: readonly MlsDevice[] = []): MlsPart {
  return {
    ...group(epoch),
    commit: new Uint8Array([epoch, 3]),
    welcome: added.length > 0 ? new Uint8Array([4]) : null,
    added,
  };
}

function entry(user: UserId, action: RoomAction, mls?: MlsPart): ControlEntry {
  const base = { actor: { type: "user", user }, action, proposedAtMs: 5 } as const;
  return mls === undefined ? base : { ...base, mls };
}

function encryptedRoom(): RoomStateMachine {
  const machine = new RoomStateMachine();
  const create: RoomAction = {
    type: "create",
    roomId: roomIdFromBytes(new Uint8Array(16).fill(7)),
    kind: "encrypted",
    contentType: "text/plain",
    name: "Secret",
    topic: "",
    joinRule: "invite",
    sponsorPolicy: { mode: "invited-by-admin", sponsorsMax: 7 },
  };
  expect(machine.apply(entry(alice, create, group(0)), 1).verdict).toBe("accepted");
  return machine;
}

function stateOf(machine: RoomStateMachine): RoomState {
  const state = machine.state;
  if (state === undefined) throw new Error("no room");
  return state;
}

describe("encrypted rooms in the state machine", () => {
  test("the create entry carries the group at epoch 0, and a plain room none", () => {
    const machine = encryptedRoom();
    expect(stateOf(machine).mls).toEqual({
      epoch: 0,
      sinceIndex: 1,
      groupInfo: new Uint8Array([0, 1]),
      ratchetTree: new Uint8Array([0, 2]),
      welcome: null,
      added: [],
    });
    const bare = new RoomStateMachine();
    const create = entry(alice, {
      type: "create",
      roomId: roomIdFromBytes(new Uint8Array(16).fill(7)),
      kind: "encrypted",
      contentType: "text/plain",
      name: "",
      topic: "",
      joinRule: "invite",
      sponsorPolicy: { mode: "invited-by-admin", sponsorsMax: 7 },
    });
    expect(bare.apply(create, 1)).toMatchObject({ verdict: "rejected", code: "invalid_entry" });
  });

  test("the first commit of an epoch wins and a second one is stale", () => {
    const machine = encryptedRoom();
    const invite = machine.apply(
      entry(alice, { type: "invite", target: bob }, commit(0, [bobDevice])),
      2,
    );
    expect(invite.verdict).toBe("accepted");
    expect(stateOf(machine).mls?.epoch).toBe(1);
    expect(membershipOf(stateOf(machine), bob)).toBe("invited");
    const late = machine.apply(
      entry(alice, { type: "invite", target: carol }, commit(0, [carolDevice])),
      3,
    );
    expect(late).toMatchObject({ verdict: "rejected", code: "mls_stale_epoch" });
    expect(stateOf(machine).mls?.epoch).toBe(1);
    expect(membershipOf(stateOf(machine), carol)).toBe("none");
    const retry = machine.apply(
      entry(alice, { type: "invite", target: carol }, commit(1, [carolDevice])),
      4,
    );
    expect(retry.verdict).toBe("accepted");
    expect(stateOf(machine).mls).toMatchObject({ epoch: 2, sinceIndex: 4 });
  });

  test("invite, kick and ban carry a commit; an invited user joins without one", () => {
    const machine = encryptedRoom();
    expect(machine.apply(entry(alice, { type: "invite", target: bob }), 2)).toMatchObject({
      verdict: "rejected",
      code: "mls_rule_violation",
    });
    machine.apply(entry(alice, { type: "invite", target: bob }, commit(0, [bobDevice])), 3);
    expect(machine.apply(entry(bob, { type: "join" }), 4).verdict).toBe("accepted");
    expect(stateOf(machine).mls?.epoch).toBe(1);
    expect(machine.apply(entry(carol, { type: "join" }), 5)).toMatchObject({
      verdict: "rejected",
      code: "mls_rule_violation",
    });
    const refusedKick = machine.apply(
      entry(bob, { type: "kick", target: alice, reason: "" }, commit(1)),
      6,
    );
    expect(refusedKick).toMatchObject({ verdict: "rejected", code: "forbidden" });
    expect(stateOf(machine).mls?.epoch).toBe(1);
    expect(machine.apply(entry(alice, { type: "mls-commit" }), 7)).toMatchObject({
      verdict: "rejected",
      code: "invalid_entry",
    });
  });

  test("a Welcome comes exactly with added devices; a plain room takes no MLS", () => {
    const machine = encryptedRoom();
    const noWelcome = { ...commit(0, [bobDevice]), welcome: null };
    expect(
      machine.apply(entry(alice, { type: "invite", target: bob }, noWelcome), 2),
    ).toMatchObject({
      verdict: "rejected",
      code: "mls_rule_violation",
    });
    const plain = new RoomStateMachine();
    plain.apply(
      entry(alice, {
        type: "create",
        roomId: roomIdFromBytes(new Uint8Array(16).fill(8)),
        kind: "plain",
        contentType: "text/plain",
        name: "",
        topic: "",
        joinRule: "invite",
        sponsorPolicy: { mode: "invited-by-admin", sponsorsMax: 7 },
      }),
      1,
    );
    expect(plain.apply(entry(alice, { type: "mls-commit" }, commit(0)), 2)).toMatchObject({
      verdict: "rejected",
      code: "invalid_entry",
    });
  });

  test("entries and snapshots with MLS survive their codecs byte for byte", () => {
    const machine = encryptedRoom();
    const invite = entry(alice, { type: "invite", target: bob }, commit(0, [bobDevice]));
    const bytes = encodeControlEntry(invite);
    expect(encodeControlEntry(decodeControlEntry(bytes))).toEqual(bytes);
    machine.apply(decodeControlEntry(bytes), 2);
    const snapshot = encodeRoomSnapshot(stateOf(machine));
    const restored = decodeRoomSnapshot(snapshot);
    expect(restored.mls).toEqual(stateOf(machine).mls);
    expect(encodeRoomSnapshot(restored)).toEqual(snapshot);
    const plainEntry = entry(alice, { type: "leave" });
    expect(Object.keys(decodeControlEntry(encodeControlEntry(plainEntry)))).not.toContain("mls");
  });
});

describe("a commit must do what its action claims", () => {
  function roomWithBob(): RoomState {
    const machine = encryptedRoom();
    machine.apply(entry(alice, { type: "invite", target: bob }, commit(0, [bobDevice])), 2);
    machine.apply(entry(bob, { type: "join" }), 3);
    return stateOf(machine);
  }
  const effect = (overrides: Partial<CommitEffect>): CommitEffect => ({
    committer: aliceDevice,
    externalJoin: false,
    added: [],
    removed: [],
    devicesAfter: [aliceDevice, bobDevice],
    ...overrides,
  });

  test("an invite adds the invitee's devices and nobody else's", () => {
    const state = roomWithBob();
    const invite = entry(alice, { type: "invite", target: carol }, commit(1, [carolDevice]));
    const honest = effect({
      added: [carolDevice],
      devicesAfter: [aliceDevice, bobDevice, carolDevice],
    });
    expect(commitClaimViolation(state, invite, honest)).toBeNull();
    const eve: MlsDevice = { user: parseUserId("eve@e.example"), device: device(4) };
    const hidden = effect({
      added: [carolDevice, eve],
      devicesAfter: [aliceDevice, bobDevice, carolDevice, eve],
    });
    expect(commitClaimViolation(state, invite, hidden)).toMatch(/eve@e.example/);
    expect(
      commitClaimViolation(state, invite, effect({ committer: bobDevice, added: [carolDevice] })),
    ).toMatch(/committer/);
  });

  test("no hidden removes, and a kick removes every device of its target", () => {
    const state = roomWithBob();
    const update = entry(alice, { type: "mls-commit" }, commit(1));
    expect(commitClaimViolation(state, update, effect({}))).toBeNull();
    expect(
      commitClaimViolation(
        state,
        update,
        effect({ removed: [bobDevice], devicesAfter: [aliceDevice] }),
      ),
    ).toMatch(/removes a device of bob/);
    const kick = entry(alice, { type: "kick", target: bob, reason: "" }, commit(1));
    expect(commitClaimViolation(state, kick, effect({}))).toMatch(/leaves a device of bob/);
    expect(
      commitClaimViolation(
        state,
        kick,
        effect({ removed: [bobDevice], devicesAfter: [aliceDevice] }),
      ),
    ).toBeNull();
  });

  test("after a leave, the next commit removes the leaver's devices", () => {
    const machine = encryptedRoom();
    machine.apply(entry(alice, { type: "invite", target: bob }, commit(0, [bobDevice])), 2);
    machine.apply(entry(bob, { type: "join" }), 3);
    machine.apply(entry(bob, { type: "leave" }), 4);
    const state = stateOf(machine);
    const update = entry(alice, { type: "mls-commit" }, commit(1));
    expect(commitClaimViolation(state, update, effect({}))).toMatch(/leaves a device of bob/);
    expect(
      commitClaimViolation(
        state,
        update,
        effect({ removed: [bobDevice], devicesAfter: [aliceDevice] }),
      ),
    ).toBeNull();
  });
});
