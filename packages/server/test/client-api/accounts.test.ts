// Accounts, devices and sessions through the routes, without a socket
// (Fastify inject on an in-memory database).

import { createHash } from "node:crypto";
import { deviceRecordRequest, newDevice } from "@parley/cli/client";
import { decodeBase64url, encodeBase64url, makeUserId, parseServerName } from "@parley/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { signSessionChallenge } from "../../src/http/session-proof.ts";
import { type InProcessApi, registration, serverName, startInProcess } from "./in-process.ts";

const running: InProcessApi[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((api) => api.close()));
});

async function start(overrides: Parameters<typeof startInProcess>[0] = {}): Promise<InProcessApi> {
  const api = await startInProcess(overrides);
  running.push(api);
  return api;
}

async function challengeSignature(
  api: InProcessApi,
  device: ReturnType<typeof newDevice>,
  server = serverName,
) {
  const issued = await api.call("POST", "/session/challenge", {
    body: { deviceId: device.deviceId },
  });
  expect(issued.status).toBe(200);
  const challenge = String(issued.body.challenge);
  const signature = signSessionChallenge(device.provider, device.keyPair, {
    challenge: decodeBase64url(challenge),
    deviceId: device.deviceId,
    server,
  });
  return { deviceId: device.deviceId, challenge, signature: encodeBase64url(signature) };
}

describe("registration", () => {
  it("registers a user with a device record and returns an attested record and a token", async () => {
    const api = await start();
    const { device, body } = registration("alice");
    const response = await api.call("POST", "/register", { body });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      userId: `alice@${serverName}`,
      deviceId: device.deviceId,
      accessToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const devices = await api.call("GET", "/devices", { token: String(response.body.accessToken) });
    expect(devices.body).toMatchObject({ devices: [{ deviceId: device.deviceId, current: true }] });
  });

  it("refuses a taken name, a record for someone else, and a forged record", async () => {
    const api = await start();
    expect((await api.call("POST", "/register", { body: registration("alice").body })).status).toBe(
      200,
    );
    const again = await api.call("POST", "/register", { body: registration("alice").body });
    expect(again).toMatchObject({ status: 409, body: { code: "conflict" } });

    const { body } = registration("bob");
    const forOther = await api.call("POST", "/register", {
      body: { ...body, deviceRecord: registration("carol").body.deviceRecord },
    });
    expect(forOther).toMatchObject({ status: 403, body: { code: "forbidden" } });

    const otherServer = deviceRecordRequest(
      newDevice(),
      makeUserId("dave", parseServerName("elsewhere.test")),
      {
        nowMs: Date.now(),
      },
    );
    const elsewhere = await api.call("POST", "/register", {
      body: { ...registration("dave").body, deviceRecord: otherServer },
    });
    expect(elsewhere).toMatchObject({ status: 403, body: { code: "forbidden" } });

    const bytes = decodeBase64url(registration("erin").body.deviceRecord);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const forged = await api.call("POST", "/register", {
      body: { ...registration("erin").body, deviceRecord: encodeBase64url(bytes) },
    });
    expect(forged).toMatchObject({ status: 400, body: { code: "signature_invalid" } });
  });

  it("follows the registration mode: closed, and invite-only with a token", async () => {
    const closed = await start({ registration: { mode: "closed" } });
    expect(
      await closed.call("POST", "/register", { body: registration("alice").body }),
    ).toMatchObject({
      status: 403,
      body: { code: "forbidden" },
    });

    const inviteOnly = await start({ registration: { mode: "invite-only" } });
    expect(
      (await inviteOnly.call("POST", "/register", { body: registration("alice").body })).status,
    ).toBe(403);
    const token = "welcome-to-parley";
    const tokenHash = createHash("sha256").update("parley invite token\0").update(token).digest();
    await inviteOnly.storage.accounts.createInviteToken({
      tokenHash: new Uint8Array(tokenHash),
      usesLeft: 1,
      expiresAtMs: null,
      createdAtMs: Date.now(),
    });
    const invited = await inviteOnly.call("POST", "/register", {
      body: { ...registration("alice").body, inviteToken: token },
    });
    expect(invited.status).toBe(200);
    const usedUp = await inviteOnly.call("POST", "/register", {
      body: { ...registration("bob").body, inviteToken: token },
    });
    expect(usedUp).toMatchObject({ status: 403, body: { code: "forbidden" } });
  });
});

describe("login", () => {
  it("adds a new device, resumes a known one, and answers wrong passwords like unknown users", async () => {
    const api = await start();
    const first = registration("alice");
    await api.call("POST", "/register", { body: first.body });
    const second = registration("alice");
    const login = await api.call("POST", "/login", { body: second.body });
    expect(login).toMatchObject({ status: 200, body: { deviceId: second.device.deviceId } });
    const resumed = await api.call("POST", "/login", { body: first.body });
    expect(resumed).toMatchObject({ status: 200, body: { deviceId: first.device.deviceId } });
    const devices = await api.call("GET", "/devices", { token: String(login.body.accessToken) });
    expect((devices.body.devices as unknown[]).length).toBe(2);

    const wrong = await api.call("POST", "/login", {
      body: { ...first.body, password: "not the password" },
    });
    const unknown = await api.call("POST", "/login", { body: registration("nobody").body });
    expect(wrong).toEqual({
      status: 401,
      body: { code: "unauthorized", message: "wrong user name or password" },
    });
    expect(unknown).toEqual(wrong);
  });

  it("refuses another user's device key", async () => {
    const api = await start();
    const alice = registration("alice");
    await api.call("POST", "/register", { body: alice.body });
    await api.call("POST", "/register", { body: registration("bob").body });
    const user = makeUserId("bob", parseServerName(serverName));
    const stolen = deviceRecordRequest(alice.device, user, { nowMs: Date.now() });
    const response = await api.call("POST", "/login", {
      body: { userName: "bob", password: "a long enough password", deviceRecord: stolen },
    });
    expect(response).toMatchObject({ status: 409, body: { code: "user_mismatch" } });
  });
});

