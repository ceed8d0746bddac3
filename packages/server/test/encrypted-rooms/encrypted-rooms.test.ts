// Encrypted rooms across three homeservers (docs/protocol.md §10.13), with
// @parley/mls as the client: alice (a.test) creates a room and adds bob
// (b.test) and carol (c.test) with Welcomes that wait in their device
// queues until they connect; they chat; bob and carol commit at once and
// one is told "stale epoch", processes the winner and retries; alice kicks
// carol, who cannot read what follows. Then every database file and every
// federation frame is searched for the plaintext, which is nowhere.

import { parseServerName, type RoomId } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlsTestDevice } from "./mls-device.ts";
import { containsBytes, eventually, TestFederation } from "./servers.ts";

const a = parseServerName("a.test");
const b = parseServerName("b.test");
const c = parseServerName("c.test");
const d = parseServerName("d.test");
const federation = new TestFederation();
const secret = "the eagle lands at dawn";
const plainMarker = "this plain room text is meant to be stored";

beforeAll(async () => {
  await federation.open([a, b, c, d]);
});

afterAll(async () => {
  await federation.close();
});

async function device(name: string, server: typeof a): Promise<MlsTestDevice> {
  return MlsTestDevice.register(name, federation.server(server).url, server);
}

async function joinRoom(member: MlsTestDevice, roomId: RoomId): Promise<void> {
  await eventually(async () => {
    await member.ok("POST", `/rooms/${roomId}/actions`, { action: { type: "join" } });
    return true;
  });
}

async function roomEpoch(member: MlsTestDevice, roomId: RoomId): Promise<number> {
  const state = await member.ok<{ mls: { epoch: number } }>("GET", `/rooms/${roomId}`);
  return state.mls.epoch;
}

