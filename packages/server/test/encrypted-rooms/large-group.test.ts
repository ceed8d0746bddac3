// An encrypted room whose group outgrows the old 64 KiB control record
// (docs/protocol.md §10.13, "Limits"): alice (a.test) invites seven users of
// b.test with 32 devices each, one commit per user, so the group reaches 225
// devices and each entry carries a ratchet tree of about 70 KiB. Every commit
// is checked and ordered; the last invitee's device joins from the Welcome
// queued on its own server (with the tree of 225 leaves) and reads alice;
// the commits' control events in the stream and history leave the tree out.

import { newDevice } from "@parley/cli/client";
import * as mls from "@parley/mls";
import { decodeBase64url, parseServerName, type RoomId, type UserId } from "@parley/protocol";
import { decodeControlEntry } from "@parley/room";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlsTestDevice } from "./mls-device.ts";
import { eventually, TestFederation } from "./servers.ts";

const a = parseServerName("a.test");
const b = parseServerName("b.test");
const federation = new TestFederation();
const usersInvited = 7;
const devicesPerUser = 32;

beforeAll(async () => {
  await federation.open([a, b]);
});

afterAll(async () => {
  await federation.close();
});

/** KeyPackages of `count` devices of `user` that never connect: they only fill the tree. */
async function silentDevices(crypto: mls.MlsCrypto, user: UserId, count: number) {
  const packages: Uint8Array[] = [];
  for (let n = 0; n < count; n += 1) {
    const identity = { user, keyPair: newDevice().keyPair };
    const batch = await mls.generateKeyPackages(crypto, identity, { count: 1, nowMs: Date.now() });
    const first = batch.oneTime[0];
    if (first === undefined) throw new Error("no KeyPackage generated");
    packages.push(first.keyPackage);
  }
  return packages;
}

describe("an encrypted room of more than two hundred devices", () => {
  it("orders commits whose entries exceed 64 KiB and delivers the Welcome with the large tree", {
    timeout: 180_000,
  }, async () => {
    const alice = await MlsTestDevice.register("alice", federation.server(a).url, a);
    const roomId: RoomId = await alice.createRoom("large-room");
    let last: MlsTestDevice | undefined;
    let entryBytes = 0;
    let treeBytes = 0;
    for (let invited = 1; invited <= usersInvited; invited += 1) {
      const user = await MlsTestDevice.register(`bulk${invited}`, federation.server(b).url, b);
      await user.publishKeyPackages(1);
      const own = await alice.claimKeyPackages(user.userId);
      const others = await silentDevices(alice.crypto, user.userId, devicesPerUser - own.length);
      const pending = await alice.prepare({ add: [...own, ...others] });
      treeBytes = pending.ratchetTree.length;
      entryBytes = treeBytes + pending.commit.length + (pending.welcome?.length ?? 0);
      const answer = await alice.submit(roomId, { type: "invite", target: user.userId }, pending);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.epoch).toBe(invited);
      last = user;
    }
    if (last === undefined) throw new Error("nobody invited");
    expect(entryBytes).toBeGreaterThan(64 * 1024);
    if (alice.member === undefined) throw new Error("alice is a member");
    const members = mls.membersOfGroup(alice.member);
    expect(members).toHaveLength(1 + usersInvited * devicesPerUser);

    await last.joinFromQueuedWelcome(roomId, 60_000);
    expect(last.epoch).toBe(usersInvited);
    await eventually(async () => {
      await last?.ok("POST", `/rooms/${roomId}/actions`, { action: { type: "join" } });
      return true;
    });
    await alice.sendText(roomId, "two hundred and twenty-five", "large-1");
    // The message travels to b.test; the new member reads it from its own server's history.
    let read: string[] = [];
    for (let attempt = 0; attempt < 100 && read.length === 0; attempt += 1) {
      read = await last.readMessages(roomId);
      if (read.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(last.read).toEqual(["two hundred and twenty-five"]);

    // Every member device gets every control event: without the tree, a
    // commit's event stays small however large the group (§10.7).
    const history = await alice.ok<{
      events: Array<{ kind: string; signed: string; mls?: { commit: string | null } }>;
    }>("GET", `/rooms/${roomId}/history?limit=100`);
    const commits = history.events.filter((event) => event.mls?.commit != null);
    expect(commits.length).toBe(usersInvited);
    for (const event of commits) {
      const entry = decodeControlEntry(decodeBase64url(event.signed));
      expect(entry.mls?.ratchetTree.length).toBe(0);
      // Smaller than the last tree alone, which base64 would make a third larger.
      expect(JSON.stringify(event).length).toBeLessThan(treeBytes);
    }
  });
});
