// The federation edge against servers acting maliciously (docs/protocol.md
// §12.12.4): two real homeservers (A and B, both sponsors of one room) on the
// in-process network, and raw servers that speak frames by hand — M, which
// A's operator blocks, and C, which nobody blocks. A blocked server is neither
// answered nor told anything, and nothing it sends takes effect; nobody can
// invite its users through A; and a room's server ACL refuses a denied
// server's submissions at every sponsor.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ParleyClient } from "@parley/cli/client";
import { encodeFrame, type ReceiptsFrame, sponsorNodeId } from "@parley/federation";
import {
  encodeBase64url,
  makeUserId,
  nobleSignatureProvider,
  parseServerName,
  type RoomId,
  type ServerName,
  signRoomMessage,
} from "@parley/protocol";
import { type ControlEntry, encodeControlEntry } from "@parley/room";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import type { RunningHomeserver } from "../../src/process/homeserver.ts";
import {
  eventually,
  inProcessConfig,
  registerUser,
  startInProcessHomeserver,
} from "./in-process-servers.ts";
import { PublishingServer } from "./published-devices.ts";
import { RawServer } from "./raw-server.ts";

const network = new InProcessNetwork();
const a = parseServerName("a.test");
const b = parseServerName("b.test");
const m = parseServerName("m.test");
const c = parseServerName("c.test");
let directory: string;
const servers = new Map<ServerName, RunningHomeserver>();

async function start(name: ServerName): Promise<RunningHomeserver> {
  const server = await startInProcessHomeserver(inProcessConfig(directory, name), network);
  servers.set(name, server);
  return server;
}

function serverOf(name: ServerName): RunningHomeserver {
  const server = servers.get(name);
  if (server === undefined) throw new Error(`${name} is not running`);
  return server;
}

function user(name: string, serverName: ServerName): Promise<ParleyClient> {
  return registerUser(name, serverOf(serverName).url, serverName);
}

function membershipOn(server: ServerName, room: RoomId, user: string): string | undefined {
  return serverOf(server).clientApi.federation.driver.view(
    (host) =>
      host.session(room)?.replica.state?.members.get(makeUserId(...userParts(user)))?.membership,
  );
}

function userParts(user: string): [string, ServerName] {
  const [local = "", server = ""] = user.split("@");
  return [local, parseServerName(server)];
}

function storedSenders(server: ServerName, room: RoomId): string[] {
  const rooms = serverOf(server).clientApi.federation.roomMessages();
  const messages = rooms.find((one) => one.room === room)?.messages ?? [];
  return [...messages].map((stored) => stored.message.sender);
}

function unknownRoomId(): RoomId {
  return `!${encodeBase64url(randomBytes(16))}` as RoomId;
}

function entry(actor: string, action: ControlEntry["action"]): Uint8Array {
  return encodeControlEntry({
    actor: { type: "user", user: makeUserId(...userParts(actor)) },
    action,
    proposedAtMs: Date.now(),
  });
}

const body = new TextEncoder().encode("spam");
/** Carol's device on C, which speaks frames by hand. */
const carolDevice = nobleSignatureProvider.generateKeyPair();

/** A room message signed by carol's device, as a real server would submit it. */
function signedBody(clientId: string, room: RoomId = roomId): Uint8Array {
  return signRoomMessage(nobleSignatureProvider, carolDevice, {
    roomId: room,
    contentType: "text/plain",
    body: new TextEncoder().encode(`message ${clientId}`),
    clientId,
    sentAtMs: Date.now(),
  });
}
let alice: ParleyClient;
let roomId: RoomId;
let mallory: RawServer;
let carol: RawServer;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-blocked-"));
  await start(a);
  await start(b);
  mallory = new RawServer(network, m);
  carol = new RawServer(network, c);
  // C vouches for carol's device, as a real homeserver would (§12.14).
  const publications = new PublishingServer(c);
  publications.publish("carol@c.test", [publications.record("carol@c.test", carolDevice)]);
  alice = await user("alice", a);
  const bob = await user("bob", b);
  ({ roomId } = await alice.createRoom({ clientId: "room", name: "open", joinRule: "open" }));
  // Bob, invited by the room's admin, brings B into the sponsor set.
  await alice.act(roomId, { type: "invite", target: "bob@b.test" });
  await eventually(async () => membershipOn(b, roomId, "bob@b.test") === "invited");
  await bob.act(roomId, { type: "join" });
  await eventually(async () => {
    const state = await alice.request<{ sponsors: string[] }>("GET", `/rooms/${roomId}`);
    return state.sponsors.includes(b);
  });
  await serverOf(a).blockList.block({ serverName: m, reason: "spam", blockedAtMs: Date.now() });
});

