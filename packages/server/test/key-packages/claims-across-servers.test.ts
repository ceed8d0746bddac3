// What a peer hands out in a KeyPackage claim is checked before a client sees
// it (docs/protocol.md §10.12): packages whose credential names someone else,
// packages for users not asked, and a peer that cannot answer.

import { newDevice } from "@parley/cli/client";
import type { KeyPackageClaimResultFrame } from "@parley/federation";
import { createMlsCrypto, generateKeyPackages } from "@parley/mls";
import {
  makeUserId,
  ParleyError,
  parseServerName,
  type ServerName,
  type UserId,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterEach, describe, expect, it } from "vitest";
import { claimAcrossServers } from "../../src/key-packages/claims-across-servers.ts";
import { KeyPackageService } from "../../src/key-packages/key-package-service.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { Storage } from "../../src/storage/storage.ts";

const here = parseServerName("here.test");
const peer = parseServerName("peer.test");
const blockedPeer = parseServerName("blocked.test");
const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((storage) => storage.close()));
});

async function service(): Promise<KeyPackageService> {
  const storage = await openStorage({ kind: "sqlite", path: ":memory:" });
  opened.push(storage);
  await storage.migrations.migrateToLatest();
  return new KeyPackageService({
    storage,
    signatureProvider: nodeSignatureProvider,
    nowMs: () => Date.now(),
  });
}

/** A real KeyPackage of a fresh device of `user`. */
async function packageOf(user: UserId) {
  const crypto = await createMlsCrypto({ signatureProvider: nodeSignatureProvider });
  const device = newDevice();
  const batch = await generateKeyPackages(
    crypto,
    { user, keyPair: device.keyPair },
    { count: 1, nowMs: Date.now() },
  );
  const bundle = batch.oneTime[0];
  if (bundle === undefined) throw new Error("no package generated");
  return { device: device.deviceId, keyPackage: bundle.keyPackage };
}

describe("claims across servers", () => {
  it("keeps a peer's valid packages and drops forged or unasked ones", async () => {
    const bob = makeUserId("bob", peer);
    const carol = makeUserId("carol", peer);
    const mallory = makeUserId("mallory", peer);
    const good = await packageOf(bob);
    const carolsReal = await packageOf(carol);
    const unasked = await packageOf(mallory);
    const answer = (requestId: number): KeyPackageClaimResultFrame => ({
      type: "key-package-claim-result",
      requestId,
      packages: [
        { user: bob, ...good, lastResort: false },
        // Carol's package handed out as another device of hers: the credential disagrees.
        { user: carol, device: good.device, keyPackage: carolsReal.keyPackage, lastResort: false },
        // Right user and device, but claimed to be a last-resort package.
        { user: carol, ...carolsReal, lastResort: true },
        { user: mallory, ...unasked, lastResort: false },
      ],
      failures: [],
    });
    const asked: Array<[ServerName, readonly UserId[]]> = [];
    const result = await claimAcrossServers(
      {
        service: await service(),
        async claimRemote(server, users) {
          asked.push([server, users]);
          if (server === peer) return answer(1);
          throw new ParleyError("unavailable", `${server} did not answer in time`);
        },
        localServer: here,
        isBlocked: (server) => server === blockedPeer,
        logger: createLogger("silent"),
      },
      [
        bob,
        carol,
        makeUserId("dan", blockedPeer),
        makeUserId("erin", parseServerName("gone.test")),
      ],
    );
    expect(asked.map(([server]) => server).sort()).toEqual(["gone.test", "peer.test"]);
    expect(result.packages).toEqual([
      { userId: bob, deviceId: good.device, keyPackage: good.keyPackage, lastResort: false },
    ]);
    expect(result.failures.map((failure) => [failure.userId, failure.code])).toEqual([
      [carol, "unavailable"],
      [`dan@${blockedPeer}`, "forbidden"],
      [`erin@gone.test`, "unavailable"],
    ]);
  });
});