describe("sessions by signed challenge", () => {
  it("opens a session once per challenge, only with a signature for this server", async () => {
    const api = await start();
    const { device, body } = registration("alice");
    await api.call("POST", "/register", { body });
    const proof = await challengeSignature(api, device);
    const opened = await api.call("POST", "/session", { body: proof });
    expect(opened).toMatchObject({ status: 200, body: { userId: `alice@${serverName}` } });
    expect(
      (await api.call("GET", "/devices", { token: String(opened.body.accessToken) })).status,
    ).toBe(200);

    const replayed = await api.call("POST", "/session", { body: proof });
    expect(replayed).toMatchObject({ status: 401, body: { code: "unauthorized" } });

    const elsewhere = await challengeSignature(api, device, "other.test");
    expect((await api.call("POST", "/session", { body: elsewhere })).status).toBe(401);
  });

  it("lets challenges expire after a minute", async () => {
    const api = await start();
    const { device, body } = registration("alice");
    await api.call("POST", "/register", { body });
    const proof = await challengeSignature(api, device);
    api.advanceMs(61_000);
    expect((await api.call("POST", "/session", { body: proof })).status).toBe(401);
  });
});

describe("logout and revocation", () => {
  it("ends a session at logout and every session of a revoked device", async () => {
    const api = await start();
    const first = registration("alice");
    const firstGrant = await api.call("POST", "/register", { body: first.body });
    const secondGrant = await api.call("POST", "/login", { body: registration("alice").body });
    const firstToken = String(firstGrant.body.accessToken);
    const secondToken = String(secondGrant.body.accessToken);

    expect((await api.call("POST", "/logout", { token: secondToken })).status).toBe(200);
    expect((await api.call("GET", "/devices", { token: secondToken })).status).toBe(401);

    const revokeSelf = await api.call("DELETE", `/devices/${first.device.deviceId}`, {
      token: firstToken,
    });
    expect(revokeSelf.status).toBe(200);
    expect((await api.call("GET", "/devices", { token: firstToken })).status).toBe(401);
    const again = await api.call("POST", "/login", { body: first.body });
    expect(again).toMatchObject({ status: 403, body: { code: "device_revoked" } });
  });

  it("does not let a user revoke someone else's device", async () => {
    const api = await start();
    const alice = await api.call("POST", "/register", { body: registration("alice").body });
    const bob = registration("bob");
    await api.call("POST", "/register", { body: bob.body });
    const response = await api.call("DELETE", `/devices/${bob.device.deviceId}`, {
      token: String(alice.body.accessToken),
    });
    expect(response).toMatchObject({ status: 404, body: { code: "not_found" } });
  });
});

describe("rate limits", () => {
  it("answers rate_limited with retryAfterMs and Retry-After, per address and per device", async () => {
    const api = await start({
      rateLimits: {
        deviceRequestsPerSecond: 1,
        addressRequestsPerSecond: 1000,
        authenticationAttemptsPerMinute: 2,
      },
    });
    const grant = await api.call("POST", "/register", { body: registration("alice").body });
    await api.call("POST", "/register", { body: registration("bob").body });
    const third = await api.call("POST", "/register", { body: registration("carol").body });
    expect(third).toMatchObject({ status: 429, body: { code: "rate_limited" } });
    expect(third.body.retryAfterMs).toBeGreaterThan(0);

    const token = String(grant.body.accessToken);
    await api.call("GET", "/devices", { token });
    await api.call("GET", "/devices", { token });
    const response = await api.app.inject({
      method: "GET",
      url: "/_parley/client/v1/devices",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(429);
    expect(Number(response.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  });
});

describe("secrets and logs", () => {
  it("never writes passwords, tokens or keys to the log, even at trace level", async () => {
    const api = await start();
    const password = "correct horse battery staple";
    const { device, body } = registration("alice", password);
    const grant = await api.call("POST", "/register", { body });
    const token = String(grant.body.accessToken);
    await api.call("POST", "/login", { body: { ...body, password: "wrong password here" } });
    await api.call("GET", "/devices", { token });
    await api.call("GET", "/devices", { token: "not-a-real-token-at-all" });
    await api.call("POST", "/register", { rawBody: `{"password":"${password}",` });
    const log = api.logLines.join("");
    expect(api.logLines.length).toBeGreaterThan(0);
    for (const secret of [
      password,
      token,
      encodeBase64url(device.keyPair.secretSeed),
      Buffer.from(device.keyPair.secretSeed).toString("hex"),
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