afterAll(async () => {
  for (const server of servers.values()) await server.close();
  await rm(directory, { recursive: true, force: true });
});

describe("a blocked server at the federation edge", () => {
  it("is never answered or told anything, and what it sends takes no effect", async () => {
    await mallory.submit(a, {
      room: roomId,
      submission: { kind: "control", entry: entry("mallory@m.test", { type: "join" }) },
    });
    await mallory.submit(a, {
      room: roomId,
      submission: { kind: "message", sender: makeUserId("mallory", m), clientMessageId: "x", body },
    });
    // An invite notice for a room only M sponsors: A must not follow it.
    const fakeRoom = unknownRoomId();
    await mallory.links.send(
      a,
      encodeFrame({ type: "invite", room: fakeRoom, sponsors: [m] }),
      "durable",
    );
    // The same join from C, whom nobody blocks, is answered: the silence towards M is the block.
    const carolJoin = await carol.submit(a, {
      room: roomId,
      submission: { kind: "control", entry: entry("carol@c.test", { type: "join" }) },
    });
    expect(await carol.answer(a, carolJoin)).toMatchObject({ kind: "proposed" });
    await eventually(async () => membershipOn(a, roomId, "carol@c.test") === "joined");
    expect(carol.from(a).some((frame) => frame.type === "link-state")).toBe(true);
    expect(mallory.from(a)).toEqual([]);
    expect(membershipOn(a, roomId, "mallory@m.test")).toBeUndefined();
    expect(membershipOn(b, roomId, "mallory@m.test")).toBeUndefined();
    expect(storedSenders(a, roomId)).not.toContain("mallory@m.test");
    expect(serverOf(a).clientApi.federation.driver.view((host) => host.session(fakeRoom))).toBe(
      undefined,
    );
  });

  it("lets nobody invite its users, or follow a room through it, on the blocking server", async () => {
    const refused = await alice.act(roomId, { type: "invite", target: "mallory@m.test" }).then(
      () => null,
      (error: { code: string }) => error.code,
    );
    expect(refused).toBe("forbidden");
    const viaC = await carol.submit(a, {
      room: roomId,
      submission: {
        kind: "control",
        entry: entry("carol@c.test", { type: "invite", target: makeUserId("mallory", m) }),
      },
    });
    expect(await carol.answer(a, viaC)).toMatchObject({ kind: "refused", code: "forbidden" });
    expect(membershipOn(a, roomId, "mallory@m.test")).toBeUndefined();
    const dan = await user("dan", a);
    const followed = await dan
      .request("POST", `/rooms/${unknownRoomId()}/actions`, { action: { type: "join" }, via: [m] })
      .then(
        () => null,
        (error: { code: string }) => error.code,
      );
    expect(followed).toBe("forbidden");
  });
});

