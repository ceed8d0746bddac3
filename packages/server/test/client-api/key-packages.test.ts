// KeyPackages through the client routes (Fastify inject, in-memory SQLite):
// a device publishes and counts its own, others claim them one device at a
// time, and bad packages are refused with their codes.

import { type Device, deviceRecordRequest, newDevice } from "@parley/cli/client";
import { createMlsCrypto, generateKeyPackages, type MlsCrypto } from "@parley/mls";
import { decodeBase64url, encodeBase64url, makeUserId, parseServerName } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type InProcessApi, registration, serverName, startInProcess } from "./in-process.ts";

const running: InProcessApi[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((api) => api.close()));
});

let crypto: MlsCrypto;
beforeAll(async () => {
  crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
});

const server = parseServerName(serverName);
const password = "a long enough password";

interface ClaimAnswer {
  readonly packages: readonly {
    readonly userId: string;
    readonly deviceId: string;
    readonly keyPackage: string;
    readonly lastResort: boolean;
  }[];
  readonly failures: readonly unknown[];
}

interface Session {
  readonly device: Device;
  readonly token: string;
  readonly userName: string;
}

async function register(api: InProcessApi, userName: string): Promise<Session> {
  const { device, body } = registration(userName, password);
  const response = await api.call("POST", "/register", { body });
  expect(response.status).toBe(200);
  return { device, token: String(response.body.accessToken), userName };
}

async function loginNewDevice(api: InProcessApi, userName: string): Promise<Session> {
  const device = newDevice();
  const deviceRecord = deviceRecordRequest(device, makeUserId(userName, server), {
    nowMs: Date.now(),
  });
  const response = await api.call("POST", "/login", {
    body: { userName, password, deviceRecord },
  });
  expect(response.status).toBe(200);
  return { device, token: String(response.body.accessToken), userName };
}

async function packagesOf(session: Session, count: number, nowMs = Date.now()) {
  const batch = await generateKeyPackages(
    crypto,
    { user: makeUserId(session.userName, server), keyPair: session.device.keyPair },
    { count, nowMs },
  );
  return {
    oneTime: batch.oneTime.map((bundle) => encodeBase64url(bundle.keyPackage)),
    lastResort: encodeBase64url(batch.lastResort.keyPackage),
  };
}

async function start(): Promise<InProcessApi> {
  const api = await startInProcess();
  running.push(api);
  return api;
}

describe("KeyPackages", () => {
  it("a device publishes and counts its own; others claim one per device, one-time first", async () => {
    const api = await start();
    const phone = await register(api, "alice");
    const laptop = await loginNewDevice(api, "alice");
    const bob = await register(api, "bob");
    const phonePackages = await packagesOf(phone, 2);
    const published = await api.call("POST", "/key-packages", {
      token: phone.token,
      body: phonePackages,
    });
    expect(published).toEqual({
      status: 200,
      body: { oneTimeAdded: 2, oneTime: 2, lastResort: true },
    });
    expect((await api.call("GET", "/key-packages", { token: laptop.token })).body).toEqual({
      oneTime: 0,
      lastResort: false,
    });
    const laptopPackages = await packagesOf(laptop, 0);
    await api.call("POST", "/key-packages", { token: laptop.token, body: laptopPackages });

    const claims: ClaimAnswer[] = [];
    for (let round = 0; round < 3; round += 1) {
      const claimed = await api.call("POST", "/key-packages/claim", {
        token: bob.token,
        body: { users: [`alice@${serverName}`, `carol@${serverName}`, "dave@elsewhere.example"] },
      });
      expect(claimed.status).toBe(200);
      claims.push(claimed.body as unknown as ClaimAnswer);
    }
    const phoneClaims = claims.map((body) =>
      body.packages.find((one) => one.deviceId === phone.device.deviceId),
    );
    // Packages published together are handed out in no particular order.
    expect(
      phoneClaims
        .slice(0, 2)
        .map((one) => one?.keyPackage)
        .sort(),
    ).toEqual([...phonePackages.oneTime].sort());
    expect(phoneClaims[2]?.keyPackage).toBe(phonePackages.lastResort);
    expect(phoneClaims.map((one) => one?.lastResort)).toEqual([false, false, true]);
    expect(claims[0]?.packages).toContainEqual({
      userId: `alice@${serverName}`,
      deviceId: laptop.device.deviceId,
      keyPackage: laptopPackages.lastResort,
      lastResort: true,
    });
    expect(claims[0]?.failures).toEqual([
      { userId: `carol@${serverName}`, code: "not_found", message: expect.any(String) },
      { userId: "dave@elsewhere.example", code: "unavailable", message: expect.any(String) },
    ]);
    expect((await api.call("GET", "/key-packages", { token: phone.token })).body).toEqual({
      oneTime: 0,
      lastResort: true,
    });
  });

  it("refuses packages of another device, in the wrong slot, tampered, or expired", async () => {
    const api = await start();
    const alice = await register(api, "alice");
    const bob = await register(api, "bob");
    const alicePackages = await packagesOf(alice, 1);
    const codeOf = async (token: string, body: unknown) => {
      const response = await api.call("POST", "/key-packages", { token, body });
      return response.body.code;
    };
    expect(await codeOf(bob.token, alicePackages)).toBe("forbidden");
    expect(await codeOf(alice.token, { oneTime: [alicePackages.lastResort] })).toBe(
      "mls_key_package_invalid",
    );
    expect(await codeOf(alice.token, { oneTime: [], lastResort: alicePackages.oneTime[0] })).toBe(
      "mls_key_package_invalid",
    );
    const tampered = decodeBase64url(alicePackages.oneTime[0] ?? "");
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] ?? 0) ^ 1;
    expect(await codeOf(alice.token, { oneTime: [encodeBase64url(tampered)] })).toBe(
      "mls_key_package_invalid",
    );
    expect(await codeOf(alice.token, { oneTime: ["AAAA"] })).toBe("mls_malformed");
    expect(await codeOf(alice.token, { oneTime: [], extra: 1 })).toBe("bad_structure");
    // Nothing of a refused upload was stored.
    expect((await api.call("GET", "/key-packages", { token: alice.token })).body).toEqual({
      oneTime: 0,
      lastResort: false,
    });
    const expired = await packagesOf(alice, 1, Date.now() - 92 * 24 * 60 * 60 * 1000);
    expect(await codeOf(alice.token, expired)).toBe("mls_key_package_invalid");
  });

  it("bounds a claim's users and needs a session", async () => {
    const api = await start();
    const bob = await register(api, "bob");
    const users = Array.from({ length: 101 }, (_, index) => `user${index}@${serverName}`);
    const tooMany = await api.call("POST", "/key-packages/claim", {
      token: bob.token,
      body: { users },
    });
    expect(tooMany.body.code).toBe("bad_structure");
    const anonymous = await api.call("POST", "/key-packages/claim", {
      body: { users: [`bob@${serverName}`] },
    });
    expect(anonymous.body.code).toBe("unauthorized");
  });
});
