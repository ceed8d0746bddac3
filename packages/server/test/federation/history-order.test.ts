// Two sponsors receive the same messages in different arrival orders — each
// hears its own side of a partition first and the other side by backfill
// after the heal — and page the room's history alike (§12.4.3, §10.4).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ParleyClient } from "@parley/cli/client";
import { type EventJson, parseServerName, type RoomId, type ServerName } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import type { RunningHomeserver } from "../../src/process/homeserver.ts";
import {
  eventually,
  inProcessConfig,
  registerUser,
  startInProcessHomeserver,
} from "./in-process-servers.ts";

const network = new InProcessNetwork();
const servers: RunningHomeserver[] = [];
let directory: string;

const a = parseServerName("a.test");
const b = parseServerName("b.test");

interface OrderedPage {
  readonly events: readonly EventJson[];
  readonly more: boolean;
  readonly next: string | null;
}

async function start(name: ServerName): Promise<RunningHomeserver> {
  const server = await startInProcessHomeserver(inProcessConfig(directory, name), network);
  servers.push(server);
  return server;
}

function user(name: string, server: RunningHomeserver, serverName: ServerName) {
  return registerUser(name, server.url, serverName);
}

/** The whole ordered history, `limit` events a page, following `next`. */
async function orderedHistory(
  client: ParleyClient,
  roomId: RoomId,
  direction: "forward" | "backward",
  limit: number,
): Promise<OrderedPage["events"]> {
  const events: OrderedPage["events"][number][] = [];
  let from: string | null = null;
  for (let page = 0; page < 200; page += 1) {
    const query = new URLSearchParams({ direction, limit: String(limit) });
    if (from !== null) query.set("from", from);
    const answer = await client.request<OrderedPage>("GET", `/rooms/${roomId}/history?${query}`);
    events.push(...answer.events);
    if (!answer.more) return events;
    from = answer.next;
  }
  throw new Error("paging did not end");
}

/** What must be the same on every server: the message and its stamp, not where it arrived. */
function shown(events: OrderedPage["events"]): string[] {
  return events
    .filter((event) => event.kind === "message")
    .map((event) =>
      JSON.stringify([
        event.controlIndex,
        event.acceptedAtMs,
        event.origin,
        event.originSequence,
        event.sender,
        event.clientId,
        event.signed,
      ]),
    );
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-history-order-"));
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await rm(directory, { recursive: true, force: true });
});

describe("history order across a partition", () => {
  it("gives identical history pages on two sponsors that received messages in different orders", async () => {
    const serverA = await start(a);
    const serverB = await start(b);
    const alice = await user("alice", serverA, a);
    const bob = await user("bob", serverB, b);
    const { roomId } = await alice.createRoom({ clientId: "room-1", name: "ordered" });
    await alice.act(roomId, { type: "invite", target: "bob@b.test" });
    await eventually(async () => {
      const state = await alice.request<{ sponsors: string[] }>("GET", `/rooms/${roomId}`);
      return state.sponsors.includes(b);
    });
    await eventually(async () => {
      await bob.act(roomId, { type: "join" });
      return true;
    });
    await alice.send(roomId, "before", { clientId: "before" });
    await eventually(
      async () => shown(await orderedHistory(bob, roomId, "forward", 50)).length === 1,
    );

    // Both sides keep talking while cut off: each stamps at the index it has applied.
    network.cut(a, b);
    for (let index = 0; index < 4; index += 1) {
      await alice.send(roomId, `a${index}`, { clientId: `a${index}` });
      await bob.send(roomId, `b${index}`, { clientId: `b${index}` });
    }
    network.heal(a, b);
    for (const client of [alice, bob]) {
      await eventually(
        async () => shown(await orderedHistory(client, roomId, "forward", 50)).length === 9,
      );
    }

    // The arrival orders differ (each heard its own side first)...
    const arrival = async (client: ParleyClient) =>
      (await client.history(roomId, { direction: "forward", limit: 1000 })).events
        .filter((event) => event.kind === "message")
        .map((event) => event.clientId);
    expect(await arrival(alice)).not.toEqual(await arrival(bob));

    // ...and the ordered pages are the same, at any page size, both ways.
    for (const limit of [1, 2, 5, 50]) {
      const forwardA = shown(await orderedHistory(alice, roomId, "forward", limit));
      expect(forwardA).toHaveLength(9);
      expect(shown(await orderedHistory(bob, roomId, "forward", limit))).toEqual(forwardA);
      const backwardB = shown(await orderedHistory(bob, roomId, "backward", limit));
      expect(backwardB).toEqual([...forwardA].reverse());
      expect(shown(await orderedHistory(alice, roomId, "backward", limit))).toEqual(backwardB);
    }
  });
});
