// Delivery truth and errors against a real homeserver: a lost answer is
// retried with the same envelope and stored once; refusals come back as
// ServerErrors with the table's code; no answer is a transient NetworkError.

import {
  type DeliveryEvent,
  type FetchFunction,
  isTransient,
  MemoryStore,
  NetworkError,
  ParleyClient,
  ServerError,
} from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { parseRoomId } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { password, startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
});

afterAll(async () => {
  await homeserver.close();
});

/** A fetch that performs the first message post, then throws as if its answer was lost. */
function losingFirstAnswer(): { fetch: FetchFunction; lost: () => number } {
  let lost = 0;
  const fetch: FetchFunction = async (url, init) => {
    const response = await globalThis.fetch(url, init);
    if (lost === 0 && init.method === "POST" && url.endsWith("/messages")) {
      lost += 1;
      await response.text();
      throw new TypeError("fetch failed: connection reset");
    }
    return response;
  };
  return { fetch, lost: () => lost };
}

async function refusal(promise: Promise<unknown>): Promise<ServerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServerError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("sending", () => {
  it("a lost answer is retried with the same envelope: accepted once, stored once", async () => {
    const network = losingFirstAnswer();
    const alice = await homeserver.user("alice", {
      fetch: network.fetch,
      reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
    });
    const deliveries: DeliveryEvent[] = [];
    alice.on("delivery", (event) => deliveries.push(event));
    const { roomId } = await alice.createRoom({ name: "retry" });
    const message = await alice.send(roomId, "exactly once");
    const state = await message.settled();
    expect(network.lost()).toBe(1);
    expect(state).toMatchObject({ status: "accepted", sequence: 2 });
    expect(
      deliveries.map((event) => [
        event.state.status,
        "attempts" in event.state ? event.state.attempts : 0,
      ]),
    ).toEqual([
      ["pending", 1],
      ["pending", 2],
      ["accepted", 0],
    ]);
    const history = await alice.history(roomId, { direction: "forward" });
    const texts = history.events.flatMap((event) => (event.type === "message" ? [event.text] : []));
    expect(texts).toEqual(["exactly once"]);
  });

  it("a refused message fails visibly, and retry() sends it again", async () => {
    const alice = await homeserver.user("alice");
    const bob = await homeserver.user("bob");
    const { roomId } = await alice.createRoom({ name: "closed" });
    // Bob is not a member: the server refuses, and the message says so.
    const message = await bob.send(roomId, "let me in");
    const failed = await message.settled();
    expect(failed.status).toBe("failed");
    if (failed.status !== "failed") return;
    expect(failed.error).toBeInstanceOf(ServerError);
    expect(failed.error.code).toBe("forbidden");
    expect(bob.unacceptedMessages()).toEqual([message]);

    await alice.invite(roomId, bob.userId);
    await bob.join(roomId);
    message.retry();
    expect(message.state.status).toBe("pending");
    expect(await message.settled()).toMatchObject({ status: "accepted" });
    expect(bob.unacceptedMessages()).toEqual([]);
  });

  it("a message the previous run could not send is sent by the next one", async () => {
    const store = new MemoryStore();
    const alice = await homeserver.user("alice", { store, sendAttemptsMax: 1 });
    const { roomId } = await alice.createRoom({ name: "outbox" });
    const offline: FetchFunction = async () => {
      throw new TypeError("fetch failed: network down");
    };
    const cutOff = await ParleyClient.restore(
      nodeClientOptions({ store, fetch: offline, sendAttemptsMax: 1 }),
    );
    if (cutOff === undefined) throw new Error("no device in the store");
    const message = await cutOff.send(roomId, "written offline");
    expect(await message.settled()).toMatchObject({
      status: "failed",
      error: { code: "unavailable" },
    });

    const online = await ParleyClient.restore(nodeClientOptions({ store }));
    if (online === undefined) throw new Error("no device in the store");
    const accepted = new Promise<DeliveryEvent>((resolve) =>
      online.on("delivery", (event) => {
        if (event.state.status === "accepted") resolve(event);
      }),
    );
    await online.start();
    expect(await accepted).toMatchObject({ roomId, clientId: message.clientId });
    await online.stop();
  });
});

