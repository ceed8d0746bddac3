// The stream's promise: after a lost socket, or a client restarted from its
// store, every message arrives once and in order — none lost, none repeated.

import { type ClientEvent, MemoryStore, ParleyClient, type RoomMessageEvent } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import type { RoomId } from "@parley/protocol";
import { startTcpProxy } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
});

afterAll(async () => {
  await homeserver.close();
});

function textsOf(events: readonly ClientEvent[]): string[] {
  return events
    .filter((event): event is RoomMessageEvent => event.type === "message")
    .map((event) => event.text ?? "");
}

async function pair(options: { bobStore?: MemoryStore } = {}) {
  const alice = await homeserver.user("alice");
  const bob = await homeserver.user(
    "bob",
    options.bobStore === undefined ? {} : { store: options.bobStore },
  );
  const { roomId } = await alice.createRoom({ name: "resume" });
  await alice.invite(roomId, bob.userId);
  await bob.join(roomId);
  return { alice, bob, roomId };
}

async function sendAll(
  client: ParleyClient,
  roomId: RoomId,
  texts: readonly string[],
): Promise<void> {
  const messages = await Promise.all(texts.map((text) => client.send(roomId, text)));
  const states = await Promise.all(messages.map((message) => message.settled()));
  expect(states.every((state) => state.status === "accepted")).toBe(true);
}

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => `message ${from + index}`);

describe("reconnect and resume", () => {
  it("a socket cut while messages flow: the client reconnects and gets each message once, in order", async () => {
    const { alice, bob, roomId } = await pair();
    const events: ClientEvent[] = [];
    bob.onEvent((event) => events.push(event));
    await bob.start();
    await bob.connected();
    await sendAll(alice, roomId, numbered(1, 5));
    await eventually(() => textsOf(events).length === 5);

    bob.interruptConnection();
    // Sent while bob's socket is down or coming back: the stream must resume after message 5.
    for (const text of numbered(6, 30)) await alice.send(roomId, text);
    bob.interruptConnection();
    await sendAll(alice, roomId, numbered(31, 40));

    await eventually(() => textsOf(events).length >= 40);
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for a duplicate to show up
    expect(textsOf(events)).toEqual(numbered(1, 40));
    const statuses = events.flatMap((event) =>
      event.type === "connection" ? [event.state.status] : [],
    );
    expect(statuses.filter((status) => status === "reconnecting").length).toBeGreaterThanOrEqual(1);
    expect(statuses.at(-1)).toBe("connected");
  });

  it("every TCP connection cut mid-stream: the client comes back by itself and misses nothing", async () => {
    const proxy = await startTcpProxy(homeserver.url);
    try {
      const alice = await homeserver.user("alice");
      const store = new MemoryStore();
      const registered = await homeserver.user("bob", { store });
      await registered.stop();
      // Bob's device talks to the server through the proxy from now on.
      await store.set(
        "parley.device",
        JSON.stringify({
          ...JSON.parse((await store.get("parley.device")) ?? "{}"),
          baseUrl: proxy.url,
        }),
      );
      const bob = await ParleyClient.restore(nodeClientOptions({ store }));
      if (bob === undefined) throw new Error("the store holds no device");
      const { roomId } = await alice.createRoom({ name: "cut" });
      await alice.invite(roomId, bob.userId);
      await bob.join(roomId);
      const events: ClientEvent[] = [];
      bob.onEvent((event) => events.push(event));
      await bob.start();
      await bob.connected();
      await sendAll(alice, roomId, numbered(1, 5));
      await eventually(() => textsOf(events).length === 5);
      expect(proxy.cutAll()).toBeGreaterThan(0);
      await sendAll(alice, roomId, numbered(6, 15));
      await eventually(() => textsOf(events).length >= 15);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(textsOf(events)).toEqual(numbered(1, 15));
      const reconnects = events.filter(
        (event) => event.type === "connection" && event.state.status === "reconnecting",
      );
      expect(reconnects.length).toBeGreaterThanOrEqual(1);
      await bob.stop();
    } finally {
      await proxy.close();
    }
  });

  it("a client restarted from its store gets exactly what it missed while it was gone", async () => {
    const store = new MemoryStore();
    const { alice, bob, roomId } = await pair({ bobStore: store });
    const before: ClientEvent[] = [];
    bob.onEvent((event) => before.push(event));
    await bob.start();
    await sendAll(alice, roomId, numbered(1, 3));
    await eventually(() => textsOf(before).length === 3);
    await bob.stop();

    await sendAll(alice, roomId, numbered(4, 8));
    const restored = await ParleyClient.restore(nodeClientOptions({ store }));
    if (restored === undefined) throw new Error("the store holds no device");
    expect(restored.deviceId).toBe(bob.deviceId);
    const after: ClientEvent[] = [];
    restored.onEvent((event) => after.push(event));
    await restored.start();
    await eventually(() => textsOf(after).length >= 5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(textsOf(after)).toEqual(numbered(4, 8));
    await restored.stop();
  });
});
