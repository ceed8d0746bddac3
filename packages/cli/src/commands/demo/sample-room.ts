// The demo's sample content, made through the SDK as a person would: alice
// (first server) opens a room and invites bob (second server), whose server
// thereby becomes a sponsor; she then fixes the sponsor set and invites carol
// (third server), whose server follows the room as a leaf (docs/protocol.md
// §10.3, §11.6). Everyone joins and alice posts a welcome.

import { ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { ParleyError, type RoomId } from "@parley/protocol";
import type { HomeserverChild } from "./homeserver-child.ts";

export const demoPassword = "parley-demo-password";
export const welcomeText = "Welcome to the Parley demo! Say hello from any of the three servers.";
const roomName = "demo lobby";
/** How long an invited user's server may take to learn the room. */
const inviteWaitMs = 60_000;
const retryIntervalMs = 200;

export interface DemoUser {
  readonly name: string;
  readonly server: HomeserverChild;
}

async function signUp(user: DemoUser): Promise<ParleyClient> {
  return ParleyClient.register(
    {
      baseUrl: user.server.url,
      serverName: user.server.serverName,
      userName: user.name,
      password: demoPassword,
    },
    nodeClientOptions(),
  );
}

/** Joins once the user's server has learnt of the invitation (bounded). */
async function joinWhenInvited(client: ParleyClient, roomId: RoomId): Promise<void> {
  const deadline = Date.now() + inviteWaitMs;
  for (;;) {
    try {
      await client.join(roomId);
      return;
    } catch (error) {
      const waiting =
        error instanceof ParleyError &&
        (error.code === "not_found" || error.code === "unavailable");
      if (!waiting || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, retryIntervalMs));
  }
}

/** Creates the users and the shared room; returns the room's id. */
export async function createSampleRoom(
  users: readonly [DemoUser, DemoUser, DemoUser],
): Promise<RoomId> {
  const [alice, bob, carol] = await Promise.all(users.map(signUp));
  if (alice === undefined || bob === undefined || carol === undefined) {
    throw new Error("the demo needs three users");
  }
  const { roomId } = await alice.createRoom({ name: roomName, joinRule: "invite" });
  await alice.invite(roomId, bob.userId);
  await joinWhenInvited(bob, roomId);
  // From here on no invite adds a sponsor, so carol's server stays a leaf.
  await alice.act(roomId, {
    type: "set-sponsor-policy",
    sponsorPolicy: { mode: "fixed", sponsorsMax: 7 },
  });
  await alice.invite(roomId, carol.userId);
  await joinWhenInvited(carol, roomId);
  await alice.send(roomId, welcomeText, { clientId: "demo-welcome" });
  await waitUntilAccepted(alice);
  await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  return roomId;
}

async function waitUntilAccepted(client: ParleyClient): Promise<void> {
  const deadline = Date.now() + inviteWaitMs;
  while (client.unacceptedMessages().length > 0) {
    if (Date.now() > deadline) throw new Error("the welcome message was not accepted in time");
    await new Promise((resolve) => setTimeout(resolve, retryIntervalMs));
  }
}