describe("errors", () => {
  it("carry the server's code, status and room code", async () => {
    const alice = await homeserver.user("alice");
    const bob = await homeserver.user("bob");
    const { roomId } = await alice.createRoom({ name: "private" });

    const notInvited = await refusal(bob.join(roomId));
    expect(notInvited).toMatchObject({ code: "forbidden", status: 403, roomCode: "not_invited" });
    expect(isTransient(notInvited)).toBe(false);

    const unknownRoom = parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA");
    expect(await refusal(alice.roomState(unknownRoom))).toMatchObject({
      code: "not_found",
      status: 404,
    });
    expect(await refusal(alice.invite(roomId, alice.userId))).toMatchObject({
      code: "conflict",
      roomCode: "already_member",
    });

    const taken = ParleyClient.register(
      { baseUrl: homeserver.url, userName: alice.userId.split("@")[0] ?? "", password },
      nodeClientOptions(),
    );
    expect(await refusal(taken)).toMatchObject({ code: "conflict", status: 409 });
    const wrongPassword = ParleyClient.login(
      {
        baseUrl: homeserver.url,
        userName: alice.userId.split("@")[0] ?? "",
        password: "not the password",
      },
      nodeClientOptions(),
    );
    expect(await refusal(wrongPassword)).toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("no answer at all is a transient NetworkError with code unavailable", async () => {
    const attempt = ParleyClient.login(
      { baseUrl: "http://127.0.0.1:9", userName: "nobody", password, serverName: "localhost:9" },
      nodeClientOptions(),
    );
    const error = await attempt.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: "unavailable" });
    expect(isTransient(error)).toBe(true);
  });
});

describe("sessions", () => {
  it("an invalid token is renewed with the device key, for requests and for the stream", async () => {
    const store = new MemoryStore();
    const alice = await homeserver.user("alice", { store });
    await store.set(
      "parley.session",
      JSON.stringify({ accessToken: "A".repeat(43), expiresAtMs: Date.now() + 3_600_000_000 }),
    );
    const restored = await ParleyClient.restore(nodeClientOptions({ store }));
    if (restored === undefined) throw new Error("no device in the store");
    const { roomId } = await restored.createRoom({ name: "renewed" });
    expect((await restored.roomState(roomId)).creator).toBe(alice.userId);
    const saved = JSON.parse((await store.get("parley.session")) ?? "{}") as {
      accessToken: string;
    };
    expect(saved.accessToken).not.toBe("A".repeat(43));

    await store.set(
      "parley.session",
      JSON.stringify({ accessToken: "B".repeat(43), expiresAtMs: Date.now() + 3_600_000_000 }),
    );
    const again = await ParleyClient.restore(nodeClientOptions({ store }));
    if (again === undefined) throw new Error("no device in the store");
    await again.start();
    await again.connected();
    await again.stop();
  });

  it("logging in again on the same store resumes the same device with a newer record", async () => {
    const store = new MemoryStore();
    const alice = await homeserver.user("alice", { store });
    await alice.logout();
    const userName = alice.userId.split("@")[0] ?? "";
    const back = await ParleyClient.login(
      { baseUrl: homeserver.url, userName, password },
      nodeClientOptions({ store }),
    );
    expect(back.deviceId).toBe(alice.deviceId);
    const elsewhere = await ParleyClient.login(
      { baseUrl: homeserver.url, userName, password },
      nodeClientOptions(),
    );
    expect(elsewhere.deviceId).not.toBe(alice.deviceId);
    expect(elsewhere.userId).toBe(alice.userId);
  });
});
