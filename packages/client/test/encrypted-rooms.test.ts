// Encrypted rooms through the SDK against a real homeserver: callers see
// plaintext events exactly as in plain rooms, while the server stores and
// forwards only MLS ciphertexts. Three users chat; one is kicked and cannot
// read what follows; two commits race and both land; a device offline
// across two epochs catches up; a restarted client continues from its store.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ParleyClient as Client,
  type ClientEvent,
  type FetchFunction,
  MemoryStore,
  type ParleyClient,
} from "@parley/client";
import { FileStore, nodeClientOptions } from "@parley/client/node";
import { createMlsCrypto, openMemberState, processMessage } from "@parley/mls";
import { decodeBase64url, type RoomId } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  eventuallyAsync,
  password,
  startTestHomeserver,
  type TestHomeserver,
} from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;
let directory: string;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
  directory = await mkdtemp(join(tmpdir(), "parley-sdk-mls-"));
});

afterAll(async () => {
  await homeserver.close();
  await rm(directory, { recursive: true, force: true });
});

const small = { keyPackagesTarget: 4, keyPackagesRefillBelow: 2 };

/** A user whose device has KeyPackages at the server and whose events are recorded. */
async function member(
  name: string,
  store: MemoryStore | FileStore = new MemoryStore(),
  fetch?: FetchFunction,
) {
  const client = await homeserver.user(name, {
    store,
    encryption: small,
    ...(fetch === undefined ? {} : { fetch }),
  });
  await client.refillKeyPackages();
  const events: ClientEvent[] = [];
  client.onEvent((event) => events.push(event));
  return { client, events, store };
}

/**
 * Makes a commit race certain: once armed, each racer's next commit
 * submission is held until every racer has one in flight, so all were
 * prepared in the same epoch and all but the first ordered must be answered
 * `mls_stale_epoch`, which is counted. Other submissions (before arming, and
 * the losers' retries) pass straight through.
 */
function commitRace(racers: number) {
  const held: Array<() => void> = [];
  const race = { armed: false, stale: 0 };
  const racerFetch = (): FetchFunction => {
    let heldOnce = false;
    return async (url, init) => {
      if (race.armed && !heldOnce && init.method === "POST" && url.endsWith("/mls/commits")) {
        heldOnce = true;
        await new Promise<void>((release) => {
          held.push(release);
          if (held.length === racers) for (const waiting of held) waiting();
        });
      }
      const response = await fetch(url, init);
      const text = await response.text();
      if (!response.ok && text.includes('"mls_stale_epoch"')) race.stale += 1;
      return { ok: response.ok, status: response.status, text: async () => text };
    };
  };
  return { race, racerFetch };
}

function texts(events: readonly ClientEvent[], roomId: RoomId): string[] {
  return events.flatMap((event) =>
    event.type === "message" && event.roomId === roomId ? [event.text ?? ""] : [],
  );
}

function undecryptable(events: readonly ClientEvent[]): ClientEvent[] {
  return events.filter((event) => event.type === "undecryptable");
}

async function sendAccepted(client: ParleyClient, roomId: RoomId, text: string): Promise<void> {
  const message = await client.send(roomId, text);
  const state = await message.settled();
  expect(state.status).toBe("accepted");
}

/** Invites and lets the invitee join once its device joined the group from the Welcome. */
async function bringIn(
  inviter: ParleyClient,
  invitee: ParleyClient,
  roomId: RoomId,
): Promise<void> {
  await inviter.invite(roomId, invitee.userId);
  await invitee.start();
  await eventuallyAsync(async () => (await invitee.encryptionEpoch(roomId)) !== undefined);
  await invitee.join(roomId);
}

async function sameEpoch(clients: readonly ParleyClient[], roomId: RoomId): Promise<number> {
  let epochs: Array<number | undefined> = [];
  await eventuallyAsync(async () => {
    epochs = await Promise.all(clients.map((client) => client.encryptionEpoch(roomId)));
    return epochs[0] !== undefined && epochs.every((epoch) => epoch === epochs[0]);
  });
  return epochs[0] ?? -1;
}

/** The raw bodies of a room's messages as the server holds them (never plaintext). */
async function rawMessages(client: ParleyClient, roomId: RoomId): Promise<Uint8Array[]> {
  const page = await client.rawHistory(roomId, { direction: "forward", limit: 1000 });
  return page.events.flatMap((event) =>
    event.type === "message" && event.contentType === "message/mls" ? [event.body] : [],
  );
}

