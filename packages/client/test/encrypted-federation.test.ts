// An encrypted room across three homeserver processes on loopback, through the SDK:
// KeyPackages are claimed over federation, Welcomes reach devices on other
// servers, and every member reads every other member's messages in plaintext.

import { type ClientEvent, MemoryStore, ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import type { RoomId } from "@parley/protocol";
import { FederationCluster } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, password } from "./homeserver-fixture.ts";

let cluster: FederationCluster | undefined;

beforeAll(async () => {
  cluster = await FederationCluster.start({
    size: 3,
    proxies: false,
    environment: { PARLEY_FEDERATION_TICK_INTERVAL_MS: "50", PARLEY_LOG_LEVEL: "warn" },
  });
}, 180_000);

afterAll(async () => {
  await cluster?.dispose();
});

async function member(name: string, server: number) {
  if (cluster === undefined) throw new Error("no cluster");
  const client = await ParleyClient.register(
    {
      baseUrl: cluster.server(server).url,
      serverName: cluster.names[server] ?? "",
      userName: name,
      password,
    },
    nodeClientOptions({
      store: new MemoryStore(),
      encryption: { keyPackagesTarget: 4, keyPackagesRefillBelow: 2 },
    }),
  );
  await client.refillKeyPackages();
  const events: ClientEvent[] = [];
  client.onEvent((event) => events.push(event));
  await client.start();
  return { client, events };
}

function texts(events: readonly ClientEvent[], roomId: RoomId): string[] {
  return events.flatMap((event) =>
    event.type === "message" && event.roomId === roomId ? [event.text ?? ""] : [],
  );
}

async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < 10_000; round += 1) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function send(client: ParleyClient, roomId: RoomId, text: string): Promise<void> {
  const state = await (await client.send(roomId, text)).settled();
  expect(state.status).toBe("accepted");
}

describe("an encrypted room across three servers", () => {
  it("members on three servers join from Welcomes and read each other", {
    timeout: 120_000,
  }, async () => {
    const alice = await member("alice", 0);
    const bob = await member("bob", 1);
    const carol = await member("carol", 2);
    const { roomId } = await alice.client.createRoom({ name: "federated", kind: "encrypted" });

    for (const invitee of [bob, carol]) {
      await alice.client.invite(roomId, invitee.client.userId);
      await until(async () => (await invitee.client.encryptionEpoch(roomId)) !== undefined);
      await invitee.client.join(roomId);
    }
    await until(async () => {
      const epochs = await Promise.all(
        [alice, bob, carol].map((user) => user.client.encryptionEpoch(roomId)),
      );
      return epochs.every((epoch) => epoch === 2);
    });

    await send(alice.client, roomId, "from a");
    await send(bob.client, roomId, "from b");
    await send(carol.client, roomId, "from c");
    for (const user of [alice, bob, carol]) {
      await eventually(() => texts(user.events, roomId).length === 3, 30_000);
      expect([...texts(user.events, roomId)].sort()).toEqual(["from a", "from b", "from c"]);
      expect(user.events.filter((event) => event.type === "undecryptable")).toEqual([]);
    }
    for (const user of [alice, bob, carol]) await user.client.stop();
  });
});
