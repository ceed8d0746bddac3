// Stories over the real HTTP and WebSocket API, against a homeserver child
// process on loopback with its own data directory.

import { ClientError, newDevice, ParleyClient, StreamClient } from "@parley/cli/client";
import { decodeBase64url, type EventJson, verifyStoredRoomMessage } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { HomeserverProcess } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: HomeserverProcess;
let userCount = 0;
/** Every client made, so the log test can look for each one's token. */
const clients: ParleyClient[] = [];

beforeAll(async () => {
  server = await HomeserverProcess.start({ environment: { PARLEY_LOG_LEVEL: "trace" } });
});

afterAll(async () => {
  await server.dispose();
});

const password = "correct horse battery staple";

async function user(name: string): Promise<ParleyClient> {
  userCount += 1;
  const client = new ParleyClient({
    baseUrl: server.url,
    serverName: server.serverName,
    device: newDevice(),
  });
  await client.register(`${name}${userCount}`, password);
  clients.push(client);
  return client;
}

function token(client: ParleyClient): string {
  if (client.accessToken === undefined) throw new Error("not logged in");
  return client.accessToken;
}

function userIdOf(client: ParleyClient): string {
  if (client.userId === undefined) throw new Error("not logged in");
  return client.userId;
}

function textOf(event: EventJson): string {
  const verified = verifyStoredRoomMessage(
    nodeSignatureProvider,
    decodeBase64url(event.signed),
    decodeBase64url(event.signature ?? ""),
  );
  return new TextDecoder().decode(verified.body);
}

const messagesOf = (events: readonly EventJson[]) =>
  events.filter((event) => event.kind === "message").map(textOf);

/** A room of `owner` that `others` were invited to and joined. */
async function roomWith(owner: ParleyClient, others: ParleyClient[], name = "general") {
  const { roomId } = await owner.createRoom({ clientId: `room-${name}`, name });
  for (const other of others) {
    await owner.act(roomId, { type: "invite", target: userIdOf(other) });
    await other.act(roomId, { type: "join" });
  }
  return roomId;
}

async function refusal(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("two users chat", () => {
  it("alice invites bob, bob joins, they talk live and both read the same history", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const bobStream = await StreamClient.connect(server.url, token(bob), { autoAcknowledge: true });
    const { roomId } = await alice.createRoom({ clientId: "chat-1", name: "chat" });
    await alice.act(roomId, { type: "invite", target: userIdOf(bob) });
    await bobStream.waitFor(() => bobStream.queueItems.some((item) => item.kind === "invite"));
    expect(bobStream.queueItems[0]?.body).toMatchObject({ type: "invite", roomId, name: "chat" });

    await bob.act(roomId, { type: "join" });
    const aliceStream = await StreamClient.connect(server.url, token(alice), {
      autoAcknowledge: true,
    });
    await alice.send(roomId, "hi bob", { clientId: "a1" });
    await bob.send(roomId, "hi alice", { clientId: "b1" });
    await alice.send(roomId, "how are you?", { clientId: "a2" });
    for (const stream of [aliceStream, bobStream]) {
      await stream.waitFor(() => messagesOf(stream.events).length === 3);
      expect(messagesOf(stream.events)).toEqual(["hi bob", "hi alice", "how are you?"]);
    }
    // Bob's stream also carried the room's control events (his cursor was
    // older than the room), his join among them, before the messages.
    const controls = bobStream.events.filter((event) => event.kind === "control");
    expect(controls.map((event) => event.control?.action.type)).toEqual([
      "create",
      "invite",
      "join",
    ]);

    const history = await bob.history(roomId, { direction: "forward" });
    expect(messagesOf(history.events)).toEqual(["hi bob", "hi alice", "how are you?"]);
    expect(history.events.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    await aliceStream.close();
    await bobStream.close();
  });

  it("answers a retried message and a retried room creation with the first result", async () => {
    const alice = await user("alice");
    const first = await alice.createRoom({ clientId: "same", name: "one" });
    const second = await alice.createRoom({ clientId: "same", name: "one" });
    expect(second).toEqual({ roomId: first.roomId, logIndex: 1, duplicate: true });
    const envelope = alice.signMessage(first.roomId, "once", { clientId: "m" });
    const accepted = await alice.postEnvelope(first.roomId, envelope);
    const retried = await alice.postEnvelope(first.roomId, envelope);
    expect(retried).toEqual({ ...accepted, duplicate: true });
    const reused = alice.signMessage(first.roomId, "something else", { clientId: "m" });
    expect((await refusal(alice.postEnvelope(first.roomId, reused))).code).toBe("conflict");
  });
});

describe("room state", () => {
  it("is listed, shown and paged for members, and its changes reach every member's stream", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const carol = await user("carol");
    const roomId = await roomWith(alice, [bob], "state");
    // Carol's device is offline when she is invited: the invite waits in her queue.
    await alice.act(roomId, { type: "invite", target: userIdOf(carol) });
    const carolStream = await StreamClient.connect(server.url, token(carol), {
      autoAcknowledge: true,
    });
    await carolStream.waitFor(() => carolStream.queueItems.some((item) => item.kind === "invite"));

    const rooms = await bob.request<{ rooms: { roomId: string; membership: string }[] }>(
      "GET",
      "/rooms",
    );
    expect(rooms.rooms).toContainEqual(expect.objectContaining({ roomId, membership: "joined" }));
    const carolView = await carol.request<{ membership: string; name: string }>(
      "GET",
      `/rooms/${roomId}`,
    );
    expect(carolView).toMatchObject({ membership: "invited", name: "state" });

    const bobStream = await StreamClient.connect(server.url, token(bob), { autoAcknowledge: true });
    await alice.act(roomId, { type: "set-topic", topic: "new topic" });
    await bobStream.waitFor(() =>
      bobStream.events.some((event) => event.control?.action.type === "set-topic"),
    );
    const state = await bob.request<{ topic: string; joinedMembers: number; role: string }>(
      "GET",
      `/rooms/${roomId}`,
    );
    expect(state).toMatchObject({ topic: "new topic", joinedMembers: 2, role: "member" });

    const firstPage = await bob.request<{
      members: { userId: string }[];
      more: boolean;
      next: string;
    }>("GET", `/rooms/${roomId}/members?limit=2`);
    expect(firstPage.members).toHaveLength(2);
    expect(firstPage.more).toBe(true);
    const secondPage = await bob.request<{ members: { userId: string; membership: string }[] }>(
      "GET",
      `/rooms/${roomId}/members?limit=2&after=${encodeURIComponent(firstPage.next)}`,
    );
    const everyone = [...firstPage.members, ...secondPage.members].map((member) => member.userId);
    expect(everyone.sort()).toEqual([userIdOf(alice), userIdOf(bob), userIdOf(carol)].sort());

    await bob.act(roomId, { type: "leave" });
    expect((await refusal(bob.history(roomId))).roomCode).toBe("not_member");
    await bobStream.close();
    await carolStream.close();
  });
});

