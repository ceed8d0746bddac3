// Homeservers in one process, each with its own SQLite database, linked by
// the in-process network (the transport contract without sockets). A room
// created on A; bob of B invited by its admin (B becomes a sponsor); carol of
// C joins the open room through A (C follows as a leaf); dave of D invited by
// bob, who is no admin (D learns of the room from the sponsors' invite notice
// and follows as a leaf). Messages from each reach every server exactly once,
// state changes are visible everywhere, and a restart of B in the middle loses
// nothing.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDevice, ParleyClient } from "@parley/cli/client";
import {
  decodeBase64url,
  type EventJson,
  parseServerName,
  type RoomId,
  type ServerName,
  verifyStoredRoomMessage,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import type { RunningHomeserver } from "../../src/process/homeserver.ts";
import {
  eventually,
  inProcessConfig,
  testPassword as password,
  registerUser,
  startInProcessHomeserver,
  untilListed,
} from "./in-process-servers.ts";

const network = new InProcessNetwork();
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

/** A client of `server`'s user; `baseUrl` follows the server across restarts. */
function user(name: string, serverName: ServerName): Promise<ParleyClient> {
  return registerUser(name, serverOf(serverName).url, serverName);
}

function textOf(event: EventJson): string {
  const verified = verifyStoredRoomMessage(
    nodeSignatureProvider,
    decodeBase64url(event.signed),
    decodeBase64url(event.signature ?? ""),
  );
  return new TextDecoder().decode(verified.body);
}

async function messagesSeenBy(client: ParleyClient, roomId: RoomId): Promise<string[]> {
  const history = await client.history(roomId, { direction: "forward", limit: 1000 });
  return history.events.filter((event) => event.kind === "message").map(textOf);
}

const a = parseServerName("a.test");
const b = parseServerName("b.test");
const c = parseServerName("c.test");
const d = parseServerName("d.test");

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-federation-"));
  for (const name of [a, b, c, d]) await start(name);
});

afterAll(async () => {
  for (const server of servers.values()) await server.close();
  await rm(directory, { recursive: true, force: true });
});

describe("a room across four servers", () => {
  it("invites a sponsor and a leaf, lets a leaf join, carries messages and state everywhere, survives a restart", async () => {
    const alice = await user("alice", a);
    const bob = await user("bob", b);
    const carol = await user("carol", c);
    const { roomId } = await alice.createRoom({
      clientId: "room-1",
      name: "across",
      joinRule: "open",
    });

    // Alice (the room's admin) invites bob: B joins the sponsor set and bob hears of it.
    await alice.act(roomId, { type: "invite", target: "bob@b.test" });
    await untilListed(bob, roomId, "invited");
    await bob.act(roomId, { type: "join" });
    await eventually(async () => {
      const state = await alice.request<{ sponsors: string[] }>("GET", `/rooms/${roomId}`);
      return state.sponsors.includes(b);
    });

    // Carol joins the open room through A: C follows it as a leaf.
    await carol.request("POST", `/rooms/${roomId}/actions`, {
      action: { type: "join" },
      via: [a],
    });
    const carolState = await carol.request<{ membership: string; sponsors: string[] }>(
      "GET",
      `/rooms/${roomId}`,
    );
    expect(carolState.membership).toBe("joined");
    expect(carolState.sponsors).not.toContain(c);

    await alice.send(roomId, "hello from a", { clientId: "a1" });
    await bob.send(roomId, "hello from b", { clientId: "b1" });
    await carol.send(roomId, "hello from c", { clientId: "c1" });
    const expected = ["hello from a", "hello from b", "hello from c"];
    for (const client of [alice, bob, carol]) {
      await eventually(async () => (await messagesSeenBy(client, roomId)).length === 3);
      expect((await messagesSeenBy(client, roomId)).sort()).toEqual(expected);
    }

    // A state change made on the leaf's side is visible everywhere.
    await alice.act(roomId, { type: "set-topic", topic: "federated" });
    for (const client of [bob, carol]) {
      await eventually(async () => {
        const state = await client.request<{ topic: string }>("GET", `/rooms/${roomId}`);
        return state.topic === "federated";
      });
    }

    // Bob, a plain member, invites dave of D: D is told by the sponsors and follows as a leaf.
    const dave = await user("dave", d);
    await bob.act(roomId, { type: "invite", target: "dave@d.test" });
    await untilListed(dave, roomId, "invited");
    await dave.act(roomId, { type: "join" });
    const daveState = await dave.request<{ sponsors: string[] }>("GET", `/rooms/${roomId}`);
    expect(daveState.sponsors).not.toContain(d);
    await dave.send(roomId, "hello from d", { clientId: "d1" });
    expected.push("hello from d");
    expected.sort();
    for (const client of [alice, bob, carol, dave]) {
      await eventually(async () => (await messagesSeenBy(client, roomId)).length === 4);
      expect((await messagesSeenBy(client, roomId)).sort()).toEqual(expected);
    }

    // B restarts while the others keep talking; nothing is lost or doubled.
    await serverOf(b).close();
    servers.delete(b);
    await alice.send(roomId, "while b was away", { clientId: "a2" });
    await carol.send(roomId, "c too", { clientId: "c2" });
    const restarted = await start(b);
    const bobAgain = new ParleyClient({
      baseUrl: restarted.url,
      serverName: b,
      device: newDevice(),
    });
    await bobAgain.login("bob", password);
    await bobAgain.send(roomId, "b is back", { clientId: "b2" });
    const all = [...expected, "while b was away", "c too", "b is back"].sort();
    for (const client of [alice, bobAgain, carol, dave]) {
      await eventually(async () => (await messagesSeenBy(client, roomId)).length === all.length);
      expect((await messagesSeenBy(client, roomId)).sort()).toEqual(all);
    }
  });
});
