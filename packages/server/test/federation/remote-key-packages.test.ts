// KeyPackage claims across servers (docs/protocol.md §10.12, §12.2.2): a
// device on A claims KeyPackages of a user of B through its own server, which
// asks B over their WebSocket link. B hands out each one-time package once and
// then keeps handing out the last-resort one; with B gone, A answers the
// claim `unavailable` after its timeout instead of hanging.

import { newDevice, ParleyClient } from "@parley/cli/client";
import { createMlsCrypto, generateKeyPackages } from "@parley/mls";
import { encodeBase64url, makeUserId, parseServerName } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { HomeserverProcess } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The first claim also dials the link (key document fetch, handshake): on a
// loaded two-core CI machine that took over 2 s, so the test allows what the
// default allows.
const claimTimeoutMs = 10_000;
let first: HomeserverProcess;
let second: HomeserverProcess;
const password = "correct horse battery staple";

beforeAll(async () => {
  first = await HomeserverProcess.start({
    environment: {
      PARLEY_FEDERATION_TICK_INTERVAL_MS: "20",
      PARLEY_FEDERATION_KEY_PACKAGE_CLAIM_TIMEOUT_MS: String(claimTimeoutMs),
    },
  });
  second = await HomeserverProcess.start({
    environment: { PARLEY_FEDERATION_TICK_INTERVAL_MS: "20" },
  });
});

afterAll(async () => {
  await first?.dispose();
  await second?.dispose();
});

interface ClaimAnswer {
  readonly packages: ReadonlyArray<{
    readonly userId: string;
    readonly deviceId: string;
    readonly keyPackage: string;
    readonly lastResort: boolean;
  }>;
  readonly failures: ReadonlyArray<{ readonly userId: string; readonly code: string }>;
}

async function signUp(server: HomeserverProcess, name: string) {
  const device = newDevice();
  const client = new ParleyClient({ baseUrl: server.url, serverName: server.serverName, device });
  await client.register(name, password);
  return { client, device };
}

describe("KeyPackage claims from another server", () => {
  it("claims a remote user's packages over the link: one-time once, then the last resort, kept", async () => {
    const crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
    const alice = await signUp(first, "alice");
    const bob = await signUp(second, "bob");
    const bobId = makeUserId("bob", parseServerName(second.serverName));
    const batch = await generateKeyPackages(
      crypto,
      { user: bobId, keyPair: bob.device.keyPair },
      { count: 1, nowMs: Date.now() },
    );
    const oneTime = batch.oneTime.map((bundle) => encodeBase64url(bundle.keyPackage));
    const lastResort = encodeBase64url(batch.lastResort.keyPackage);
    await bob.client.request("POST", "/key-packages", { oneTime, lastResort });

    const claim = (users: string[]) =>
      alice.client.request<ClaimAnswer>("POST", "/key-packages/claim", { users });
    const nobody = `carol@${second.serverName}`;
    const firstClaim = await claim([bobId, nobody]);
    expect(firstClaim.packages).toEqual([
      { userId: bobId, deviceId: bob.device.deviceId, keyPackage: oneTime[0], lastResort: false },
    ]);
    expect(firstClaim.failures.map((failure) => [failure.userId, failure.code])).toEqual([
      [nobody, "not_found"],
    ]);
    for (let claimNumber = 0; claimNumber < 2; claimNumber += 1) {
      const again = await claim([bobId]);
      expect(again.packages).toEqual([
        { userId: bobId, deviceId: bob.device.deviceId, keyPackage: lastResort, lastResort: true },
      ]);
    }
    // Bob's server spent the one-time package: Bob sees only his last resort left.
    expect(await bob.client.request("GET", "/key-packages")).toEqual({
      oneTime: 0,
      lastResort: true,
    });
  });

  it("answers unavailable within its timeout when the other server is gone", async () => {
    const alice = await signUp(first, "alice2");
    const bobId = makeUserId("bob", parseServerName(second.serverName));
    await second.stop();
    const started = Date.now();
    const answer = await alice.client.request<ClaimAnswer>("POST", "/key-packages/claim", {
      users: [bobId],
    });
    const tookMs = Date.now() - started;
    expect(answer.packages).toEqual([]);
    expect(answer.failures.map((failure) => [failure.userId, failure.code])).toEqual([
      [bobId, "unavailable"],
    ]);
    expect(tookMs).toBeGreaterThanOrEqual(claimTimeoutMs - 100);
  });
});
