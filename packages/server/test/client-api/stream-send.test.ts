// Sending messages on the open stream socket (`send` frames, protocol §10.8)
// against a homeserver child process: answers per frame, idempotent retries,
// error frames that leave the socket open.

import { ClientError, newDevice, ParleyClient, StreamClient } from "@parley/cli/client";
import { decodeBase64url, encodeBase64url } from "@parley/protocol";
import { HomeserverProcess } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: HomeserverProcess;

beforeAll(async () => {
  server = await HomeserverProcess.start();
});

afterAll(async () => {
  await server.dispose();
});

async function user(name: string): Promise<ParleyClient> {
  const client = new ParleyClient({
    baseUrl: server.url,
    serverName: server.serverName,
    device: newDevice(),
  });
  await client.register(name, "correct horse battery staple");
  return client;
}

function refusal(error: unknown): { code: string; roomCode: string | undefined } {
  if (!(error instanceof ClientError)) throw error;
  return { code: error.code, roomCode: error.roomCode };
}

describe("send frames", () => {
  it("accepts a message on the socket, delivers it, and answers a retry with the same message", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const { roomId } = await alice.createRoom({ clientId: "r", name: "r", joinRule: "open" });
    await bob.act(roomId, { type: "join" });
    const aliceStream = await StreamClient.connect(server.url, alice.accessToken ?? "");
    const bobStream = await StreamClient.connect(server.url, bob.accessToken ?? "");

    const envelope = alice.signMessage(roomId, "over the socket", { clientId: "m1" });
    const first = await aliceStream.sendMessage(roomId, envelope, "frame-1");
    expect(first).toMatchObject({ type: "sent", id: "frame-1", duplicate: false });
    const retry = await aliceStream.sendMessage(roomId, envelope, "frame-2");
    expect(retry).toMatchObject({
      id: "frame-2",
      duplicate: true,
      sequence: first.sequence,
      streamPosition: first.streamPosition,
    });
    // The same envelope over HTTP is the same message too.
    expect((await alice.postEnvelope(roomId, envelope)).sequence).toBe(first.sequence);

    await bobStream.waitFor(() => bobStream.events.some((event) => event.clientId === "m1"));
    const after = await aliceStream.sendMessage(
      roomId,
      alice.signMessage(roomId, "and another", { clientId: "m2" }),
    );
    expect(after.sequence).toBe(first.sequence + 1);
    await bobStream.waitFor(() => bobStream.events.some((event) => event.clientId === "m2"));
    const delivered = bobStream.events.filter((event) => event.kind === "message");
    expect(delivered.map((event) => event.clientId)).toEqual(["m1", "m2"]);
    await aliceStream.close();
    await bobStream.close();
  });

  it("answers refusals with error frames naming the frame, and the socket stays open", async () => {
    const carol = await user("carol");
    const dave = await user("dave");
    const { roomId } = await carol.createRoom({ clientId: "r", name: "r", joinRule: "invite" });
    const stream = await StreamClient.connect(server.url, carol.accessToken ?? "");

    const envelope = decodeBase64url(carol.signMessage(roomId, "signed", { clientId: "x1" }));
    const forged = new Uint8Array(envelope);
    forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 1;
    const badSignature = await stream
      .sendMessage(roomId, encodeBase64url(forged), "forged")
      .catch(refusal);
    expect(badSignature).toEqual({ code: "signature_invalid", roomCode: undefined });

    const badRoom = await stream
      .sendMessage("not-a-room", encodeBase64url(envelope))
      .catch(refusal);
    expect(badRoom).toMatchObject({ code: "bad_structure" });

    // Dave's envelope on Carol's socket: signed by another device than the session's.
    const foreign = dave.signMessage(roomId, "hi", { clientId: "d1" });
    expect(await stream.sendMessage(roomId, foreign).catch(refusal)).toMatchObject({
      code: "forbidden",
    });
    // Dave on his own socket, in a room he is not in.
    const daveStream = await StreamClient.connect(server.url, dave.accessToken ?? "");
    expect(await daveStream.sendMessage(roomId, foreign).catch(refusal)).toEqual({
      code: "forbidden",
      roomCode: "not_member",
    });

    const accepted = await stream.sendMessage(roomId, encodeBase64url(envelope));
    expect(accepted.sequence).toBeGreaterThan(0);
    await stream.close();
    await daveStream.close();
  });
});