describe("a device that was offline", () => {
  it("gets exactly what it missed, in order, once, when it reconnects", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const roomId = await roomWith(alice, [bob]);
    const before = await StreamClient.connect(server.url, token(bob), { autoAcknowledge: true });
    await alice.send(roomId, "before", { clientId: "m0" });
    await before.waitFor(() => messagesOf(before.events).includes("before"));
    // Give the acknowledgement time to be written, then go away.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await before.close();

    const missed = ["one", "two", "three", "four", "five"];
    for (const [index, text] of missed.entries()) {
      await alice.send(roomId, text, { clientId: `m${index + 1}` });
    }
    const after = await StreamClient.connect(server.url, token(bob), { autoAcknowledge: true });
    await after.waitFor(() => messagesOf(after.events).length >= missed.length);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(messagesOf(after.events)).toEqual(missed);
    const positions = after.events.map((event) => event.position);
    expect(positions).toEqual([...positions].sort((left, right) => left - right));
    await after.close();

    // Everything was acknowledged: a third connection gets nothing old.
    const again = await StreamClient.connect(server.url, token(bob), { autoAcknowledge: true });
    await alice.send(roomId, "new", { clientId: "m6" });
    await again.waitFor(() => messagesOf(again.events).length > 0);
    expect(messagesOf(again.events)).toEqual(["new"]);
    await again.close();
  });
});

describe("someone who is not a member", () => {
  it("cannot post, read history or kick", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const mallory = await user("mallory");
    const roomId = await roomWith(alice, [bob]);
    await alice.send(roomId, "members only", { clientId: "x" });

    const post = await refusal(mallory.send(roomId, "let me in", { clientId: "m" }));
    expect([post.status, post.code, post.roomCode]).toEqual([403, "forbidden", "not_member"]);
    const read = await refusal(mallory.history(roomId));
    expect([read.status, read.code, read.roomCode]).toEqual([403, "forbidden", "not_member"]);
    const kick = await refusal(
      mallory.act(roomId, { type: "kick", target: userIdOf(bob), reason: "" }),
    );
    expect([kick.status, kick.roomCode]).toEqual([403, "not_member"]);
    // A member without the role cannot kick either.
    const bobKicks = await refusal(
      bob.act(roomId, { type: "kick", target: userIdOf(alice), reason: "" }),
    );
    expect([bobKicks.status, bobKicks.roomCode]).toEqual([403, "forbidden"]);
  });
});