/** Alice's open encrypted room, which frank joins by external commit. */
async function openRoomWithFrank(name: string) {
  const alice = await member("alice");
  const frank = await member("frank");
  await alice.client.start();
  const { roomId } = await alice.client.createRoom({ name, kind: "encrypted", joinRule: "open" });
  await frank.client.start();
  await frank.client.join(roomId);
  return { alice, frank, roomId };
}

/** Another device of the same user, signed in with the password, holding no MLS state. */
function anotherDevice(client: ParleyClient, store = new MemoryStore()): Promise<ParleyClient> {
  return Client.login(
    { baseUrl: homeserver.url, userName: client.userId.split("@")[0] ?? "", password },
    nodeClientOptions({ store, encryption: small }),
  );
}

describe("encrypted rooms through the SDK", () => {
  it("three users chat, one is kicked and cannot read what follows, and the server sees only ciphertext", async () => {
    const alice = await member("alice");
    const bob = await member("bob");
    const carol = await member("carol");
    await alice.client.start();
    const { roomId } = await alice.client.createRoom({ name: "secret", kind: "encrypted" });
    expect((await alice.client.roomState(roomId)).kind).toBe("encrypted");
    await bringIn(alice.client, bob.client, roomId);
    await bringIn(bob.client, carol.client, roomId);
    expect(await sameEpoch([alice.client, bob.client, carol.client], roomId)).toBe(2);

    await sendAccepted(alice.client, roomId, "hello from alice");
    await sendAccepted(bob.client, roomId, "hello from bob");
    await eventually(() => texts(carol.events, roomId).length === 2);
    expect(texts(carol.events, roomId)).toEqual(["hello from alice", "hello from bob"]);
    await eventually(() => texts(alice.events, roomId).includes("hello from bob"));
    // The sender sees its own message too, from what it kept.
    await eventually(() => texts(bob.events, roomId).includes("hello from bob"));

    // The server holds MLS ciphertext only.
    const stored = await rawMessages(bob.client, roomId);
    expect(stored).toHaveLength(2);
    for (const body of stored) {
      expect(Buffer.from(body).includes(Buffer.from("hello from"))).toBe(false);
    }

    await alice.client.kick(roomId, carol.client.userId, "bye");
    expect(await sameEpoch([alice.client, bob.client], roomId)).toBe(3);
    await sendAccepted(alice.client, roomId, "after carol left");
    await eventually(() => texts(bob.events, roomId).includes("after carol left"));
    expect(texts(carol.events, roomId)).not.toContain("after carol left");

    // Even holding the ciphertext, carol's MLS state cannot open it.
    const [, , afterKick] = await rawMessages(bob.client, roomId);
    if (afterKick === undefined) throw new Error("no message after the kick");
    const crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
    const stateKey = decodeBase64url((await carol.store.get("parley.mls.state-key")) ?? "");
    const sealed = decodeBase64url((await carol.store.get(`parley.mls.room.${roomId}`)) ?? "");
    const opened = await openMemberState(crypto, sealed, stateKey, { roomId });
    if (opened.kind === "failed") throw new Error(opened.detail);
    const attempt = await processMessage(opened.member, afterKick);
    expect(attempt.kind).toBe("failed");
    expect(undecryptable([...alice.events, ...bob.events])).toEqual([]);
  });

  it("two commits of the same epoch race: the loser catches up and both invitations land", async () => {
    const { race, racerFetch } = commitRace(2);
    const alice = await member("alice", new MemoryStore(), racerFetch());
    const bob = await member("bob", new MemoryStore(), racerFetch());
    const dave = await member("dave");
    const erin = await member("erin");
    await alice.client.start();
    const { roomId } = await alice.client.createRoom({ name: "race", kind: "encrypted" });
    await bringIn(alice.client, bob.client, roomId);
    await sameEpoch([alice.client, bob.client], roomId);
    race.armed = true;
    await Promise.all([
      alice.client.invite(roomId, dave.client.userId),
      bob.client.invite(roomId, erin.client.userId),
    ]);
    // Both commits were made in epoch 2: exactly one lost, was told so and retried.
    expect(race.stale).toBe(1);
    const members = await alice.client.allMembers(roomId);
    const invited = members.filter((entry) => entry.membership === "invited");
    expect(invited.map((entry) => entry.userId).sort()).toEqual(
      [dave.client.userId, erin.client.userId].sort(),
    );
    for (const invitee of [dave.client, erin.client]) {
      await invitee.start();
      await eventuallyAsync(async () => (await invitee.encryptionEpoch(roomId)) !== undefined);
      await invitee.join(roomId);
    }
    expect(await sameEpoch([alice.client, bob.client, dave.client, erin.client], roomId)).toBe(3);
    await sendAccepted(erin.client, roomId, "erin made it");
    await eventually(() => texts(dave.events, roomId).includes("erin made it"));
    await eventually(() => texts(alice.events, roomId).includes("erin made it"));
  });

  it("a device offline across two epochs catches up, and a restarted client continues from its store", async () => {
    const alice = await member("alice");
    const bobStore = new FileStore(join(directory, "bob.json"));
    const bob = await member("bob", bobStore);
    const carol = await member("carol");
    const dave = await member("dave");
    await alice.client.start();
    const { roomId } = await alice.client.createRoom({ name: "offline", kind: "encrypted" });
    await bringIn(alice.client, bob.client, roomId);
    await sendAccepted(alice.client, roomId, "one");
    await eventually(() => texts(bob.events, roomId).includes("one"));

    // Bob's process goes away; the room moves on two epochs and chats.
    await bob.client.stop();
    await alice.client.invite(roomId, carol.client.userId);
    await alice.client.invite(roomId, dave.client.userId);
    await sendAccepted(alice.client, roomId, "two");
    await sendAccepted(alice.client, roomId, "three");

    const restored = await Client.restore(
      nodeClientOptions({ store: new FileStore(join(directory, "bob.json")), encryption: small }),
    );
    if (restored === undefined) throw new Error("bob's store holds no device");
    const events: ClientEvent[] = [];
    restored.onEvent((event) => events.push(event));
    await restored.start();
    await eventually(() => texts(events, roomId).length === 2);
    expect(texts(events, roomId)).toEqual(["two", "three"]);
    expect(await restored.encryptionEpoch(roomId)).toBe(3);

    // And it keeps going: it sends and reads in the new epoch.
    await sendAccepted(restored, roomId, "bob is back");
    await eventually(() => texts(alice.events, roomId).includes("bob is back"));
    await sendAccepted(alice.client, roomId, "four");
    await eventually(() => texts(events, roomId).includes("four"));
    expect(undecryptable(events)).toEqual([]);
    await restored.stop();
  });

  it("a restarted client shows the room's history, its own messages included, from plaintexts sealed in its store", async () => {
    const aliceStore = new FileStore(join(directory, "alice-history.json"));
    const alice = await member("alice", aliceStore);
    const bob = await member("bob");
    await alice.client.start();
    const { roomId } = await alice.client.createRoom({ name: "history", kind: "encrypted" });
    await bringIn(alice.client, bob.client, roomId);
    await sendAccepted(alice.client, roomId, "a secret pineapple");
    await sendAccepted(bob.client, roomId, "a secret mango");
    await eventually(() => texts(alice.events, roomId).includes("a secret mango"));
    await alice.client.stop();

    const file = await readFile(join(directory, "alice-history.json"), "utf8");
    expect(file).not.toContain("pineapple");
    expect(file).not.toContain("mango");
    const restored = await Client.restore(
      nodeClientOptions({
        store: new FileStore(join(directory, "alice-history.json")),
        encryption: small,
      }),
    );
    if (restored === undefined) throw new Error("alice's store holds no device");
    const page = await restored.history(roomId, { direction: "forward", limit: 100 });
    const shown = page.events.flatMap((event) =>
      event.type === "message" ? [event.text] : event.type === "undecryptable" ? ["?"] : [],
    );
    expect(shown).toEqual(["a secret pineapple", "a secret mango"]);

    // The live stream after the restart also shows the own echo, not an undecryptable one.
    const events: ClientEvent[] = [];
    restored.onEvent((event) => events.push(event));
    await restored.start();
    await sendAccepted(restored, roomId, "after the restart");
    await sendAccepted(bob.client, roomId, "seen after the restart");
    await eventually(() => texts(events, roomId).includes("seen after the restart"));
    expect(undecryptable(events)).toEqual([]);
    const later = await restored.history(roomId, { direction: "forward", limit: 100 });
    expect(later.events.filter((event) => event.type === "undecryptable")).toEqual([]);
    await restored.stop();
  });

  it("an open room takes external joins, and a user's new device enters the group by itself", async () => {
    const { alice, frank, roomId } = await openRoomWithFrank("open");
    expect(await sameEpoch([alice.client, frank.client], roomId)).toBe(1);
    await sendAccepted(alice.client, roomId, "welcome frank");
    await eventually(() => texts(frank.events, roomId).includes("welcome frank"));

    // Frank logs in on a second device: it has no MLS state and rejoins by external commit.
    const secondDevice = await anotherDevice(frank.client);
    const seen: ClientEvent[] = [];
    secondDevice.onEvent((event) => seen.push(event));
    await secondDevice.start();
    expect(await sameEpoch([alice.client, frank.client, secondDevice], roomId)).toBe(2);
    await sendAccepted(alice.client, roomId, "to both of frank's devices");
    await eventually(() => texts(seen, roomId).includes("to both of frank's devices"));
    await eventually(() => texts(frank.events, roomId).includes("to both of frank's devices"));
    await secondDevice.stop();
  });

  it("a revoked device is taken out of the user's encrypted rooms and cannot read what follows", async () => {
    const { alice, frank, roomId } = await openRoomWithFrank("lost phone");
    const phoneStore = new MemoryStore();
    const phone = await anotherDevice(frank.client, phoneStore);
    await phone.start();
    const before = await sameEpoch([alice.client, frank.client, phone], roomId);
    await phone.stop();

    // Frank revokes the phone from his first device, which hears of it and commits its removal.
    const revoked: ClientEvent[] = [];
    frank.client.onEvent((event) => {
      if (event.type === "device-revoked") revoked.push(event);
    });
    await frank.client.devices.revoke(phone.deviceId);
    const listed = await frank.client.devices.list();
    expect(listed.find((device) => device.deviceId === phone.deviceId)?.revokedAtMs).not.toBeNull();
    expect(await sameEpoch([alice.client, frank.client], roomId)).toBe(before + 1);
    // The notice reaches frank's device too (the removal is already done: nothing more is committed).
    await eventually(() => revoked.length === 1);
    expect(await frank.client.encryptionEpoch(roomId)).toBe(before + 1);

    await sendAccepted(alice.client, roomId, "not for the lost phone");
    await eventually(() => texts(frank.events, roomId).includes("not for the lost phone"));
    const stored = await rawMessages(frank.client, roomId);
    const afterRevoke = stored.at(-1);
    if (afterRevoke === undefined) throw new Error("no message after the revocation");
    const crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
    const stateKey = decodeBase64url((await phoneStore.get("parley.mls.state-key")) ?? "");
    const sealed = decodeBase64url((await phoneStore.get(`parley.mls.room.${roomId}`)) ?? "");
    const opened = await openMemberState(crypto, sealed, stateKey, { roomId });
    if (opened.kind === "failed") throw new Error(opened.detail);
    expect((await processMessage(opened.member, afterRevoke)).kind).toBe("failed");
  });

  it("a message whose key was already used surfaces as a typed undecryptable event", async () => {
    const alice = await member("alice");
    const bobStore = new FileStore(join(directory, "bob-replay.json"));
    const bob = await member("bob", bobStore);
    await alice.client.start();
    const { roomId } = await alice.client.createRoom({ name: "replay", kind: "encrypted" });
    await bringIn(alice.client, bob.client, roomId);
    await sendAccepted(alice.client, roomId, "only once");
    await eventually(() => texts(bob.events, roomId).includes("only once"));
    await bob.client.stop();

    // Wind the room's cursor back alone, as a store without atomic writes could
    // leave it: the next message shows a gap, which is filled from history.
    const cursor = JSON.parse((await bobStore.get("parley.cursor")) ?? "{}") as {
      streamPosition: number;
      queuePosition: number;
      roomSequences: Record<string, number>;
    };
    const sequence = cursor.roomSequences[roomId] ?? 0;
    // And lose the kept plaintexts, or the message would be shown from them.
    await bobStore.delete(`parley.mls.plaintexts.${roomId}`);
    await bobStore.set(
      "parley.cursor",
      JSON.stringify({
        ...cursor,
        roomSequences: { ...cursor.roomSequences, [roomId]: sequence - 1 },
      }),
    );
    const restored = await Client.restore(
      nodeClientOptions({ store: bobStore, encryption: small }),
    );
    if (restored === undefined) throw new Error("bob's store holds no device");
    const events: ClientEvent[] = [];
    restored.onEvent((event) => events.push(event));
    await restored.start();
    await restored.connected();
    await sendAccepted(alice.client, roomId, "the next one");
    await eventually(() => texts(events, roomId).includes("the next one"));
    const [failure] = undecryptable(events);
    expect(failure).toMatchObject({ type: "undecryptable", roomId, sender: alice.client.userId });
    expect(failure?.type === "undecryptable" && failure.error.code).toBe("mls_replayed");
    expect(texts(events, roomId)).toEqual(["the next one"]);
    await restored.stop();
  });
});