describe("an encrypted room across three servers", () => {
  let alice: MlsTestDevice;
  let bob: MlsTestDevice;
  let carol: MlsTestDevice;
  let roomId: RoomId;

  it("creates the room with the creator's group and adds members whose Welcomes wait in their queues", {
    timeout: 90_000,
  }, async () => {
    alice = await device("alice", a);
    bob = await device("bob", b);
    carol = await device("carol", c);
    await bob.publishKeyPackages(3);
    await carol.publishKeyPackages(3);
    roomId = await alice.createRoom("secret-room");
    expect(await roomEpoch(alice, roomId)).toBe(0);

    // Bob's KeyPackage is claimed from b.test over federation; bob has never connected.
    const bobPackages = await claimed(alice, bob);
    const inviteBob = await alice.prepare({ add: bobPackages });
    const invited = await alice.submit(roomId, { type: "invite", target: bob.userId }, inviteBob);
    expect(invited.status).toBe(200);
    expect(invited.body.epoch).toBe(1);

    // A commit that adds a device its action does not name is refused (no hidden adds).
    const carolPackages = await claimed(alice, carol);
    const hidden = await alice.prepare({ add: carolPackages });
    const refused = await alice.submit(roomId, { type: "mls-commit" }, hidden);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("mls_rule_violation");
    expect(alice.epoch).toBe(1);

    const inviteCarol = await alice.prepare({ add: await claimed(alice, carol) });
    const invitedCarol = await alice.submit(
      roomId,
      { type: "invite", target: carol.userId },
      inviteCarol,
    );
    expect(invitedCarol.status).toBe(200);
    expect(invitedCarol.body.epoch).toBe(2);

    // Offline until now: each device finds its Welcome in its queue when it connects.
    await bob.joinFromQueuedWelcome(roomId);
    expect(bob.epoch).toBe(1);
    await carol.joinFromQueuedWelcome(roomId);
    expect(carol.epoch).toBe(2);
    await joinRoom(bob, roomId);
    await joinRoom(carol, roomId);
    // Bob catches up on the commit that added carol.
    await eventually(async () => ((await bob.catchUp(roomId)) > 0 ? true : undefined));
    expect(bob.epoch).toBe(2);
  });

  it("carries PrivateMessages that every member decrypts", async () => {
    await alice.sendText(roomId, secret, "m1");
    await bob.sendText(roomId, "bob was here", "m2");
    for (const member of [alice, bob, carol]) {
      await eventually(async () => {
        expect(await member.readMessages(roomId)).toEqual([]);
        const expected =
          member === alice
            ? ["bob was here"]
            : member === bob
              ? [secret]
              : [secret, "bob was here"];
        return expected.every((text) => member.read.includes(text)) ? true : undefined;
      });
    }
  });

  it("orders two commits of one epoch: one wins, the other is stale, processes the winner and retries", async () => {
    const fromBob = await bob.prepare({});
    const fromCarol = await carol.prepare({});
    const [bobAnswer, carolAnswer] = await Promise.all([
      bob.submit(roomId, { type: "mls-commit" }, fromBob),
      carol.submit(roomId, { type: "mls-commit" }, fromCarol),
    ]);
    const statuses = [bobAnswer.status, carolAnswer.status].sort();
    expect(statuses).toEqual([200, 409]);
    const [winner, loser, lost, lostPending] =
      bobAnswer.status === 200
        ? [bob, carol, carolAnswer, fromCarol]
        : [carol, bob, bobAnswer, fromBob];
    expect(lost.body.code).toBe("mls_stale_epoch");
    expect(lost.body.epoch).toBe(3);
    expect(winner.epoch).toBe(3);

    // The loser fetches the winning commit, processes it, and retries from the new epoch.
    const page = await loser.ok<{ commits: Array<{ epoch: number; commit: string }> }>(
      "GET",
      `/rooms/${roomId}/mls/commits?from=2`,
    );
    expect(page.commits.map((applied) => applied.epoch)).toEqual([2]);
    const member = loser.member;
    if (member === undefined) throw new Error("not a member");
    const { decodeBase64url } = await import("@parley/protocol");
    const { commitLost } = await import("@parley/mls");
    const first = page.commits[0];
    if (first === undefined) throw new Error("no winner");
    const settled = await commitLost(member, lostPending, decodeBase64url(first.commit), {
      nowMs: Date.now(),
    });
    if (settled.kind !== "retry") throw new Error(`expected a retry, got ${settled.kind}`);
    loser.member = settled.member;
    const retried = await loser.submit(roomId, { type: "mls-commit" }, settled.pending);
    expect(retried.status).toBe(200);
    expect(retried.body.epoch).toBe(4);

    await eventually(async () => ((await winner.catchUp(roomId)) > 0 ? true : undefined));
    await eventually(async () => ((await alice.catchUp(roomId)) > 0 ? true : undefined));
    expect([alice.epoch, bob.epoch, carol.epoch]).toEqual([4, 4, 4]);
  });

  it("removes a kicked member, who cannot read what follows", async () => {
    const kick = await alice.prepare({ remove: [carol.deviceId as never] });
    const kicked = await alice.submit(
      roomId,
      { type: "kick", target: carol.userId, reason: "done" },
      kick,
    );
    expect(kicked.status).toBe(200);
    await eventually(async () => ((await bob.catchUp(roomId)) > 0 ? true : undefined));
    // Carol processes the commit that removed her (it reached her before her access ended).
    const removed = await carol.processCommit(kick.commit);
    expect(removed.kind).toBe("removed");
    await alice.sendText(roomId, "after carol left", "m3");
    await eventually(async () => {
      await bob.readMessages(roomId);
      return bob.read.includes("after carol left") ? true : undefined;
    });
    const history = await carol.call<{ code: string }>("GET", `/rooms/${roomId}/messages`);
    expect(history.status).toBe(403);
    // Even given the message bytes, her state cannot decrypt them.
    const page = await bob.client.history(roomId, { direction: "backward", limit: 1 });
    const last = page.events[0];
    if (last === undefined) throw new Error("no message");
    const { decodeBase64url, verifyStoredRoomMessage } = await import("@parley/protocol");
    const { nodeSignatureProvider } = await import("@parley/protocol/node");
    const { processMessage } = await import("@parley/mls");
    const body = verifyStoredRoomMessage(
      nodeSignatureProvider,
      decodeBase64url(last.signed),
      decodeBase64url(last.signature ?? ""),
    ).body;
    const carolMember = carol.member;
    if (carolMember === undefined) throw new Error("carol has no state");
    const attempt = await processMessage(carolMember, body);
    expect(attempt.kind).toBe("failed");

    expect(alice.epoch).toBe(5);
    expect(bob.epoch).toBe(5);
    expect(await roomEpoch(alice, roomId)).toBe(5);
    await eventually(async () => ((await roomEpoch(bob, roomId)) === 5 ? true : undefined));
  });

  it("checks a commit submitted through a leaf server at the sponsor before ordering it", {
    timeout: 90_000,
  }, async () => {
    // Bob is no admin, so dave's server follows the room as a leaf (§12.11.3).
    const dave = await device("dave", d);
    await dave.publishKeyPackages(2);
    const inviteDave = await bob.prepare({ add: await claimed(bob, dave) });
    const invited = await bob.submit(roomId, { type: "invite", target: dave.userId }, inviteDave);
    expect(invited.status).toBe(200);
    expect(invited.body.epoch).toBe(6);
    await dave.joinFromQueuedWelcome(roomId);
    await joinRoom(dave, roomId);

    // A hidden add through the leaf is refused by the sponsor's check, not by the leaf.
    const eve = await device("eve", d);
    await eve.publishKeyPackages(1);
    const hidden = await dave.prepare({ add: await claimed(dave, eve) });
    const refused = await dave.submit(roomId, { type: "mls-commit" }, hidden);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("mls_rule_violation");

    const update = await dave.prepare({});
    const updated = await dave.submit(roomId, { type: "mls-commit" }, update);
    expect(updated.status).toBe(200);
    expect(updated.body.epoch).toBe(7);
    await eventually(async () => ((await alice.catchUp(roomId)) > 0 ? true : undefined));
    await eventually(async () => ((await bob.catchUp(roomId)) > 0 ? true : undefined));
    expect([alice.epoch, bob.epoch, dave.epoch]).toEqual([7, 7, 7]);
    await dave.sendText(roomId, "dave from the leaf", "m4");
    await eventually(async () => {
      await alice.readMessages(roomId);
      return alice.read.includes("dave from the leaf") ? true : undefined;
    });
  });

  it("never stores or forwards the plaintext: not in any database file, not in any federation frame", async () => {
    // The search must be able to find something: a plain room's text is stored as sent.
    const { roomId: plainRoom } = await alice.client.createRoom({
      clientId: "plain",
      name: "open",
    });
    await alice.client.send(plainRoom, plainMarker, { clientId: "p1" });
    const files = await federation.storedFiles();
    expect(files.length).toBeGreaterThan(0);
    const encoder = new TextEncoder();
    const marker = encoder.encode(plainMarker);
    expect(files.some((file) => containsBytes(file.bytes, marker))).toBe(true);

    const needles = [secret, "bob was here", "after carol left", "dave from the leaf"].map((text) =>
      encoder.encode(text),
    );
    for (const file of files) {
      for (const needle of needles)
        expect(containsBytes(file.bytes, needle), file.path).toBe(false);
    }
    expect(federation.frames.length).toBeGreaterThan(0);
    for (const frame of federation.frames) {
      for (const needle of needles) expect(containsBytes(frame, needle)).toBe(false);
    }
  });
});

/**
 * KeyPackages of `owner` claimed by `claimer` (each claim spends one-time
 * packages). A claim from another server goes over federation, so the first
 * may find the link not up yet and answer nothing: retried until it does.
 */
async function claimed(claimer: MlsTestDevice, owner: MlsTestDevice): Promise<Uint8Array[]> {
  return eventually(async () => {
    const packages = await claimer.claimKeyPackages(owner.userId);
    return packages.length > 0 ? packages : undefined;
  });
}
