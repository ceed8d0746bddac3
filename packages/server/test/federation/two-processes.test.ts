// Two homeserver processes on loopback, linked by real WebSocket links with
// the signed handshake and discovery over the well-known key document: a user
// of B joins an open room of A through A, and messages cross both ways.

import { newDevice, ParleyClient } from "@parley/cli/client";
import {
  decodeBase64url,
  type EventJson,
  type RoomId,
  verifyStoredRoomMessage,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { HomeserverProcess } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let first: HomeserverProcess;
let second: HomeserverProcess;
const password = "correct horse battery staple";

beforeAll(async () => {
  first = await HomeserverProcess.start({
    environment: { PARLEY_FEDERATION_TICK_INTERVAL_MS: "20" },
  });
  second = await HomeserverProcess.start({
    environment: { PARLEY_FEDERATION_TICK_INTERVAL_MS: "20" },
  });
});

afterAll(async () => {
  await first?.dispose();
  await second?.dispose();
});

async function user(server: HomeserverProcess, name: string): Promise<ParleyClient> {
  const client = new ParleyClient({
    baseUrl: server.url,
    serverName: server.serverName,
    device: newDevice(),
  });
  await client.register(name, password);
  return client;
}

function textOf(event: EventJson): string {
  const verified = verifyStoredRoomMessage(
    nodeSignatureProvider,
    decodeBase64url(event.signed),
    decodeBase64url(event.signature ?? ""),
  );
  return new TextDecoder().decode(verified.body);
}

async function messages(client: ParleyClient, roomId: RoomId): Promise<string[]> {
  const history = await client.history(roomId, { direction: "forward", limit: 100 });
  return history.events.filter((event) => event.kind === "message").map(textOf);
}

/** Polls `check` until it returns true (bounded by `timeoutMs`). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the condition did not hold in time");
}

describe("two homeserver processes over WebSocket links", () => {
  it("lets a user of B join A's open room through A, and carries messages both ways", async () => {
    const alice = await user(first, "alice");
    const bob = await user(second, "bob");
    const { roomId } = await alice.createRoom({ clientId: "open", name: "open", joinRule: "open" });
    await bob.request("POST", `/rooms/${roomId}/actions`, {
      action: { type: "join" },
      via: [first.serverName],
    });
    await alice.send(roomId, "from a", { clientId: "a1" });
    await bob.send(roomId, "from b", { clientId: "b1" });
    for (const client of [alice, bob]) {
      await eventually(async () => (await messages(client, roomId)).length === 2);
      expect((await messages(client, roomId)).sort()).toEqual(["from a", "from b"]);
    }
  });
});