describe("a banned user", () => {
  it("is cut off at once: no posting, no reading, and their open stream stops", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const roomId = await roomWith(alice, [bob]);
    const stream = await StreamClient.connect(server.url, token(bob), { autoAcknowledge: true });
    await alice.send(roomId, "last one you see", { clientId: "m1" });
    await stream.waitFor(() => messagesOf(stream.events).length === 1);

    await alice.act(roomId, { type: "ban", target: userIdOf(bob), reason: "spam" });
    await alice.send(roomId, "after the ban", { clientId: "m2" });
    await stream.waitFor(() => stream.queueItems.some((item) => item.body.membership === "banned"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messagesOf(stream.events)).toEqual(["last one you see"]);
    expect((await refusal(bob.send(roomId, "hey", { clientId: "b" }))).roomCode).toBe("banned");
    expect((await refusal(bob.history(roomId))).roomCode).toBe("banned");
    await stream.close();
  });
});

describe("bad requests", () => {
  async function raw(path: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${server.url}/_parley/client/v1${path}`, init);
    return { status: response.status, body: await response.json() };
  }

  it("get coded errors: bad JSON, bad fields, oversized bodies, no token, bad signatures", async () => {
    const json = { "content-type": "application/json" };
    expect(await raw("/login", { method: "POST", headers: json, body: "{not json" })).toMatchObject(
      {
        status: 400,
        body: { code: "bad_encoding" },
      },
    );
    expect(
      await raw("/login", { method: "POST", headers: json, body: JSON.stringify({ userName: 1 }) }),
    ).toMatchObject({ status: 400, body: { code: "bad_structure" } });
    const huge = JSON.stringify({ userName: "a", password: "x".repeat(200_000) });
    expect(await raw("/login", { method: "POST", headers: json, body: huge })).toMatchObject({
      status: 413,
      body: { code: "payload_too_large" },
    });
    expect(await raw("/rooms", { method: "GET" })).toMatchObject({
      status: 401,
      body: { code: "unauthorized" },
    });
    expect(await raw("/no/such/route", { method: "GET" })).toMatchObject({
      status: 404,
      body: { code: "not_found" },
    });

    const alice = await user("alice");
    const { roomId } = await alice.createRoom({ clientId: "bad", name: "bad" });
    const envelope = decodeBase64url(alice.signMessage(roomId, "hello", { clientId: "m" }));
    envelope[envelope.length - 1] = (envelope[envelope.length - 1] ?? 0) ^ 1;
    const forged = await refusal(
      alice.postEnvelope(roomId, Buffer.from(envelope).toString("base64url")),
    );
    expect([forged.status, forged.code]).toEqual([400, "signature_invalid"]);
    const bob = await user("bob");
    const notMine = bob.signMessage(roomId, "hello", { clientId: "m" });
    expect((await refusal(alice.postEnvelope(roomId, notMine))).code).toBe("forbidden");
  });

  it("close stream sockets with the table's codes", async () => {
    const alice = await user("alice");
    const pinged = await StreamClient.connect(server.url, token(alice));
    let pongs = 0;
    pinged.socket.on("message", (data: Buffer) => {
      if (data.toString().includes('"pong"')) pongs += 1;
    });
    pinged.send({ type: "ping" });
    await pinged.waitFor(() => pongs === 1);
    await pinged.close();

    const stream = await StreamClient.connect(server.url, token(alice));
    stream.send("x".repeat(20_000));
    expect((await stream.closed).code).toBe(4413);

    const wrongToken = StreamClient.connect(server.url, "not-a-token");
    await expect(wrongToken).rejects.toThrow(/4401/);

    const other = await StreamClient.connect(server.url, token(alice));
    other.send({ type: "ack", stream: 1_000_000 });
    expect((await other.closed).code).toBe(4001);
  });
});

describe("a revoked device", () => {
  it("has its open socket closed at once", async () => {
    const alice = await user("alice");
    const stream = await StreamClient.connect(server.url, token(alice));
    await alice.request("DELETE", `/devices/${alice.device.deviceId}`);
    expect(await stream.closed).toEqual({ code: 4104, reason: "device revoked" });
    expect((await refusal(alice.request("GET", "/devices"))).code).toBe("unauthorized");
  });
});

describe("the log", () => {
  it("holds no password, token or key after all of the above", () => {
    expect(server.output).toContain("request refused"); // debug lines were written
    expect(server.output).not.toContain(password);
    expect(clients.length).toBeGreaterThan(5);
    for (const client of clients) {
      expect(server.output).not.toContain(token(client));
      expect(server.output).not.toContain(
        Buffer.from(client.device.keyPair.secretSeed).toString("base64url"),
      );
    }
  });
});