describe("a message stamped by a server that is not a sponsor", () => {
  it("is stored refused, never shown, and the refusal is in the receipt to its sender's server", async () => {
    await eventually(async () => membershipOn(a, roomId, "carol@c.test") === "joined");
    const appliedIndex =
      serverOf(a).clientApi.federation.driver.view(
        (host) => host.session(roomId)?.replica.appliedIndex,
      ) ?? 0;
    const forged = {
      room: roomId,
      origin: sponsorNodeId(c, 1),
      sequence: 1,
      controlIndex: appliedIndex,
      acceptedAtMs: Date.now(),
      sender: makeUserId("carol", c),
      clientMessageId: "forged",
      body,
    };
    await carol.links.send(
      a,
      encodeFrame({ type: "routed", message: forged, path: [c] }),
      "durable",
    );
    let refused: ReadonlyArray<readonly [number, string]> = [];
    await eventually(async () => {
      refused = carol
        .from(a)
        .filter((frame): frame is ReceiptsFrame => frame.type === "receipts")
        .flatMap((frame) => frame.rooms.filter((room) => room.room === roomId))
        .flatMap((room) => room.receipts.filter((receipt) => receipt.origin === forged.origin))
        .flatMap((receipt) => receipt.refused);
      return refused.length > 0;
    });
    expect(refused).toEqual([[1, "not_sponsor"]]);
    const messages = serverOf(a)
      .clientApi.federation.roomMessages()
      .find((one) => one.room === roomId)?.messages;
    const stored = [...(messages ?? [])].find((one) => one.message.clientMessageId === "forged");
    expect(stored?.verdict).toBe("refused");
    const history = await alice.request<{ events: Array<{ clientId?: string }> }>(
      "GET",
      `/rooms/${roomId}/history?limit=100`,
    );
    expect(history.events.map((event) => event.clientId)).not.toContain("forged");
  });
});

describe("a leaf's message submission at the sponsor", () => {
  it("is refused when its body is not a room message of the room signed by a device", async () => {
    const submit = (id: string, submitted: Uint8Array) =>
      carol.submit(a, {
        room: roomId,
        submission: {
          kind: "message",
          sender: makeUserId("carol", c),
          clientMessageId: id,
          body: submitted,
        },
      });
    const garbage = await carol.answer(a, await submit("garbage", body));
    expect(garbage).toMatchObject({ kind: "refused", code: "signature_invalid" });
    const elsewhere = await carol.answer(
      a,
      await submit("elsewhere", signedBody("elsewhere", unknownRoomId())),
    );
    expect(elsewhere).toMatchObject({ kind: "refused", code: "signature_invalid" });
    const tampered = signedBody("tampered");
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1;
    expect(await carol.answer(a, await submit("tampered", tampered))).toMatchObject({
      kind: "refused",
      code: "signature_invalid",
    });
    expect(await carol.answer(a, await submit("good", signedBody("good")))).toMatchObject({
      kind: "accepted",
    });
    const ids = [
      ...(serverOf(a)
        .clientApi.federation.roomMessages()
        .find((one) => one.room === roomId)?.messages ?? []),
    ].map((stored) => stored.message.clientMessageId);
    expect(ids).toContain("good");
    expect(ids).not.toContain("garbage");
    expect(ids).not.toContain("elsewhere");
    expect(ids).not.toContain("tampered");
  });
});

describe("a room's server ACL at every sponsor", () => {
  it("refuses a denied server's messages at each sponsor, which accepted them before", async () => {
    await eventually(async () => membershipOn(b, roomId, "carol@c.test") === "joined");
    const send = (sponsor: ServerName, id: string) =>
      carol.submit(sponsor, {
        room: roomId,
        submission: {
          kind: "message",
          sender: makeUserId("carol", c),
          clientMessageId: id,
          body: signedBody(id),
        },
      });
    for (const sponsor of [a, b]) {
      expect(await carol.answer(sponsor, await send(sponsor, `before-${sponsor}`))).toMatchObject({
        kind: "accepted",
      });
    }
    await alice.act(roomId, { type: "set-server-acl", serverAcl: { allow: ["*"], deny: [c] } });
    await eventually(async () =>
      serverOf(b).clientApi.federation.driver.view(
        (host) => host.session(roomId)?.replica.state?.serverAcl.deny.includes(c) === true,
      ),
    );
    for (const sponsor of [a, b]) {
      expect(await carol.answer(sponsor, await send(sponsor, `after-${sponsor}`))).toMatchObject({
        kind: "refused",
        code: "server_denied",
      });
    }
  });
});
